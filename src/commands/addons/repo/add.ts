import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../../base-command.js'
import type {RepositorySummary} from '../../../services/repos.js'

export default class AddonsRepoAdd extends BaseCommand {
  static override args = {
    name: Args.string({description: 'name to give the repository', required: true}),
    source: Args.string({description: 'git URL or local path to clone', required: true}),
  }

  static override description = 'Add an addon repository: clone it with git and validate every addon in it.'

  static override examples = [
    '<%= config.bin %> <%= command.id %> myrepo https://github.com/example/addons',
    '<%= config.bin %> <%= command.id %> myrepo ./my-addons --reference v1.2.0',
    '<%= config.bin %> <%= command.id %> myrepo https://github.com/example/addons --force',
  ]

  static override flags = {
    force: Flags.boolean({description: 'replace a repository of the same name'}),
    reference: Flags.string({description: 'branch or tag to check out'}),
  }

  public async run(): Promise<RepositorySummary> {
    const {args, flags} = await this.parse(AddonsRepoAdd)
    const {RepoService} = await import('../../../services/repos.js')
    const repo = await new RepoService().add({
      force: flags.force,
      name: args.name,
      reference: flags.reference,
      source: args.source,
    })
    this.log(`Added repository ${repo.name} (${repo.addons} addons) from ${repo.source}`)
    return repo
  }
}
