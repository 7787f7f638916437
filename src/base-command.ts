import {Command, Errors} from '@oclif/core'

import {EXIT, type Problem, isUserError} from './errors.js'
import {ownFlagsFirst} from './flags.js'
import {type Reporter, quietReporter} from './services/progress.js'

/** The --json envelope's error: enough for a pipeline to branch on, never a stack trace. */
export interface ErrorJson {
  exitCode: number
  message: string
  name: string
  problems: Problem[]
}

/**
 * What every mk8s command shares: `--json` with one envelope on stdout, success or failure; notices that go to
 * stderr as text or into the envelope's warnings; one clear message for user errors and a stack trace only for bugs.
 */
export abstract class BaseCommand extends Command {
  static override enableJsonFlag = true

  private readonly warnings: string[] = []

  /** A line beside the result: stderr as text, the envelope's `warnings` with --json. */
  protected notice(line: string): void {
    if (this.jsonEnabled()) this.warnings.push(line)
    else this.logToStderr(line)
  }

  /** How services show progress: listr2 or plain lines as text; nothing but warnings with --json. */
  protected async reporter(): Promise<Reporter> {
    if (this.jsonEnabled()) return quietReporter((line) => this.notice(line))
    const {chooseReporter} = await import('./output/reporters.js')
    return chooseReporter(
      (line) => this.log(line),
      (line) => this.notice(line),
    )
  }

  /** The command line with the addon's own flags behind `--` (see ownFlagsFirst). */
  protected addonArgv(): string[] {
    const command = this.constructor as unknown as {flags?: Record<string, {char?: string; type: string}>}
    return ownFlagsFirst(this.argv, command.flags ?? {})
  }

  /**
   * MicroK8s answers `-h`/`--help` among the addons with the addon's help and does nothing else: the help is printed
   * and returned (the --json result), or undefined when the tokens do not ask for it.
   */
  protected async addonHelp(tokens: string[]): Promise<undefined | {help: string}> {
    const help = await import('./addons/help.js')
    if (!help.asksForHelp(tokens)) return undefined
    const {AddonCatalog} = await import('./addons/catalog.js')
    const text = await help.addonHelp(await AddonCatalog.load(), tokens)
    this.log(text)
    return {help: text}
  }

  /** The exit code an error ends the command with; `diff` maps every error above 1, as `kubectl diff` does. */
  protected exitCodeOf(error: unknown): number {
    if (isUserError(error)) return error.exitCode
    return isParseError(error) ? EXIT.usage : EXIT.failed
  }

  override toSuccessJson(result: unknown): unknown {
    return {result, status: 'ok', warnings: this.warnings}
  }

  override toErrorJson(error: unknown): unknown {
    const failure = error as Error
    const json: ErrorJson = {
      exitCode: this.exitCodeOf(error),
      message: failure.message,
      name: isUserError(error) ? error.name : isParseError(error) ? 'UsageError' : 'BugError',
      problems: isUserError(error) ? error.problems : [],
    }
    const result = isUserError(error) ? error.result : undefined
    return {error: json, ...(result === undefined ? {} : {result}), status: 'failed', warnings: this.warnings}
  }

  protected override async catch(error: Error & {exitCode?: number; oclif?: {exit?: number}}): Promise<unknown> {
    // this.exit() inside a command is not a failure to report.
    if (error instanceof Errors.ExitError) throw error
    process.exitCode = this.exitCodeOf(error)
    if (this.jsonEnabled()) {
      this.logJson(this.toErrorJson(error))
      // A bug still shows its stack, on stderr, so that stdout stays one document.
      if (!isUserError(error) && !isParseError(error)) process.stderr.write(`${error.stack}\n`)
      return
    }

    if (isUserError(error)) {
      this.logToStderr(error.message)
      for (const suggestion of error.suggestions) this.logToStderr(suggestion)
      return
    }

    // oclif prints its own parse errors (exit 2) and a bug's stack trace (exit 1).
    if (isParseError(error)) error.oclif = {...error.oclif, exit: process.exitCode}
    return super.catch(error)
  }
}

/** oclif's own errors for a bad command line: unknown flags, missing arguments, values not among the options. */
function isParseError(error: unknown): error is Errors.CLIError {
  return error instanceof Errors.CLIError && 'parse' in error
}
