import {Args} from '@oclif/core'

import {BaseCommand} from '../../../base-command.js'
import {agentFlags, clusterFlags, parseDuration} from '../../../flags.js'
import type {NodeArguments} from '../../../services/nodes.js'

export default class NodesArgsGet extends BaseCommand {
  static override args = {
    service: Args.string({
      description: 'service whose arguments to show (kubelet, kube-apiserver, ...)',
      required: true,
    }),
  }

  static override description = `Show a service's arguments on every node, as its args file sets them.

Exits 1 when a node cannot be read; the others are shown.`

  static override examples = [
    '<%= config.bin %> <%= command.id %> kubelet',
    '<%= config.bin %> <%= command.id %> kube-apiserver --node 10.0.0.5:25000 --json',
  ]

  static override flags = {...clusterFlags, ...agentFlags}

  public async run(): Promise<{nodes: NodeArguments[]; service: string}> {
    const {args, flags} = await this.parse(NodesArgsGet)
    const [nodes, {OperationFailedError}] = await Promise.all([
      import('../../../services/nodes.js'),
      import('../../../errors.js'),
    ])
    const fleet = await nodes.fleetFromFlags(flags, parseDuration(flags['agent-timeout'], '--agent-timeout'))
    const result = {nodes: await nodes.getServiceArgs(fleet, args.service), service: args.service}
    for (const node of result.nodes) {
      this.log(`${node.name} (${node.address}):`)
      if (node.error) this.log(`  error: ${node.error}`)
      for (const {flag, value} of node.arguments ?? []) this.log(`  ${flag}${value ? `=${value}` : ''}`)
    }

    const failed = result.nodes.filter((n) => n.error)
    if (failed.length > 0) {
      throw new OperationFailedError(
        `Cannot read ${args.service} arguments on ${failed.length} of ${result.nodes.length} nodes`,
        result,
        failed.map((n) => ({message: n.error!, node: n.name})),
      )
    }

    return result
  }
}
