import {BaseCommand} from '../../../base-command.js'
import {formatFlag} from '../../../flags.js'
import type {RepositorySummary} from '../../../services/repos.js'

export default class AddonsRepoList extends BaseCommand {
  static override description = 'List addon repositories: name, addons for this architecture, source and description.'

  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --format json',
  ]

  static override flags = {
    format: formatFlag(['table', 'json', 'yaml'], 'table'),
  }

  public async run(): Promise<RepositorySummary[]> {
    const {flags} = await this.parse(AddonsRepoList)
    const [{RepoService}, {formatList}] = await Promise.all([
      import('../../../services/repos.js'),
      import('../../../output/format.js'),
    ])
    const {repositories, warnings} = await new RepoService().list()
    for (const warning of warnings) this.notice(warning)
    this.log(
      formatList(repositories, flags.format as 'json' | 'table' | 'yaml', [
        {header: 'REPO', value: (r) => r.name},
        {align: 'right', header: 'ADDONS', value: (r) => String(r.addons)},
        {header: 'SOURCE', value: (r) => r.source},
        {header: 'DESCRIPTION', value: (r) => r.description},
      ]),
    )
    return repositories
  }
}
