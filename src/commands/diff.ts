import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../base-command.js'
import {UsageError} from '../errors.js'
import {agentFlags, clusterFlags, parseDuration, renderFlags} from '../flags.js'
import type {ApplyDiff} from '../services/apply.js'
import type {DiffResult} from '../services/diff.js'

/** kubectl diff's codes: 0 no changes, 1 changes, above 1 an error. */
const DIFF_ERROR = 2

export default class Diff extends BaseCommand {
  static override args = {
    addon: Args.string({description: 'addon to compare: name, repo/name or name:arg1:arg2 (or -f FILE)'}),
  }

  static override description = `Show what enabling an addon, or applying files, would change on the cluster, without changing it.

Each rendered object is server-side applied as a dry run and compared with the live object. With -f, the plan of
\`mk8s apply -f\` is shown as a diff: objects of the addons it would enable or re-apply, objects of those it would
disable, and each node's flags. Exits 0 when nothing would change, 1 when something would, and 2 on an error, as
kubectl diff does. (-f names apply files here, as in kubectl diff; options files are --values.)`

  static override examples = [
    '<%= config.bin %> <%= command.id %> dns',
    '<%= config.bin %> <%= command.id %> dns:1.1.1.1',
    '<%= config.bin %> <%= command.id %> dns --json',
    '<%= config.bin %> <%= command.id %> -f cluster.yaml',
  ]

  static override flags = {
    ...clusterFlags,
    ...renderFlags,
    ...agentFlags,
    filename: Flags.string({
      char: 'f',
      description: 'apply files to compare (as mk8s apply -f takes them)',
      helpValue: 'FILE|DIR|-',
      multiple: true,
    }),
    values: Flags.string({description: 'read addon options from a YAML file', helpValue: 'FILE', multiple: true}),
  }

  static override strict = false

  protected override exitCodeOf(error: unknown): number {
    return Math.max(DIFF_ERROR, super.exitCodeOf(error))
  }

  public async run(): Promise<ApplyDiff | Omit<DiffResult, 'notices'>> {
    const {argv, flags} = await this.parse(Diff, this.addonArgv())
    if (flags.filename && argv.length > 0) throw new UsageError('diff takes an addon or -f FILE, not both')
    if (!flags.filename && argv.length === 0) throw new UsageError('Missing an addon to compare (or -f FILE)')
    const [{openSession}, output] = await Promise.all([import('../services/session.js'), import('../output/diff.js')])
    const parts = flags.filename
      ? await (await import('../apply/desired-state.js')).loadDesiredState(flags.filename)
      : undefined
    const session = await openSession(flags)
    try {
      const log = (line: string) => this.log(line)
      if (parts) {
        const [{ApplyService}, {fleetOf}, {RepoService}, {AddonCatalog}, {quietReporter}] = await Promise.all([
          import('../services/apply.js'),
          import('../services/session.js'),
          import('../services/repos.js'),
          import('../addons/catalog.js'),
          import('../services/progress.js'),
        ])
        const service = new ApplyService({
          client: session.client,
          cluster: session.cluster,
          fleet: fleetOf(session, flags, parseDuration(flags['agent-timeout'], '--agent-timeout')),
          loadCatalog: () => AddonCatalog.load(),
          reporter: quietReporter((line) => this.notice(line)),
          repos: new RepoService(),
        })
        const result = await service.diff(parts, {timeoutMs: parseDuration('5m')})
        if (!this.jsonEnabled()) output.printApplyDiff(result, log)
        if (result.diffs.length > 0) process.exitCode = 1
        return result
      }

      const [{diffAddon}, {parseImageFlags}, {fleetOf}] = await Promise.all([
        import('../services/diff.js'),
        import('../render/images.js'),
        import('../services/session.js'),
      ])
      const {notices, ...result} = await diffAddon({
        ...session,
        fleet: fleetOf(session, flags, parseDuration(flags['agent-timeout'], '--agent-timeout')),
        imageOverrides: parseImageFlags(flags.image, flags['registry-mirror']),
        set: flags.set,
        tokens: argv as string[],
        valuesFiles: flags.values,
      })
      for (const notice of notices) this.notice(notice)
      if (!this.jsonEnabled()) output.printAddonDiff(result, log)
      if (result.changes.length > 0) process.exitCode = 1
      return result
    } finally {
      session.close()
    }
  }
}
