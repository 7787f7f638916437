import {Args} from '@oclif/core'

import {BaseCommand} from '../base-command.js'
import {clusterFlags, renderFlags} from '../flags.js'
import type {DiffResult} from '../services/diff.js'

/** kubectl diff's codes: 0 no changes, 1 changes, above 1 an error. */
const DIFF_ERROR = 2

export default class Diff extends BaseCommand {
  static override args = {
    addon: Args.string({description: 'addon to compare: name, repo/name or name:arg1:arg2', required: true}),
  }

  static override description = `Show what enabling an addon would change on the cluster, without changing it.

Each rendered object is server-side applied as a dry run and compared with the live object. Exits 0 when nothing
would change, 1 when something would, and 2 on an error, as kubectl diff does.`

  static override examples = [
    '<%= config.bin %> <%= command.id %> dns',
    '<%= config.bin %> <%= command.id %> dns:1.1.1.1',
    '<%= config.bin %> <%= command.id %> dns --json',
  ]

  static override flags = {...clusterFlags, ...renderFlags}

  static override strict = false

  protected override exitCodeOf(error: unknown): number {
    return Math.max(DIFF_ERROR, super.exitCodeOf(error))
  }

  public async run(): Promise<Omit<DiffResult, 'notices'>> {
    const {argv, flags} = await this.parse(Diff)
    const [{openSession}, {diffAddon}, {parseImageFlags}, {describeRef}] = await Promise.all([
      import('../services/session.js'),
      import('../services/diff.js'),
      import('../render/images.js'),
      import('../kube/types.js'),
    ])
    const session = await openSession(flags)
    try {
      const {notices, ...result} = await diffAddon({
        ...session,
        imageOverrides: parseImageFlags(flags.image, flags['registry-mirror']),
        set: flags.set,
        tokens: argv as string[],
        valuesFiles: flags.values,
      })
      for (const notice of notices) this.notice(notice)
      for (const change of result.changes) {
        if (change.change === 'prune') this.log(`- ${describeRef(change.ref)} would be pruned`)
        else this.log(change.patch!.replace(/^=+\n/m, '').replaceAll(/\t$/gm, '').trimEnd())
      }

      this.log(`${result.addon}: ${result.changes.length} to change, ${result.unchanged} unchanged`)
      if (result.changes.length > 0) process.exitCode = 1
      return result
    } finally {
      session.close()
    }
  }
}
