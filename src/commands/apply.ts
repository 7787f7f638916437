import {Flags} from '@oclif/core'

import {BaseCommand} from '../base-command.js'
import {agentFlags, changeFlags, clusterFlags, hookFlags, parseDuration, waitFlags} from '../flags.js'
import type {ApplyResult} from '../services/apply.js'

export default class Apply extends BaseCommand {
  static override description = `Converge the cluster to files: repositories, addons with their options, and node arguments.

The files are mk8s files (apiVersion: mk8s.io/v1, kind: ClusterAddons) or MicroK8s launch configurations (version
0.1.0 to 0.2.0), each document a part applied in order. mk8s prints the plan, then, under one lock, adds or replaces
repositories, enables missing addons (requirements first), re-applies those whose options or version changed,
disables those marked disabled (with --prune, also enabled addons no file lists), and sets node arguments on every
node whose value differs. A second run with the same files changes nothing. Exit codes: 0 converged, 1 a step
failed (the others are still applied and reported), 2 an invalid file (nothing applied).`

  static override examples = [
    '<%= config.bin %> <%= command.id %> -f cluster.yaml',
    '<%= config.bin %> <%= command.id %> -f cluster.yaml --dry-run',
    '<%= config.bin %> <%= command.id %> -f clusters/ --prune --json',
    'cat /etc/microk8s.yaml | <%= config.bin %> <%= command.id %> -f - --strict',
  ]

  static override flags = {
    ...clusterFlags,
    ...agentFlags,
    ...hookFlags,
    'dry-run': Flags.boolean({description: 'print the plan only: read the cluster and the nodes, change nothing'}),
    filename: Flags.string({
      char: 'f',
      description: 'an mk8s file or launch configuration, a folder of them, or - for standard input; repeatable',
      helpValue: 'FILE|DIR|-',
      multiple: true,
      required: true,
    }),
    'force-conflicts': changeFlags['force-conflicts'],
    'no-wait': changeFlags['no-wait'],
    prune: Flags.boolean({description: 'also disable enabled addons that no file lists and no listed addon requires'}),
    strict: Flags.boolean({description: 'refuse launch-configuration fields only a MicroK8s node can apply to itself'}),
    timeout: changeFlags.timeout,
    ...waitFlags,
  }

  public async run(): Promise<ApplyResult> {
    const {flags} = await this.parse(Apply)
    const [{loadDesiredState}, {ApplyService}, {fleetOf, hooksOf, openSession}, {RepoService}, {AddonCatalog}, output] =
      await Promise.all([
        import('../apply/desired-state.js'),
        import('../services/apply.js'),
        import('../services/session.js'),
        import('../services/repos.js'),
        import('../addons/catalog.js'),
        import('../output/apply-result.js'),
      ])
    const timeoutMs = parseDuration(flags.timeout)
    // An invalid file is found before the cluster is asked anything.
    const parts = await loadDesiredState(flags.filename)
    const session = await openSession({...flags, timeoutMs})
    try {
      const service = new ApplyService({
        client: session.client,
        cluster: session.cluster,
        fleet: fleetOf(session, flags, parseDuration(flags['agent-timeout'], '--agent-timeout')),
        hooks: hooksOf(flags, this.jsonEnabled()),
        loadCatalog: () => AddonCatalog.load(),
        reporter: await this.reporter(),
        repos: new RepoService(),
      })
      const result = await service.apply(parts, {
        dryRun: flags['dry-run'],
        forceConflicts: flags['force-conflicts'],
        prune: flags.prune,
        strict: flags.strict,
        timeoutMs,
        wait: !flags['no-wait'],
        waitServed: flags.wait === 'full',
      })
      if (!this.jsonEnabled()) output.printApplyResult(result, flags.filename, (line) => this.log(line))
      const failure = output.applyFailure(result)
      if (failure) throw failure
      return result
    } finally {
      session.close()
    }
  }
}
