import {KubeError, UserError} from '../errors.js'
import {parallel, sleep} from '../util/async.js'
import {compareText} from '../util/text.js'
import {PHASES, byPhase, isCustomResource, sortForDelete} from './order.js'
import {type Readiness, conditionSummary, isWaited, readinessOf} from './readiness.js'
import {
  type KubeClient,
  type KubeObject,
  type ObjectRef,
  UnknownKindError,
  type Watch,
  describeRef,
  refKey,
  refOf,
} from './types.js'

export const FIELD_MANAGER = 'mk8s'
/** How often a client that cannot watch is polled. */
const POLL_MS = 500
/** Watches are re-listed this often anyway: a missed event costs at most this long. */
const RESYNC_MS = 10_000
const CONCURRENCY = 16

type KindRef = {apiVersion: string; kind: string}

const POD_OWNERS = new Set(['CronJob', 'DaemonSet', 'Deployment', 'Job', 'Pod', 'ReplicaSet', 'StatefulSet'])

/**
 * Keeps a map of the live objects of some kinds (refKey → object) current until `settled` says so or the deadline
 * passes: one LIST per kind, then a WATCH from its resourceVersion, so a change is seen as it happens, not at the
 * next poll. A kind is listed again every RESYNC_MS and whenever its watch ends (an error, a 410, the server's
 * timeout); a client that cannot watch is listed every POLL_MS.
 */
async function follow(
  client: KubeClient,
  kinds: KindRef[],
  options: {deadline: number; labelSelector?: string; skipUnlistable?: boolean},
  settled: (found: Map<string, KubeObject>) => boolean,
): Promise<Map<string, KubeObject>> {
  const found = new Map<string, KubeObject>()
  const watching = client.watch && client.listVersioned ? new Map<string, Watch>() : undefined
  const idOf = (k: KindRef) => `${k.apiVersion}|${k.kind}`
  const listedAt = new Map<string, number>()
  const stale = new Set(kinds.map(idOf))
  // Set by every event: the loop looks again before it sleeps, so nothing is missed between the two.
  let changed: boolean
  let wake = () => {}
  const poke = () => {
    changed = true
    wake()
  }

  const list = async ({apiVersion, kind}: KindRef): Promise<string | undefined> => {
    const request = {labelSelector: options.labelSelector}
    const result = await (
      watching
        ? client.listVersioned!(apiVersion, kind, request)
        : client.list(apiVersion, kind, request).then((items) => ({items, resourceVersion: undefined}))
    ).catch((error: unknown) => {
      // A kind the server no longer serves (its CRD deleted) or may not be listed: its objects count as missing.
      if (options.skipUnlistable && error instanceof UserError) return {items: [], resourceVersion: undefined}
      throw error
    })
    for (const key of [...found.keys()]) if (key.startsWith(`${apiVersion}|${kind}|`)) found.delete(key)
    for (const item of result.items) found.set(refKey(refOf(item)), item)
    return result.resourceVersion
  }

  const relist = async (k: KindRef) => {
    const id = idOf(k)
    watching?.get(id)?.stop()
    watching?.delete(id)
    listedAt.set(id, Date.now())
    const resourceVersion = await list(k)
    if (!watching || resourceVersion === undefined) return
    const watch = client.watch!(
      k.apiVersion,
      k.kind,
      {
        labelSelector: options.labelSelector,
        resourceVersion,
        timeoutSeconds: Math.max(1, (options.deadline - Date.now()) / 1000),
      },
      ({object, type}) => {
        if (type === 'DELETED') found.delete(refKey(refOf(object)))
        else found.set(refKey(refOf(object)), object)
        poke()
      },
    )
    watching.set(id, watch)
    // Listed again at the next tick, not at once: a server that keeps ending watches is polled, not hammered.
    void watch.ended.then(() => {
      if (watching.get(id) === watch) stale.add(id)
    })
  }

  try {
    for (;;) {
      const due = kinds.filter((k) => stale.has(idOf(k)))
      stale.clear()
      changed = false
      await Promise.all(due.map(relist))
      if (settled(found) || Date.now() >= options.deadline) return found
      if (!changed) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(POLL_MS, Math.max(0, options.deadline - Date.now())))
          wake = () => {
            clearTimeout(timer)
            resolve()
          }
        })
        wake = () => {}
      }

      // Without watches every wake is a poll; with them, a kind is listed again when its watch ended or is due.
      for (const k of kinds) {
        const age = Date.now() - (listedAt.get(idOf(k)) ?? 0)
        if (!watching || age >= RESYNC_MS) stale.add(idOf(k))
      }
    }
  } finally {
    for (const watch of watching?.values() ?? []) watch.stop()
  }
}

