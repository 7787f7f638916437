import {Flags} from '@oclif/core'

import {BaseCommand} from '../base-command.js'
import {KubeError} from '../errors.js'
import {clusterFlags, formatFlag, parseDuration} from '../flags.js'

export default class Status extends BaseCommand {
  static override description = `Show which addons are enabled and whether they are healthy.

Enabled or disabled comes from the records mk8s keeps in the cluster; health (ready, progressing, degraded) from the
live objects of each addon. Exits 1 when the cluster cannot be reached.`

  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --format short',
    '<%= config.bin %> <%= command.id %> --addon dns',
    '<%= config.bin %> <%= command.id %> --wait-ready --timeout 60',
  ]

  static override flags = {
    ...clusterFlags,
    addon: Flags.string({char: 'a', description: 'print only "enabled" or "disabled" for this addon (name or repo/name)'}),
    format: formatFlag(['pretty', 'short', 'yaml', 'json'], 'pretty'),
    timeout: Flags.string({char: 't', default: '0', description: 'with --wait-ready, seconds to wait (0: forever)'}),
    'wait-ready': Flags.boolean({char: 'w', description: 'wait until the cluster has a Ready node'}),
  }

  public async run(): Promise<void> {
    const {flags} = await this.parse(Status)
    const [{HttpKubeClient}, {AddonCatalog}, service, format] = await Promise.all([
      import('../kube/http-client.js'),
      import('../core/catalog.js'),
      import('../core/status-service.js'),
      import('../output/status-format.js'),
    ])
    const [client, catalog] = await Promise.all([HttpKubeClient.connect(flags), AddonCatalog.load()])
    for (const warning of catalog.warnings) this.logToStderr(warning)
    try {
      if (flags['wait-ready'] && !(await service.waitClusterReady(client, parseDuration(flags.timeout)))) {
        this.log(format.formatNotRunning(flags.format, 'no node became Ready in time'))
        this.exit(1)
      }

      let status: Awaited<ReturnType<typeof service.clusterStatus>>
      try {
        status = await service.clusterStatus(client, catalog)
      } catch (error) {
        if (!(error instanceof KubeError) || error.code !== undefined) throw error
        this.log(format.formatNotRunning(flags.format, error.message))
        this.exit(1)
      }

      if (flags.addon) {
        const wanted = flags.addon
        const match = status.addons.find((a) => `${a.repository}/${a.name}` === wanted || a.name === wanted)
        this.log(match?.status ?? 'disabled')
        return
      }

      const printers: Record<string, (s: typeof status) => string> = {
        json: (s) => JSON.stringify(s, null, 2),
        pretty: format.formatPretty,
        short: format.formatShort,
        yaml: format.formatYaml,
      }
      this.log(printers[flags.format](status))
    } finally {
      client.close()
    }
  }
}
