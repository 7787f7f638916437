import type {PendingObject} from '../kube/engine.js'
import type {KubeObject, ObjectRef} from '../kube/types.js'

export type AddonStatus =
  'already-disabled' | 'already-enabled' | 'disabled' | 'enabled' | 'failed' | 'not-found' | 'planned'

export interface AddonResult {
  action: 'disable' | 'enable'
  addon: string
  /** A plan's reasons to apply: not enabled, or the version, options and images that differ from the record. */
  changes?: string[]
  /** Objects a disable made to clean up after the addon (hostpath-storage's data), run and deleted again. */
  cleanup?: ObjectRef[]
  /** Milliseconds spent in each phase (render, apply, ready, prune, delete, hook) and in all. */
  durations: Record<string, number>
  /** A MicroK8s hook addon's run: the hook's arguments and its exit code (mk8s exits with it when it failed). */
  hook?: {args: string[]; exitCode?: number}
  message?: string
  /** Service argument changes: planned (dry run), made (enable) or restored (disable). */
  nodeArgs?: unknown[]
  objects: ObjectRef[]
  pending?: PendingObject[]
  pruned: ObjectRef[]
  /** The rendered objects of a client-side dry run. */
  rendered?: KubeObject[]
  status: AddonStatus
}

export interface ChangeResult {
  addons: AddonResult[]
  ok: boolean
}

type Build = ((
  status: AddonStatus,
  fields?: Partial<Omit<AddonResult, 'action' | 'addon' | 'status'>>,
) => AddonResult) & {
  lap(phase: string): void
}

/** The one way results are made: the action and addon fixed, phases timed from the builder's creation. */
export function resultBuilder(action: AddonResult['action'], addon: string): Build {
  const start = Date.now()
  const durations: Record<string, number> = {}
  let last = start
  const build = ((status, fields = {}) => ({
    action,
    addon,
    durations: {...durations, total: Date.now() - start},
    objects: [],
    pruned: [],
    ...fields,
    status,
  })) as Build
  build.lap = (phase) => {
    const now = Date.now()
    durations[phase] = now - last
    last = now
  }

  return build
}

export function summarize(addons: AddonResult[]): ChangeResult {
  return {addons, ok: addons.every((a) => a.status !== 'failed')}
}