export interface ApplyProgress {
  applied?: (done: number, total: number, phase: string) => void
  /** An object deleted and created again: a field it changes cannot change in place (see REPLACED_WHEN_IMMUTABLE). */
  replaced?: (ref: ObjectRef, why: string) => void
}

/**
 * Kinds whose immutable fields an addon's options set (a StorageClass's reclaimPolicy, kube-dns's clusterIP, a
 * RuntimeClass's handler, a Job's template, an IngressClass's controller): when the server refuses the change in
 * place, the object is deleted and created again, as `kubectl replace --force` would. Never a kind that holds data
 * (PersistentVolumeClaim) or runs a rollout (Deployment).
 */
const REPLACED_WHEN_IMMUTABLE = new Set(['IngressClass', 'Job', 'RuntimeClass', 'Service', 'StorageClass'])
const IMMUTABLE = /immutable|updates to .* (are|is) forbidden|may not (be )?change|field is not allowed to change/i

/** Server-side applies one object, replacing it when it is of a kind that may be and the server says it must be. */
async function applyOrReplace(
  client: KubeClient,
  object: KubeObject,
  options: {dryRun?: boolean; force?: boolean; progress?: ApplyProgress; timeoutMs: number},
): Promise<KubeObject> {
  // Only a CRD's answer is read (its spec, to wait until its kind lists); the rest need only say they were applied.
  const metadataOnly = object.kind !== 'CustomResourceDefinition'
  const apply = () =>
    client.apply(object, {dryRun: options.dryRun, fieldManager: FIELD_MANAGER, force: options.force, metadataOnly})
  try {
    return await apply()
  } catch (error) {
    const refused = error instanceof KubeError && error.code === 422 && IMMUTABLE.test(error.message)
    if (!refused || options.dryRun || !REPLACED_WHEN_IMMUTABLE.has(object.kind)) throw error
    const ref = refOf(object)
    options.progress?.replaced?.(ref, error.message)
    await client.delete(ref, {propagation: 'Foreground'})
    const deadline = Date.now() + options.timeoutMs
    while (await client.get(ref)) {
      if (Date.now() >= deadline)
        throw new KubeError(`Timed out replacing ${describeRef(ref)}: it is still being deleted`)
      await sleep(100)
    }

    return apply()
  }
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
 * Waits until the API server can list a new CRD's kind. Established comes before the kind's watch cache is ready; a
 * CRD deleted in that moment (an addon enabled then disabled at once) hits "storage is (re)initializing" in the API
 * server's CRD finalizer, which then backs off for many minutes. Any other error is left to the requests that follow.
 */
async function untilListable(client: KubeClient, crd: KubeObject, deadline: number): Promise<void> {
  const spec = crd.spec as {group: string; names: {kind: string}; versions?: {name: string; served?: boolean}[]}
  const version = spec.versions?.find((v) => v.served !== false)?.name
  if (!version) return
  for (;;) {
    try {
      await client.list(`${spec.group}/${version}`, spec.names.kind)
      return
    } catch (error) {
      const initializing = error instanceof KubeError && (error.code === 429 || /initializing/i.test(error.message))
      if (!initializing || Date.now() >= deadline) return
      await sleep(200)
    }
  }
}

/**
 * Server-side applies objects phase by phase, in parallel within a phase; CRDs are waited to Established before
 * anything that may use them. Returns what the server answered: whole CRDs, and the metadata of everything else.
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
      const result = await applyOrReplace(client, object, options)
      options.progress?.applied?.(++done, objects.length, PHASES[index])
      return result
    })
    applied.push(...results)
    const crds = results.filter((o) => o.kind === 'CustomResourceDefinition')
    if (crds.length > 0 && !options.dryRun) {
      await waitReady(client, crds.map(refOf), {timeoutMs: options.timeoutMs})
      const deadline = Date.now() + options.timeoutMs
      await Promise.all(crds.map((crd) => untilListable(client, crd, deadline)))
    }
  }

  return applied
}

export interface PendingObject {
  conditions: string
  event?: string
  /** Why a workload's pods are not running: ImagePullBackOff, Unschedulable, CrashLoopBackOff, with the message. */
  pods?: string
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
      compareText(String(a.lastTimestamp ?? a.eventTime ?? ''), String(b.lastTimestamp ?? b.eventTime ?? '')),
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
 * Why an object being deleted is still there: a namespace's own conditions say it (NamespaceDeletionDiscoveryFailure
 * when an aggregated API does not answer, content or finalizers remaining); anything else waits for its finalizers.
 */
