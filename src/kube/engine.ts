import {KubeError, UserError} from '../errors.js'
import {parallel, sleep} from '../util/async.js'
import {PHASES, byPhase, sortForDelete} from './order.js'
import {type Readiness, WAITED_KINDS, conditionSummary, readinessOf} from './readiness.js'
import {
  type KubeClient,
  type KubeObject,
  type ObjectRef,
  UnknownKindError,
  describeRef,
  refKey,
  refOf,
} from './types.js'

export const FIELD_MANAGER = 'mk8s'
const POLL_MS = 500
const CONCURRENCY = 16

export interface ApplyProgress {
  applied?: (done: number, total: number, phase: string) => void
}

/** Sets or drops metadata.namespace by what the server says of the kind, so records name objects exactly. */
export async function normalizeNamespaces(client: KubeClient, objects: KubeObject[]): Promise<KubeObject[]> {
  return Promise.all(
    objects.map(async (object) => {
      const namespaced = await client.isNamespaced(object.apiVersion, object.kind).catch((error: unknown) => {
        // A custom resource whose CRD is in the same set is not served yet: its namespace stays as rendered.
        if (error instanceof UnknownKindError) return undefined
        throw error
      })
      const metadata = {...object.metadata}
      if (namespaced === true && !metadata.namespace) metadata.namespace = 'default'
      if (namespaced === false) delete metadata.namespace
      return {...object, metadata}
    }),
  )
}

/**
 * Server-side applies objects phase by phase, in parallel within a phase; CRDs are waited to Established before
 * anything that may use them.
 */
export async function applyObjects(
  client: KubeClient,
  objects: KubeObject[],
  options: {dryRun?: boolean; force?: boolean; progress?: ApplyProgress; timeoutMs: number},
): Promise<KubeObject[]> {
  const applied: KubeObject[] = []
  let done = 0
  const phases = byPhase(objects)
  for (const [index, phase] of phases.entries()) {
    if (phase.length === 0) continue
    const results = await parallel(phase, CONCURRENCY, async (object) => {
      const result = await client.apply(object, {
        dryRun: options.dryRun,
        fieldManager: FIELD_MANAGER,
        force: options.force,
      })
      options.progress?.applied?.(++done, objects.length, PHASES[index])
      return result
    })
    applied.push(...results)
    const crds = results.filter((o) => o.kind === 'CustomResourceDefinition')
    if (crds.length > 0 && !options.dryRun) await waitReady(client, crds.map(refOf), {timeoutMs: options.timeoutMs})
  }

  return applied
}

export interface PendingObject {
  conditions: string
  event?: string
  reason: string
  ref: ObjectRef
  state: 'failed' | 'missing' | 'pending'
}

export class NotReadyError extends KubeError {
  constructor(
    message: string,
    readonly pending: PendingObject[],
  ) {
    super(message)
    this.name = 'NotReadyError'
  }
}

export interface WaitProgress {
  ready?: (done: number, total: number, waitingFor?: string) => void
}

/** Latest Warning event of each object, for telling a user why it is not ready. */
async function latestWarnings(client: KubeClient, refs: ObjectRef[]): Promise<Map<string, string>> {
  const warnings = new Map<string, string>()
  const namespaces = [...new Set(refs.map((r) => r.namespace).filter((ns): ns is string => !!ns))]
  for (const namespace of namespaces) {
    const events = await client.list('v1', 'Event', {fieldSelector: 'type=Warning', namespace}).catch(() => [])
    const sorted = events.sort((a, b) =>
      String(a.lastTimestamp ?? a.eventTime ?? '').localeCompare(String(b.lastTimestamp ?? b.eventTime ?? '')),
    )
    for (const event of sorted) {
      const involved = event.involvedObject as {kind: string; name: string; namespace?: string}
      const text = `${String(event.reason)}: ${String(event.message)}`
      warnings.set(`${involved.kind}|${involved.namespace ?? ''}|${involved.name}`, text)
      // A workload's own events rarely say why it is stuck; its pods' and ReplicaSets' do (FailedScheduling, ...).
      for (const ref of refs) {
        if (ref.namespace === involved.namespace && involved.name.startsWith(`${ref.name}-`)) {
          warnings.set(`${ref.kind}|${ref.namespace ?? ''}|${ref.name}`, `${involved.kind} ${involved.name}: ${text}`)
        }
      }
    }
  }

  return warnings
}

/**
 * Lists each waited kind once per poll (not one GET per object) until every object is ready, one fails, or the
 * timeout passes; then names every object still pending, with its conditions and latest warning event.
 */
