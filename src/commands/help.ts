import {Args, Flags, Help as OclifHelp} from '@oclif/core'

import {BaseCommand} from '../base-command.js'

/** oclif's help, kept as text instead of printed, so that `--json` can carry it like any other result. */
class HelpText extends OclifHelp {
  readonly lines: string[] = []

  protected override log(...args: string[]): void {
    this.lines.push(args.join(' '))
  }
}

/**
 * `mk8s help [COMMAND]`: what `--help` prints. A command of ours rather than @oclif/plugin-help's: a plugin is a package
 * oclif reads (its package.json and manifest) at every start of every command.
 */
export default class Help extends BaseCommand {
  static override args = {
    command: Args.string({description: 'command to show help for', required: false}),
  }

  static override description = 'Display help for <%= config.bin %>.'

  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> nodes args set',
    '<%= config.bin %> <%= command.id %> --nested-commands',
  ]

  static override flags = {
    'nested-commands': Flags.boolean({char: 'n', description: 'include all nested commands in the output'}),
  }

  static override strict = false

  public async run(): Promise<{help: string}> {
    const {argv, flags} = await this.parse(Help)
    const help = new HelpText(this.config, {all: flags['nested-commands']})
    await help.showHelp(argv as string[])
    const text = help.lines.join('\n')
    this.log(text)
    return {help: text}
  }
}