function whyNotDeleted(object: KubeObject | undefined): string {
  if (!object) return 'still present'
  const blocking = (
    (object.status as {conditions?: {message?: string; status: string; type: string}[]} | undefined)?.conditions ?? []
  ).filter((c) => c.status === 'True' && c.type.startsWith('Namespace'))
  if (blocking.length > 0) return blocking.map((c) => `${c.type}: ${c.message ?? ''}`.trim()).join('; ')
  const finalizers = object.metadata.finalizers ?? []
  return finalizers.length > 0 ? `waiting for finalizers ${finalizers.join(', ')}` : 'still present'
}

const WORKLOAD_KINDS = new Set(['DaemonSet', 'Deployment', 'Job', 'ReplicaSet', 'StatefulSet'])

/** Why a pod is not running, in the words `kubectl get pods` uses, or undefined when nothing holds it. */
function podWaitingReason(pod: KubeObject): string | undefined {
  const status = (pod.status ?? {}) as {
    conditions?: {message?: string; reason?: string; status: string; type: string}[]
    containerStatuses?: {state?: {waiting?: {message?: string; reason?: string}}}[]
    initContainerStatuses?: {state?: {waiting?: {message?: string; reason?: string}}}[]
  }
  const unscheduled = status.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False')
  if (unscheduled)
    return `${unscheduled.reason ?? 'Unschedulable'}${unscheduled.message ? ` (${unscheduled.message})` : ''}`
  const waiting = [...(status.initContainerStatuses ?? []), ...(status.containerStatuses ?? [])]
    .map((c) => c.state?.waiting)
    .find((w) => w?.reason && w.reason !== 'ContainerCreating' && w.reason !== 'PodInitializing')
  return waiting ? `${waiting.reason}${waiting.message ? ` (${waiting.message})` : ''}` : undefined
}

