import {Args} from '@oclif/core'

import {BaseCommand} from '../../../base-command.js'

export default class AddonsRepoRemove extends BaseCommand {
  static override args = {
    name: Args.string({description: 'repository to remove', required: true}),
  }

  static override description = 'Remove an addon repository.'

  static override examples = ['<%= config.bin %> <%= command.id %> myrepo']

  public async run(): Promise<{name: string}> {
    const {args} = await this.parse(AddonsRepoRemove)
    const {RepoService} = await import('../../../services/repos.js')
    await new RepoService().remove({name: args.name})
    this.log(`Removed repository ${args.name}`)
    return {name: args.name}
  }
}
