import {Command} from '@oclif/core'

import {isUserError} from './errors.js'

/** Prints user errors as one clear message without a stack trace; bugs keep theirs. */
export abstract class BaseCommand extends Command {
  /** MicroK8s answers `-h`/`--help` among the addons with the addon's help and does nothing else. */
  protected async answeredAddonHelp(tokens: string[]): Promise<boolean> {
    const help = await import('./core/addon-help.js')
    if (!help.asksForHelp(tokens)) return false
    const {AddonCatalog} = await import('./core/catalog.js')
    this.log(await help.addonHelp(await AddonCatalog.load(), tokens))
    return true
  }

  protected async catch(error: Error & {exitCode?: number; oclif?: {exit?: number}}): Promise<unknown> {
    if (isUserError(error)) {
      if (this.jsonEnabled() || this.argv.includes('--json')) {
        this.logJson({error: {message: error.message, name: error.name}, status: 'failed'})
        this.exit(error.exitCode)
      }

      this.logToStderr(error.message)
      for (const suggestion of error.suggestions) this.logToStderr(suggestion)
      this.exit(error.exitCode)
    }

    return super.catch(error)
  }
}
