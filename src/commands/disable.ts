import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../base-command.js'
import {changeFlags, clusterFlags, parseDuration} from '../flags.js'

export default class Disable extends BaseCommand {
  static override args = {
    addons: Args.string({description: 'addons to disable: name or repo/name', required: true}),
  }

  static override description = `Disable addons: delete exactly the objects their records list, in reverse kind order, and wait until they are gone.`

  static override examples = ['<%= config.bin %> <%= command.id %> dns', '<%= config.bin %> <%= command.id %> core/dns --json']

  static override flags = {
    ...clusterFlags,
    ...changeFlags,
    json: Flags.boolean({description: 'print one JSON result and nothing else on stdout'}),
  }

  static override strict = false

  public async run(): Promise<void> {
    const {argv, flags} = await this.parse(Disable)
    const [{openSession}, {AddonService}, {chooseReporter}, {printChangeResult}] = await Promise.all([
      import('../core/cluster-session.js'),
      import('../core/addon-service.js'),
      import('../output/reporters.js'),
      import('../output/change-result.js'),
    ])
    if (await this.answeredAddonHelp(argv as string[])) return
    const reporter = await chooseReporter(flags.json, (line) => this.log(line))
    const session = await openSession(flags)
    try {
      const service = new AddonService(session.client, session.catalog, session.cluster, reporter)
      const result = await service.disable({
        dryRun: flags['dry-run'] as 'client' | 'server' | undefined,
        timeoutMs: parseDuration(flags.timeout),
        tokens: argv as string[],
        wait: !flags['no-wait'],
      })
      process.exitCode = printChangeResult(result, {json: flags.json, log: (line) => this.log(line), logError: (line) => this.logToStderr(line)})
    } finally {
      session.client.close()
    }
  }
}
