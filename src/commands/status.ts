import {Flags} from '@oclif/core'

import {BaseCommand} from '../base-command.js'
import {KubeError} from '../errors.js'
import {clusterFlags, formatFlag, parseDuration} from '../flags.js'
import type {ClusterStatus} from '../services/status.js'

export default class Status extends BaseCommand {
  static override description = `Show which addons are enabled and whether they are healthy.

Enabled or disabled comes from the records mk8s keeps in the cluster; health (ready, progressing, degraded) from the
live objects of each addon. Exits 1 when the cluster cannot be reached.`

  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --format short',
    '<%= config.bin %> <%= command.id %> --addon dns',
    '<%= config.bin %> <%= command.id %> --wait-ready --timeout 60',
    '<%= config.bin %> <%= command.id %> --json',
  ]

  static override flags = {
    ...clusterFlags,
    addon: Flags.string({
      char: 'a',
      description: 'print only "enabled" or "disabled" for this addon (name or repo/name)',
    }),
    format: formatFlag(['pretty', 'short', 'yaml', 'json'], 'pretty'),
    timeout: Flags.string({char: 't', default: '0', description: 'with --wait-ready, seconds to wait (0: forever)'}),
    'wait-ready': Flags.boolean({char: 'w', description: 'wait until the cluster has a Ready node'}),
  }

  public async run(): Promise<ClusterStatus | undefined | {addon: string; status: string}> {
    const {flags} = await this.parse(Status)
    const [{HttpKubeClient}, {AddonCatalog}, service, format] = await Promise.all([
      import('../kube/http-client.js'),
      import('../addons/catalog.js'),
      import('../services/status.js'),
      import('../output/status-format.js'),
    ])
    const [client, catalog] = await Promise.all([HttpKubeClient.connect(flags), AddonCatalog.load()])
    for (const warning of catalog.warnings) this.notice(warning)
    // MicroK8s prints "not running" as the status itself, on stdout, and exits 1; --json makes it the error.
    const notRunning = (reason: string) => {
      if (this.jsonEnabled()) throw new KubeError(`The cluster is not running: ${reason}`)
      this.log(format.formatNotRunning(flags.format, reason))
      process.exitCode = 1
    }

    try {
      const timeoutMs = parseDuration(flags.timeout)
      if (flags['wait-ready'] && !(await service.waitClusterReady({client, timeoutMs}))) {
        notRunning('no node became Ready in time')
        return undefined
      }

      let status: ClusterStatus
      try {
        status = await service.clusterStatus({catalog, client})
      } catch (error) {
        // A KubeError without an HTTP code is an unreachable server: the cluster is not running.
        if (!(error instanceof KubeError) || error.code !== undefined) throw error
        notRunning(error.message)
        return undefined
      }

      if (flags.addon) {
        const {matchesAddonRef} = await import('../util/text.js')
        const match = status.addons.find((a) => matchesAddonRef(a, flags.addon!))
        this.log(match?.status ?? 'disabled')
        return {addon: flags.addon, status: match?.status ?? 'disabled'}
      }

      this.log(format.formatStatus(status, flags.format))
      return status
    } finally {
      client.close()
    }
  }
}