/** For each pending workload, the waiting reasons of its pods (named `<workload>-…`), one LIST per namespace. */
async function podReasons(client: KubeClient, refs: ObjectRef[]): Promise<Map<string, string>> {
  const reasons = new Map<string, string>()
  const workloads = refs.filter((ref) => WORKLOAD_KINDS.has(ref.kind) && ref.namespace)
  for (const namespace of new Set(workloads.map((ref) => ref.namespace!))) {
    const pods = await client.list('v1', 'Pod', {namespace}).catch(() => [])
    for (const ref of workloads.filter((w) => w.namespace === namespace)) {
      const found = pods
        .filter((pod) => pod.metadata.name.startsWith(`${ref.name}-`))
        .flatMap((pod) => {
          const reason = podWaitingReason(pod)
          return reason ? [`${pod.metadata.name}: ${reason}`] : []
        })
      if (found.length > 0) reasons.set(refKey(ref), found.slice(0, 3).join('; '))
    }
  }

  return reasons
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
  const waited = refs.filter((ref) => isWaited(ref))
  if (waited.length === 0) return
  const deadline = Date.now() + options.timeoutMs
  let states = new Map<string, {object?: KubeObject; readiness: Readiness}>()
  let notReady: ObjectRef[] = waited
  let failed: ObjectRef[] = []
  await follow(client, kindsOf(waited), {deadline, labelSelector: options.labelSelector}, (found) => {
    states = statesOf(waited, found)
    notReady = waited.filter((ref) => states.get(refKey(ref))?.readiness.state !== 'ready')
    failed = notReady.filter((ref) => states.get(refKey(ref))?.readiness.state === 'failed')
    options.progress?.ready?.(waited.length - notReady.length, waited.length, notReady[0] && describeRef(notReady[0]))
    return notReady.length === 0 || failed.length > 0
  })
  {
    if (notReady.length === 0) return
    {
      const [warnings, pods] = await Promise.all([latestWarnings(client, notReady), podReasons(client, notReady)])
      const pending = notReady.map((ref): PendingObject => {
        const state = states.get(refKey(ref))
        const readiness = state?.readiness
        return {
          conditions: state?.object ? conditionSummary(state.object) : '',
          event: warnings.get(`${ref.kind}|${ref.namespace ?? ''}|${ref.name}`),
          pods: pods.get(refKey(ref)),
          reason: readiness && readiness.state !== 'ready' ? readiness.reason : 'not found',
          ref,
          state: !state?.object ? 'missing' : readiness?.state === 'failed' ? 'failed' : 'pending',
        }
      })
      const lines = pending.map(
        (p) =>
          `  ${describeRef(p.ref)}: ${p.reason}${p.pods ? `; pods: ${p.pods}` : ''}${p.conditions ? `; conditions: ${p.conditions}` : ''}${p.event ? `; last warning: ${p.event}` : ''}`,
      )
      const headline =
        failed.length > 0
          ? `${failed.length} object${failed.length === 1 ? '' : 's'} failed`
          : `Timed out after ${Math.round(options.timeoutMs / 1000)}s waiting for ${notReady.length} object${notReady.length === 1 ? '' : 's'}`
      throw new NotReadyError([`${headline}:`, ...lines].join('\n'), pending)
    }
  }
}

/** Each (apiVersion, kind) of `refs` once. */
function kindsOf(refs: ObjectRef[]): KindRef[] {
  const kinds = new Map<string, KindRef>()
  for (const {apiVersion, kind} of refs) kinds.set(`${apiVersion}|${kind}`, {apiVersion, kind})
  return [...kinds.values()]
}

