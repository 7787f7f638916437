import {Args} from '@oclif/core'

import {BaseCommand} from '../../../base-command.js'
import {nodeChangeFlags, ownFlagsFirst} from '../../../flags.js'
import type {NodeChange} from '../../../services/nodes.js'

export default class NodesArgsSet extends BaseCommand {
  static override args = {
    service: Args.string({
      description: 'service whose arguments to change (kubelet, kube-apiserver, ...)',
      required: true,
    }),
  }

  static override description = `Set service flags on every node, then restart the service where its file changed.

Service flags come after --: --flag=value or --flag value. Every node is changed at once; a node that fails is
reported and makes the command exit 1 once the others are done, and running it again converges.`

  static override examples = [
    '<%= config.bin %> <%= command.id %> kubelet -- --cluster-dns=10.152.183.10 --cluster-domain=cluster.local',
    '<%= config.bin %> <%= command.id %> kube-apiserver -- --authorization-mode=RBAC,Node',
    '<%= config.bin %> <%= command.id %> kubelet --no-restart -- --max-pods=200',
  ]

  static override flags = nodeChangeFlags

  static override strict = false

  public async run(): Promise<{nodes: NodeChange[]; service: string}> {
    const {argv, flags} = await this.parse(NodesArgsSet, ownFlagsFirst(this.argv, NodesArgsSet.flags))
    const [nodes, output, {parseFlagTokens}, {UsageError}] = await Promise.all([
      import('../../../services/nodes.js'),
      import('../../../output/node-changes.js'),
      import('../../../nodes/args-file.js'),
      import('../../../errors.js'),
    ])
    const [service, ...tokens] = argv as string[]
    let update: Record<string, string>
    try {
      update = parseFlagTokens(tokens)
    } catch (error) {
      throw new UsageError((error as Error).message)
    }

    if (Object.keys(update).length === 0)
      throw new UsageError(`Name the flags to set after --, for example: nodes args set ${service} -- --flag=value`)
    const changes = await nodes.changeNodesFromFlags(flags, service, {update})
    this.log(output.formatNodeChanges(changes))
    const failure = output.nodeChangeFailure(service, changes)
    if (failure) throw failure
    return {nodes: changes, service}
  }
}
