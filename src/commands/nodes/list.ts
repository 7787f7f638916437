import {BaseCommand} from '../../base-command.js'
import {agentFlags, clusterFlags, formatFlag, parseDuration} from '../../flags.js'
import type {NodeHealth} from '../../services/nodes.js'

export default class NodesList extends BaseCommand {
  static override description = `List the cluster's nodes with their agent: address, health and version.

Exits 1 when an agent cannot be reached.`

  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --node 10.0.0.5:25000 --node 10.0.0.6:25000 --json',
  ]

  static override flags = {...clusterFlags, ...agentFlags, format: formatFlag(['table', 'json', 'yaml'], 'table')}

  public async run(): Promise<NodeHealth[]> {
    const {flags} = await this.parse(NodesList)
    const [nodes, {formatList}, {OperationFailedError}] = await Promise.all([
      import('../../services/nodes.js'),
      import('../../output/format.js'),
      import('../../errors.js'),
    ])
    const fleet = await nodes.fleetFromFlags(flags, parseDuration(flags['agent-timeout'], '--agent-timeout'))
    const health = await nodes.listNodes(fleet)
    this.log(
      formatList(health, flags.format as 'json' | 'table' | 'yaml', [
        {header: 'NODE', value: (n) => n.name},
        {header: 'AGENT', value: (n) => n.address},
        {header: 'STATUS', value: (n) => n.status},
        {
          header: 'VERSION',
          value: (n) => (n.status === 'ok' ? `${n.agent} ${n.version ?? ''}`.trim() : (n.error ?? '')),
        },
      ]),
    )
    const down = health.filter((n) => n.status !== 'ok')
    if (down.length > 0) {
      throw new OperationFailedError(
        `${down.length} of ${health.length} agents cannot be reached`,
        health,
        down.map((n) => ({message: n.error ?? 'unreachable', node: n.name})),
      )
    }

    return health
  }
}
