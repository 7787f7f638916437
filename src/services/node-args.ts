import type {NodeArgsRecord} from '../records/applyset.js'
import type {NodeFleet} from '../nodes/fleet.js'
import {changeServiceArgs, configureBody, fanOut} from '../nodes/fleet.js'
import type {RenderedNodeArgs} from '../render/renderer.js'

/**
 * Sets an addon's service arguments on every node. Where a record already says what a flag was before mk8s first
 * changed it (an enable again, or one finishing a partial failure), that value is kept: it is what disable restores.
 */
export async function applyNodeArgs(
  fleet: NodeFleet,
  wanted: RenderedNodeArgs[],
  recorded: NodeArgsRecord[] = [],
): Promise<NodeArgsRecord[]> {
  const entries: NodeArgsRecord[] = []
  for (const change of wanted) {
    const outcomes = await changeServiceArgs(fleet, change.service, change)
    for (const outcome of outcomes) {
      const prior = recorded.find(
        (r) => r.applied && r.address === outcome.node.address && r.service === change.service,
      )
      const base = {
        address: outcome.node.address,
        node: outcome.node.name,
        removed: change.remove,
        restart: change.restart,
        service: change.service,
        set: change.update,
      }
      entries.push(
        outcome.ok
          ? {...base, applied: true, previous: {...outcome.value.previous, ...prior?.previous}}
          : // A node not reached keeps what an earlier run recorded of it, so that it can still be restored.
            {...base, applied: prior !== undefined, error: outcome.error, previous: prior?.previous ?? {}},
      )
    }
  }

  return entries
}

/** True when the record shows every wanted change applied, as wanted, on the nodes it reached. */
export function nodeArgsSatisfied(recorded: NodeArgsRecord[] = [], wanted: RenderedNodeArgs[]): boolean {
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b)
  return wanted.every((change) => {
    const entries = recorded.filter((r) => r.service === change.service)
    return (
      entries.length > 0 &&
      entries.every((r) => r.applied && !r.error && same(r.set, change.update) && same(r.removed, change.remove))
    )
  })
}

/**
 * Puts back, node by node, the values recorded before the addon changed them: a flag that was not set is removed.
 * Returns the entries that could not be restored (their nodes unreachable), for the record to keep.
 */
export async function restoreNodeArgs(fleet: NodeFleet, recorded: NodeArgsRecord[]): Promise<NodeArgsRecord[]> {
  const applied = recorded.filter((r) => r.applied)
  // One target per entry: a node can have entries for several services.
  const targets = applied.map((entry) => ({address: entry.address, name: entry.node}))
  const outcomes = await fanOut(targets, async (node) => {
    const entry = applied[targets.indexOf(node)]
    const update = Object.fromEntries(Object.entries(entry.previous).filter(([, value]) => value !== null)) as Record<
      string,
      string
    >
    const remove = Object.entries(entry.previous)
      .filter(([, value]) => value === null)
      .map(([flag]) => flag)
    return fleet.client.configure(node, configureBody(entry.service, {remove, restart: entry.restart, update}))
  })
  return outcomes.flatMap((outcome, i) => (outcome.ok ? [] : [{...applied[i], error: outcome.error}]))
}

export const describeNodeArgs = (changes: RenderedNodeArgs[]): string =>
  changes
    .map(
      (c) =>
        `${c.service} ${[...Object.entries(c.update).map(([f, v]) => `${f}=${v}`), ...c.remove.map((f) => `-${f}`)].join(' ')}`,
    )
    .join('; ')
