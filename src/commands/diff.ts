import {Args} from '@oclif/core'

import {BaseCommand} from '../base-command.js'
import {clusterFlags, renderFlags} from '../flags.js'

export default class Diff extends BaseCommand {
  static override args = {
    addon: Args.string({description: 'addon to compare: name, repo/name or name:arg1:arg2', required: true}),
  }

  static override description = `Show what enabling an addon would change on the cluster, without changing it.

Each rendered object is server-side applied as a dry run and compared with the live object. Exits 0 when nothing
would change and 1 when something would, as diff(1) does.`

  static override examples = ['<%= config.bin %> <%= command.id %> dns', '<%= config.bin %> <%= command.id %> dns:1.1.1.1']

  static override flags = {...clusterFlags, ...renderFlags}

  static override strict = false

  public async run(): Promise<void> {
    const {argv, flags} = await this.parse(Diff)
    const [{openSession}, {diffAddon}, {parseImageFlags}] = await Promise.all([
      import('../core/cluster-session.js'),
      import('../core/diff-service.js'),
      import('../render/images.js'),
    ])
    const session = await openSession(flags)
    try {
      const result = await diffAddon(session.client, session.catalog, session.cluster, {
        imageOverrides: parseImageFlags(flags.image, flags['registry-mirror']),
        set: flags.set,
        tokens: argv as string[],
        valuesFiles: flags.values,
      })
      for (const notice of result.notices) this.logToStderr(notice)
      for (const change of result.changes) {
        if (change.change === 'prune') this.log(`- ${change.ref.kind} ${change.ref.namespace ? `${change.ref.namespace}/` : ''}${change.ref.name} would be pruned`)
        else this.log(change.patch!.replace(/^=+\n/m, '').replaceAll(/\t$/gm, '').trimEnd())
      }

      this.log(`${result.addon}: ${result.changes.length} to change, ${result.unchanged} unchanged`)
      if (result.changes.length > 0) process.exitCode = 1
    } finally {
      session.client.close()
    }
  }
}
