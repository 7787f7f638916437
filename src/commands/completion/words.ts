import {BaseCommand} from '../../base-command.js'

export default class CompletionWords extends BaseCommand {
  static override description = 'Print the completion candidates for a command line (used by the completion script).'

  static override examples = ['<%= config.bin %> <%= command.id %> -- enable ""']

  static override hidden = true

  static override strict = false

  public async run(): Promise<string[]> {
    const {argv} = await this.parse(CompletionWords)
    const {completionCandidates} = await import('../../services/completion.js')
    const words = argv as string[]
    const commands = this.config.commands
      .filter((command) => !command.hidden)
      .map((command) => ({
        argOptions: Object.values(command.args).flatMap((arg) => arg.options ?? []),
        flags: Object.entries(command.flags).map(([name, flag]) => ({char: flag.char, name})),
        id: command.id,
      }))
    const candidates = await completionCandidates({commands, current: words.at(-1) ?? '', previous: words.slice(0, -1)})
    this.log(candidates.join('\n'))
    return candidates
  }
}
