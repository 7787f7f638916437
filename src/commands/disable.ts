import {Args} from '@oclif/core'

import {BaseCommand} from '../base-command.js'
import {agentFlags, changeFlags, clusterFlags, hookFlags, parseDuration} from '../flags.js'
import type {ChangeResult} from '../services/addon-service.js'

export default class Disable extends BaseCommand {
  static override args = {
    addons: Args.string({description: 'addons to disable: name or repo/name', required: true}),
  }

  static override description = `Disable addons: delete exactly the objects their records list, in reverse kind order, and wait until they are gone.

A MicroK8s hook addon runs its disable hook instead, with the arguments given (name:a:b), and its record goes.`

  static override examples = [
    '<%= config.bin %> <%= command.id %> dns',
    '<%= config.bin %> <%= command.id %> core/dns --json',
    '<%= config.bin %> <%= command.id %> hostpath-storage:destroy-storage',
  ]

  static override flags = {...clusterFlags, ...changeFlags, ...agentFlags, ...hookFlags}

  static override strict = false

  public async run(): Promise<ChangeResult | {help: string}> {
    const {argv, flags} = await this.parse(Disable, this.addonArgv())
    const help = await this.addonHelp(argv as string[])
    if (help) return help
    const [{AddonService}, {fleetOf, hooksOf, openSession}, output] = await Promise.all([
      import('../services/addon-service.js'),
      import('../services/session.js'),
      import('../output/change-result.js'),
    ])
    const timeoutMs = parseDuration(flags.timeout)
    const session = await openSession({...flags, timeoutMs})
    try {
      const service = new AddonService({
        ...session,
        fleet: fleetOf(session, flags, parseDuration(flags['agent-timeout'], '--agent-timeout')),
        hooks: hooksOf(flags, this.jsonEnabled()),
        reporter: await this.reporter(),
      })
      const result = await service.disable({
        dryRun: flags['dry-run'] as 'client' | 'server' | undefined,
        timeoutMs,
        tokens: argv as string[],
        wait: !flags['no-wait'],
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
