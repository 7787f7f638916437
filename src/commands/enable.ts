import {Args} from '@oclif/core'

import {BaseCommand} from '../base-command.js'
import {agentFlags, changeFlags, clusterFlags, hookFlags, parseDuration, renderFlags, waitFlags} from '../flags.js'
import type {ChangeResult} from '../services/addon-service.js'

export default class Enable extends BaseCommand {
  static override args = {
    addons: Args.string({
      description: 'addons to enable: name, repo/name, name:arg1:arg2, or one addon followed by its arguments',
      required: true,
    }),
  }

  static override description = `Enable addons on the cluster of the current kubeconfig.

Requirements are enabled first. Objects are server-side applied in kind order and waited for until ready; a record of
exactly what was applied is kept in the cluster. Enabling again with the same version and options changes nothing.

A MicroK8s hook addon (an executable enable script) runs as MicroK8s runs it, with a compatible $SNAP: kubectl and
helm wrappers (--kubectl, --helm), mk8s itself for nested enables, and utils.sh helpers that change every node.`

  static override examples = [
    '<%= config.bin %> <%= command.id %> dns',
    '<%= config.bin %> <%= command.id %> dns:1.1.1.1,8.8.8.8',
    '<%= config.bin %> <%= command.id %> core/dns --set clusterDomain=example.local --timeout 2m',
    '<%= config.bin %> <%= command.id %> dns --registry-mirror docker.io=mirror.local:5000 --json',
    '<%= config.bin %> <%= command.id %> dns --dry-run client',
    '<%= config.bin %> <%= command.id %> metrics-server --wait=full',
    '<%= config.bin %> <%= command.id %> community/registry-ui --kubectl /usr/local/bin/kubectl',
  ]

  static override flags = {...clusterFlags, ...changeFlags, ...waitFlags, ...agentFlags, ...hookFlags, ...renderFlags}

  static override strict = false

  public async run(): Promise<ChangeResult | {help: string}> {
    const {argv, flags} = await this.parse(Enable, this.addonArgv())
    const help = await this.addonHelp(argv as string[])
    if (help) return help
    const [{AddonService}, {fleetOf, hooksOf, openSession, offlineSession}, {parseImageFlags}, output] =
      await Promise.all([
        import('../services/addon-service.js'),
        import('../services/session.js'),
        import('../render/images.js'),
        import('../output/change-result.js'),
      ])
    const timeoutMs = parseDuration(flags.timeout)
    const session = flags['dry-run'] === 'client' ? await offlineSession() : await openSession({...flags, timeoutMs})
    try {
      const service = new AddonService({
        ...session,
        fleet: fleetOf(session, flags, parseDuration(flags['agent-timeout'], '--agent-timeout')),
        hooks: hooksOf(flags, this.jsonEnabled()),
        reporter: await this.reporter(),
      })
      const result = await service.enable({
        dryRun: flags['dry-run'] as 'client' | 'server' | undefined,
        forceConflicts: flags['force-conflicts'],
        imageOverrides: parseImageFlags(flags.image, flags['registry-mirror']),
        set: flags.set,
        timeoutMs,
        tokens: argv as string[],
        valuesFiles: flags.values,
        wait: !flags['no-wait'],
        waitServed: flags.wait === 'full',
      })
      if (!this.jsonEnabled()) output.printChangeResult(result, (line) => this.log(line))
      const failure = output.changeFailure(result)
      if (failure) throw failure
      return result
    } finally {
      session.close()
    }
  }
}
