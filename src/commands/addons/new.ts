import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'

export default class AddonsNew extends BaseCommand {
  static override args = {
    name: Args.string({description: 'name of the new addon', required: true}),
  }

  static override description = `Scaffold a declarative addon that passes lint, and list it in the repository addons.yaml.

The addon.yaml it writes names mk8s's JSON Schema, so editors with the YAML language server complete and check it.`

  static override examples = [
    '<%= config.bin %> <%= command.id %> my-addon',
    '<%= config.bin %> <%= command.id %> my-addon --repo ./my-repo',
  ]

  static override flags = {
    repo: Flags.string({default: '.', description: 'repository directory to add the addon to'}),
  }

  public async run(): Promise<{dir: string; files: string[]}> {
    const {args, flags} = await this.parse(AddonsNew)
    const {scaffoldAddon} = await import('../../services/authoring.js')
    const {dir, files} = await scaffoldAddon({name: args.name, repo: flags.repo})
    this.log(`Created addon ${args.name} in ${dir}`)
    for (const file of files) this.log(`  ${file}`)
    this.log(`Check it with: ${this.config.bin} addons lint ${flags.repo}`)
    return {dir, files}
  }
}