export async function waitReady(
  client: KubeClient,
  refs: ObjectRef[],
  options: {labelSelector?: string; progress?: WaitProgress; timeoutMs: number},
): Promise<void> {
  const waited = refs.filter((ref) => WAITED_KINDS.includes(ref.kind))
  const deadline = Date.now() + options.timeoutMs
  let states = new Map<string, {object?: KubeObject; readiness: Readiness}>()
  for (;;) {
    states = await readinessMap(client, waited, {labelSelector: options.labelSelector})
    const notReady = waited.filter((ref) => states.get(refKey(ref))?.readiness.state !== 'ready')
    options.progress?.ready?.(waited.length - notReady.length, waited.length, notReady[0] && describeRef(notReady[0]))
    const failed = notReady.filter((ref) => states.get(refKey(ref))?.readiness.state === 'failed')
    if (notReady.length === 0) return
    if (failed.length > 0 || Date.now() >= deadline) {
      const warnings = await latestWarnings(client, notReady)
      const pending = notReady.map((ref): PendingObject => {
        const state = states.get(refKey(ref))
        const readiness = state?.readiness
        return {
          conditions: state?.object ? conditionSummary(state.object) : '',
          event: warnings.get(`${ref.kind}|${ref.namespace ?? ''}|${ref.name}`),
          reason: readiness && readiness.state !== 'ready' ? readiness.reason : 'not found',
          ref,
          state: !state?.object ? 'missing' : readiness?.state === 'failed' ? 'failed' : 'pending',
        }
      })
      const lines = pending.map(
        (p) =>
          `  ${describeRef(p.ref)}: ${p.reason}${p.conditions ? `; conditions: ${p.conditions}` : ''}${p.event ? `; last warning: ${p.event}` : ''}`,
      )
      const headline =
        failed.length > 0
          ? `${failed.length} object${failed.length === 1 ? '' : 's'} failed`
          : `Timed out after ${Math.round(options.timeoutMs / 1000)}s waiting for ${notReady.length} object${notReady.length === 1 ? '' : 's'}`
      throw new NotReadyError([`${headline}:`, ...lines].join('\n'), pending)
    }

    await sleep(POLL_MS)
  }
}

/** Current readiness of each ref: one LIST per (kind, apiVersion). */
export async function readinessMap(
  client: KubeClient,
  refs: ObjectRef[],
  options: {labelSelector?: string; skipUnlistable?: boolean} = {},
): Promise<Map<string, {object?: KubeObject; readiness: Readiness}>> {
  const kinds = new Map<string, ObjectRef>()
  for (const ref of refs) kinds.set(`${ref.apiVersion}|${ref.kind}`, ref)
  const found = new Map<string, KubeObject>()
  await Promise.all(
    [...kinds.values()].map(async ({apiVersion, kind}) => {
      const items = await client
        .list(apiVersion, kind, {labelSelector: options.labelSelector})
        .catch((error: unknown) => {
          // A kind the server no longer serves (its CRD deleted) or may not be listed: its objects count as missing.
          if (options.skipUnlistable && error instanceof UserError) return []
          throw error
        })
      for (const item of items) found.set(refKey(refOf(item)), item)
    }),
  )
  const states = new Map<string, {object?: KubeObject; readiness: Readiness}>()
  for (const ref of refs) {
    const object = found.get(refKey(ref))
    states.set(
      refKey(ref),
      object ? {object, readiness: readinessOf(object)} : {readiness: {reason: 'not found', state: 'pending'}},
    )
  }

  return states
}

/** Deletes objects in reverse apply order and waits until each is gone from the server. */
export async function deleteObjects(
  client: KubeClient,
  refs: ObjectRef[],
  options: {progress?: (done: number, total: number, waitingFor?: string) => void; timeoutMs: number},
): Promise<void> {
  let done = 0
  for (const phase of sortForDelete(refs)) {
    if (phase.length === 0) continue
    await parallel(phase, CONCURRENCY, async (ref) => client.delete(ref))
    const deadline = Date.now() + options.timeoutMs
    for (;;) {
      const remaining = (
        await parallel(phase, CONCURRENCY, async (ref) => ((await client.get(ref)) ? ref : undefined))
      ).filter((ref): ref is ObjectRef => ref !== undefined)
      options.progress?.(done + phase.length - remaining.length, refs.length, remaining[0] && describeRef(remaining[0]))
      if (remaining.length === 0) break
      if (Date.now() >= deadline) {
        throw new NotReadyError(
          [
            `Timed out waiting for ${remaining.length} object(s) to be deleted:`,
            ...remaining.map((r) => `  ${describeRef(r)}`),
          ].join('\n'),
          remaining.map((ref) => ({conditions: '', reason: 'still present', ref, state: 'pending'})),
        )
      }

      await sleep(POLL_MS)
    }

    done += phase.length
  }
}
