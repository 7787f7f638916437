import {Args} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'

export default class Completion extends BaseCommand {
  static override args = {
    shell: Args.string({default: 'bash', description: 'shell to complete in', options: ['bash', 'zsh']}),
  }

  static override description = `Print a shell completion script: commands, flags and addon names complete on <TAB>.

The script asks mk8s itself for the candidates, so new commands, flags and addons of added repositories complete
without regenerating it.`

  static override examples = [
    '<%= config.bin %> <%= command.id %> bash > /etc/bash_completion.d/mk8s',
    "echo 'source <(<%= config.bin %> <%= command.id %> bash)' >> ~/.bashrc",
    "echo 'source <(<%= config.bin %> <%= command.id %> zsh)' >> ~/.zshrc",
  ]

  public async run(): Promise<{script: string; shell: string}> {
    const {args} = await this.parse(Completion)
    const {completionScript} = await import('../../output/completion.js')
    const script = completionScript(this.config.bin, args.shell as 'bash' | 'zsh')
    this.log(script)
    return {script, shell: args.shell}
  }
}