function statesOf(
  refs: ObjectRef[],
  found: Map<string, KubeObject>,
): Map<string, {object?: KubeObject; readiness: Readiness}> {
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

/** Current readiness of each ref: one LIST per (kind, apiVersion). */
export async function readinessMap(
  client: KubeClient,
  refs: ObjectRef[],
  options: {labelSelector?: string; skipUnlistable?: boolean} = {},
): Promise<Map<string, {object?: KubeObject; readiness: Readiness}>> {
  const found = new Map<string, KubeObject>()
  await Promise.all(
    kindsOf(refs).map(async ({apiVersion, kind}) => {
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
  return statesOf(refs, found)
}

/**
 * Deletes objects in reverse apply order (custom resources first) and waits, phase by phase, until each is gone from
 * the server, watching them (one LIST and WATCH per kind, narrowed by `labelSelector` when the objects carry one).
 *
 * Built-in objects in a namespace that is itself deleted are left to the namespace's deletion (only their workloads
 * are deleted at once, see below): deleting and waiting for them one by one only doubles the namespace controller's
 * work. Workloads elsewhere are deleted in the foreground, so their pods are gone when the wait ends.
 */
export async function deleteObjects(
  client: KubeClient,
  refs: ObjectRef[],
  options: {
    labelSelector?: string
    progress?: (done: number, total: number, waitingFor?: string) => void
    timeoutMs: number
  },
): Promise<void> {
  let done = 0
  const deadline = Date.now() + options.timeoutMs
  const doomed = new Set(refs.filter((ref) => ref.kind === 'Namespace' && ref.apiVersion === 'v1').map((r) => r.name))
  const covered = (ref: ObjectRef) => ref.namespace !== undefined && doomed.has(ref.namespace) && !isCustomResource(ref)
  // Counted as deleted once their namespaces are gone.
  const left = refs.filter((ref) => covered(ref)).length
  // Their pods are what a namespace's deletion waits for longest: their owners are deleted now, in the background
  // (not waited for), so the pods are going before the namespace controller comes to them.
  const podOwners = refs.filter((ref) => covered(ref) && POD_OWNERS.has(ref.kind))
  await Promise.all([
    parallel(podOwners, CONCURRENCY, async (ref) => client.delete(ref, {propagation: 'Background'})),
    askForCustomResources(
      client,
      refs.filter((ref) => ref.kind === 'CustomResourceDefinition'),
    ),
  ])
  for (const phase of sortForDelete(refs.filter((ref) => !covered(ref)))) {
    if (phase.length === 0) continue
    // Workloads in the foreground, so that their pods are gone when the wait ends. Anything else in the background:
    // a foreground deletion waits for the garbage collector, which watches a custom resource's kind only from its
    // next resync (up to a minute after the CRD appeared); kubectl deletes in the background too.
    await parallel(phase, CONCURRENCY, async (ref) =>
      client.delete(ref, {propagation: POD_OWNERS.has(ref.kind) ? 'Foreground' : 'Background'}),
    )
    let remaining: ObjectRef[] = phase
    let last = new Map<string, KubeObject>()
    await follow(
      client,
      kindsOf(phase),
      {deadline, labelSelector: options.labelSelector, skipUnlistable: true},
      (found) => {
        last = found
        remaining = phase.filter((ref) => found.has(refKey(ref)))
        const namespacesGone = remaining.length === 0 && phase.some((ref) => ref.kind === 'Namespace')
        options.progress?.(
          done + phase.length - remaining.length + (namespacesGone ? left : 0),
          refs.length,
          remaining[0] && describeRef(remaining[0]),
        )
        return remaining.length === 0
      },
    )
    if (remaining.length > 0) {
      const reasons = remaining.map((ref) => whyNotDeleted(last.get(refKey(ref))))
      throw new NotReadyError(
        [
          `Timed out waiting for ${remaining.length} object(s) to be deleted:`,
          ...remaining.map((r, i) => `  ${describeRef(r)}: ${reasons[i]}`),
        ].join('\n'),
        remaining.map((ref, i) => ({conditions: '', reason: reasons[i], ref, state: 'pending'})),
      )
    }

    done += phase.length
  }
}

/**
 * Asks for one custom resource of each CRD in `crds`, so that the API server has filled its cache of them before the
 * CRDs are deleted, phases later. The server builds a kind's watch cache at the first request for it; a CRD's
 * finalizer that lists the kind while that cache fills is turned away (429, "storage is (re)initializing") and tries
 * again with a doubling back-off: `kubectl delete` of 8 CRDs a second after they were created took 246 s here. A LIST with a limit is answered
 * from etcd while the cache fills, so this never waits for it. It only makes deletion faster: a CRD already gone or a
 * request that fails changes nothing, and the wait for deletion still reports what is left.
 */
async function askForCustomResources(client: KubeClient, crds: ObjectRef[]): Promise<void> {
  await parallel(crds, CONCURRENCY, async (ref) => {
    try {
      const crd = (await client.get(ref)) as
        | undefined
        | (KubeObject & {spec: {group: string; names: {kind: string}; versions: {name: string; served?: boolean}[]}})
      const version = crd?.spec.versions.find((v) => v.served !== false)
      if (crd && version) await client.list(`${crd.spec.group}/${version.name}`, crd.spec.names.kind, {limit: 1})
    } catch {
      // Best effort, as said above.
    }
  })
}

/**
 * Retries `work` while the API server cannot be reached (a restart of kube-apiserver, which rbac and hooks ask for,
 * leaves it away for a moment on a real node), for up to `timeoutMs`.
 */
export async function whileServerRestarts<T>(timeoutMs: number, work: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      return await work()
    } catch (error) {
      const unreachable = error instanceof KubeError && error.code === undefined
      if (!unreachable || Date.now() >= deadline) throw error
      await sleep(500)
    }
  }
}
