import {Flags} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import {formatFlag} from '../../flags.js'
import type {AddonListing} from '../../services/listing.js'

export default class AddonsList extends BaseCommand {
  static override description = 'List the addons available on this architecture, from every repository.'

  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --repo core --format yaml',
    '<%= config.bin %> <%= command.id %> --json',
  ]

  static override flags = {
    format: formatFlag(['table', 'json', 'yaml'], 'table'),
    repo: Flags.string({description: 'only list addons of this repository'}),
  }

  public async run(): Promise<AddonListing[]> {
    const {flags} = await this.parse(AddonsList)
    const [{listAddons}, {formatList}] = await Promise.all([
      import('../../services/listing.js'),
      import('../../output/format.js'),
    ])
    const {addons, warnings} = await listAddons({repository: flags.repo})
    for (const warning of warnings) this.notice(warning)
    this.log(
      formatList(addons, flags.format as 'json' | 'table' | 'yaml', [
        {header: 'ADDON', value: (a) => `${a.repository}/${a.name}`},
        {header: 'VERSION', value: (a) => a.version || '-'},
        {header: 'KIND', value: (a) => a.kind},
        {header: 'ARCHITECTURES', value: (a) => a.architectures.join(',')},
        {header: 'DESCRIPTION', value: (a) => a.description},
      ]),
    )
    return addons
  }
}
