import {OperationFailedError} from '../errors.js'
import type {NodeChange} from '../services/nodes.js'
import {formatTable} from './format.js'

/** A table of what a change did on each node. */
export function formatNodeChanges(changes: NodeChange[]): string {
  return formatTable(changes, [
    {header: 'NODE', value: (c) => c.name},
    {header: 'AGENT', value: (c) => c.address},
    {
      header: 'RESULT',
      value: (c) =>
        c.error ? `failed: ${c.error}` : `${c.changed ? 'changed' : 'unchanged'}${c.restarted ? ', restarted' : ''}`,
    },
  ])
}

/** The error a change ends with when a node failed: every node's result rides along, the failed ones as problems. */
export function nodeChangeFailure(service: string, changes: NodeChange[]): OperationFailedError | undefined {
  const failed = changes.filter((c) => c.error)
  if (failed.length === 0) return undefined
  return new OperationFailedError(
    `${service}: ${failed.length} of ${changes.length} nodes were not changed; run the command again once they are reachable`,
    {nodes: changes, service},
    failed.map((c) => ({message: c.error!, node: c.name})),
  )
}
