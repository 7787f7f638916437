import {Args} from '@oclif/core'

import {BaseCommand} from '../../../base-command.js'

export default class AddonsRepoUpdate extends BaseCommand {
  static override args = {
    name: Args.string({description: 'repository to update', required: true}),
  }

  static override description = `Update an addon repository with git pull.

The new commit is validated; when it is invalid the repository is rolled back to the commit it had.`

  static override examples = ['<%= config.bin %> <%= command.id %> myrepo']

  public async run(): Promise<{from: string; name: string; to: string}> {
    const {args} = await this.parse(AddonsRepoUpdate)
    const {RepoService} = await import('../../../services/repos.js')
    this.log(`Updating repository ${args.name}`)
    const {from, to} = await new RepoService().update({name: args.name})
    this.log(
      from === to
        ? `Repository ${args.name} is up to date`
        : `Updated ${args.name} from ${from.slice(0, 7)} to ${to.slice(0, 7)}`,
    )
    return {from, name: args.name, to}
  }
}
