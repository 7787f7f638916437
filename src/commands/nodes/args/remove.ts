import {Args} from '@oclif/core'

import {BaseCommand} from '../../../base-command.js'
import {nodeChangeFlags, ownFlagsFirst} from '../../../flags.js'
import type {NodeChange} from '../../../services/nodes.js'

export default class NodesArgsRemove extends BaseCommand {
  static override args = {
    service: Args.string({
      description: 'service whose arguments to change (kubelet, kube-apiserver, ...)',
      required: true,
    }),
  }

  static override description = `Remove service flags on every node, then restart the service where its file changed.

Flags come after --. A node that fails is reported and makes the command exit 1 once the others are done.`

  static override examples = [
    '<%= config.bin %> <%= command.id %> kubelet -- --cluster-dns --cluster-domain',
    '<%= config.bin %> <%= command.id %> kube-apiserver --no-restart -- --audit-log-path',
  ]

  static override flags = nodeChangeFlags

  static override strict = false

  public async run(): Promise<{nodes: NodeChange[]; service: string}> {
    const {argv, flags} = await this.parse(NodesArgsRemove, ownFlagsFirst(this.argv, NodesArgsRemove.flags))
    const [nodes, output, {UsageError}] = await Promise.all([
      import('../../../services/nodes.js'),
      import('../../../output/node-changes.js'),
      import('../../../errors.js'),
    ])
    const [service, ...remove] = argv as string[]
    const notFlag = remove.find((token) => !token.startsWith('-') || token.includes('='))
    if (notFlag) throw new UsageError(`"${notFlag}" is not a flag name: write the flags to remove as --name`)
    if (remove.length === 0)
      throw new UsageError(`Name the flags to remove after --, for example: nodes args remove ${service} -- --flag`)
    const changes = await nodes.changeNodesFromFlags(flags, service, {remove})
    this.log(output.formatNodeChanges(changes))
    const failure = output.nodeChangeFailure(service, changes)
    if (failure) throw failure
    return {nodes: changes, service}
  }
}
