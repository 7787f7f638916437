import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../base-command.js'
import {changeFlags, clusterFlags, parseDuration, renderFlags} from '../flags.js'

export default class Enable extends BaseCommand {
  static override args = {
    addons: Args.string({description: 'addons to enable: name, repo/name, name:arg1:arg2, or one addon followed by its arguments', required: true}),
  }

  static override description = `Enable addons on the cluster of the current kubeconfig.

Requirements are enabled first. Objects are server-side applied in kind order and waited for until ready; a record of
exactly what was applied is kept in the cluster. Enabling again with the same version and options changes nothing.`

  static override examples = [
    '<%= config.bin %> <%= command.id %> dns',
    '<%= config.bin %> <%= command.id %> dns:1.1.1.1,8.8.8.8',
    '<%= config.bin %> <%= command.id %> core/dns --set clusterDomain=example.local --timeout 2m',
    '<%= config.bin %> <%= command.id %> dns --registry-mirror docker.io=mirror.local:5000 --json',
    '<%= config.bin %> <%= command.id %> dns --dry-run client',
  ]

  static override flags = {
    ...clusterFlags,
    ...changeFlags,
    ...renderFlags,
    json: Flags.boolean({description: 'print one JSON result and nothing else on stdout'}),
  }

  static override strict = false

  public async run(): Promise<void> {
    const {argv, flags} = await this.parse(Enable)
    const [{openSession}, {AddonService}, {chooseReporter}, {parseImageFlags}, {printChangeResult}] = await Promise.all([
      import('../core/cluster-session.js'),
      import('../core/addon-service.js'),
      import('../output/reporters.js'),
      import('../render/images.js'),
      import('../output/change-result.js'),
    ])
    if (await this.answeredAddonHelp(argv as string[])) return
    const timeoutMs = parseDuration(flags.timeout)
    const reporter = await chooseReporter(flags.json, (line) => this.log(line))
    const session = flags['dry-run'] === 'client' ? await offlineSession() : await openSession(flags)
    try {
      const service = new AddonService(session.client!, session.catalog, session.cluster, reporter)
      const result = await service.enable({
        dryRun: flags['dry-run'] as 'client' | 'server' | undefined,
        forceConflicts: flags['force-conflicts'],
        imageOverrides: parseImageFlags(flags.image, flags['registry-mirror']),
        set: flags.set,
        timeoutMs,
        tokens: argv as string[],
        valuesFiles: flags.values,
        wait: !flags['no-wait'],
      })
      process.exitCode = printChangeResult(result, {json: flags.json, log: (line) => this.log(line), logError: (line) => this.logToStderr(line)})
    } finally {
      session.client?.close()
    }
  }
}

/** --dry-run=client renders the plan without a cluster, for the Kubernetes version offline rendering assumes. */
async function offlineSession() {
  const [{AddonCatalog}, {DEFAULT_KUBE_VERSION}] = await Promise.all([import('../core/catalog.js'), import('../core/addon-plan.js')])
  const catalog = await AddonCatalog.load()
  return {catalog, client: undefined, cluster: {arch: catalog.arch, version: DEFAULT_KUBE_VERSION}}
}
