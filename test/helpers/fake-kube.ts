import {
  ApiError,
  type ApplyOptions,
  type KubeClient,
  type KubeObject,
  type ListOptions,
  type ObjectRef,
  UnknownKindError,
  type VersionedList,
  type Watch,
  type WatchEvent,
  type WatchOptions,
} from '../../src/kube/types.js'

/** How late the fake's watch events are. */
const WATCH_TICK_MS = 5

const CLUSTER_SCOPED = new Set([
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'Namespace',
  'Node',
  'APIService',
  'IngressClass',
  'MutatingWebhookConfiguration',
  'PersistentVolume',
  'RuntimeClass',
  'StorageClass',
  'ValidatingWebhookConfiguration',
])

/** matches `k=v` and `k in (a,b)` selectors, joined by commas outside parentheses. */
function matches(labels: Record<string, string> = {}, selector?: string): boolean {
  if (!selector) return true
  return selector.split(/,(?![^(]*\))/).every((term) => {
    const inMatch = /^(\S+) in \((.*)\)$/.exec(term.trim())
    if (inMatch) return inMatch[2].split(',').includes(labels[inMatch[1]])
    const [key, value] = term.split('=')
    return labels[key.trim()] === value.trim()
  })
}

interface CrdSpec {
  group: string
  names: {kind: string}
  versions?: {name: string}[]
}

/**
 * An in-memory API server for unit tests: server-side apply replaces the object (keeping status), and
 * `onWrite` lets a test play the controllers (for example, mark a Deployment available).
 *
 * As late as the real one where it matters: a CRD becomes Established only `crdEstablishMs` after it is applied, and
 * until then its custom resources are refused as an unknown kind, so an engine that stops waiting for CRDs fails.
 */
export class FakeKubeClient implements KubeClient {
  readonly objects = new Map<string, KubeObject>()
  readonly requestCounts: Record<string, number> = {}
  readonly server = 'https://fake:6443'
  onWrite: (object: KubeObject) => void = () => {}
  /** Every watch ends at once with a 410, as from a server that keeps dropping them. */
  watchesEnd = false
  /** How long a deleted namespace takes to go, with its contents. */
  namespaceFinalizeMs = 30
  /** How long after it is applied a CRD becomes Established. */
  crdEstablishMs = 40
  private version = 0
  private readonly timers = new Set<NodeJS.Timeout>()

  /** The CRD serving `apiVersion`/`kind`, if one was applied. */
  private crdFor(apiVersion: string, kind: string): KubeObject | undefined {
    const [group, version] = apiVersion.split('/')
    return [...this.objects.values()].find((o) => {
      if (o.kind !== 'CustomResourceDefinition') return false
      const spec = o.spec as CrdSpec
      return spec.group === group && spec.names.kind === kind && (spec.versions ?? []).some((v) => v.name === version)
    })
  }

  private established(crd: KubeObject): boolean {
    const conditions = (crd.status as {conditions?: {status: string; type: string}[]} | undefined)?.conditions ?? []
    return conditions.some((c) => c.type === 'Established' && c.status === 'True')
  }

  /** Refuses a custom resource whose CRD is not Established yet, as the real server's 404 on an unserved kind. */
  private checkServed(object: KubeObject): void {
    const crd = this.crdFor(object.apiVersion, object.kind)
    if (crd && !this.established(crd)) throw new UnknownKindError(object.apiVersion, object.kind)
  }

  private establishLater(key: string): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer)
      const crd = this.objects.get(key)
      if (crd) crd.status = {conditions: [{status: 'True', type: 'Established'}]}
    }, this.crdEstablishMs)
    this.timers.add(timer)
  }

  private count(method: string) {
    this.requestCounts[method] = (this.requestCounts[method] ?? 0) + 1
  }

  /** Built-in cluster-scoped kinds, and custom ones whose CRD says `scope: Cluster`. */
  private clusterScoped(apiVersion: string, kind: string): boolean {
    if (CLUSTER_SCOPED.has(kind)) return true
    return (this.crdFor(apiVersion, kind)?.spec as {scope?: string} | undefined)?.scope === 'Cluster'
  }

  private key(ref: ObjectRef): string {
    return `${ref.apiVersion}|${ref.kind}|${this.clusterScoped(ref.apiVersion, ref.kind) ? '' : (ref.namespace ?? '')}|${ref.name}`
  }

  async isNamespaced(apiVersion: string, kind: string): Promise<boolean> {
    return !this.clusterScoped(apiVersion, kind)
  }

  async serverVersion(): Promise<string> {
    this.count('GET')
    return 'v1.34.4'
  }

  async apply(object: KubeObject, options: ApplyOptions): Promise<KubeObject> {
    this.count('PATCH')
    this.checkServed(object)
    const existing = this.objects.get(this.key({...object, ...object.metadata}))
    const stored: KubeObject = {
      ...structuredClone(object),
      metadata: {
        ...structuredClone(object.metadata),
        generation: (existing?.metadata.generation ?? 0) + 1,
        resourceVersion: String(++this.version),
      },
      ...(existing?.status ? {status: existing.status} : {}),
    }
    // As the API server answers `as=PartialObjectMetadata`: nothing of the object but what identifies it.
    const answer = options.metadataOnly
      ? {apiVersion: object.apiVersion, kind: object.kind, metadata: stored.metadata}
      : stored
    if (options.dryRun) return answer
    const key = this.key({...object, ...object.metadata})
    this.objects.set(key, stored)
    if (object.kind === 'CustomResourceDefinition' && !existing) this.establishLater(key)
    this.onWrite(stored)
    return answer
  }

  async create(object: KubeObject): Promise<KubeObject> {
    this.count('POST')
    const key = this.key({...object, ...object.metadata})
    if (this.objects.has(key)) throw new ApiError('already exists', 409, {reason: 'AlreadyExists'})
    const stored = {...structuredClone(object), metadata: {...object.metadata, resourceVersion: String(++this.version)}}
    this.objects.set(key, stored)
    return stored
  }

  async replace(object: KubeObject): Promise<KubeObject> {
    this.count('PUT')
    const key = this.key({...object, ...object.metadata})
    const existing = this.objects.get(key)
    if (!existing) throw new ApiError('not found', 404, {reason: 'NotFound'})
    if (object.metadata.resourceVersion && object.metadata.resourceVersion !== existing.metadata.resourceVersion) {
      throw new ApiError('the object has been modified', 409, {reason: 'Conflict'})
    }

    const stored = {...structuredClone(object), metadata: {...object.metadata, resourceVersion: String(++this.version)}}
    this.objects.set(key, stored)
    return stored
  }

  async get(ref: ObjectRef): Promise<KubeObject | undefined> {
    this.count('GET')
    return structuredClone(this.objects.get(this.key(ref)))
  }

  async list(apiVersion: string, kind: string, options: ListOptions = {}): Promise<KubeObject[]> {
    this.count('GET')
    return [...this.objects.values()]
      .filter((o) => o.apiVersion === apiVersion && o.kind === kind)
      .filter((o) => !options.namespace || o.metadata.namespace === options.namespace)
      .filter((o) => matches(o.metadata.labels, options.labelSelector))
      .slice(0, options.limit)
      .map((o) => structuredClone(o))
  }

  async listVersioned(apiVersion: string, kind: string, options: ListOptions = {}): Promise<VersionedList> {
    return {items: await this.list(apiVersion, kind, options), resourceVersion: String(this.version)}
  }

  /**
   * Events as the real server sends them, a few milliseconds late: the watch compares what it last sent with the
   * objects every WATCH_TICK_MS, so it also sees changes a test makes directly in `objects`. `watchesEnd` makes every
   * new watch end at once, as a server that drops them (the waits must then fall back to listing).
   */
  watch(apiVersion: string, kind: string, options: WatchOptions, onEvent: (event: WatchEvent) => void): Watch {
    this.count('WATCH')
    const snapshot = (): Map<string, string> =>
      new Map(
        [...this.objects.entries()]
          .filter(([, o]) => o.apiVersion === apiVersion && o.kind === kind)
          .filter(([, o]) => !options.namespace || o.metadata.namespace === options.namespace)
          .filter(([, o]) => matches(o.metadata.labels, options.labelSelector))
          .map(([key, o]) => [key, JSON.stringify(o)]),
      )
    let sent = snapshot()
    let finish: (error?: Error) => void = () => {}
    const ended = new Promise<Error | undefined>((resolve) => {
      finish = resolve
    })
    if (this.watchesEnd) {
      finish(new ApiError('watch closed', 410, {reason: 'Expired'}))
      return {ended, stop() {}}
    }

    const timer = setInterval(() => {
      const now = snapshot()
      for (const [key, text] of now) {
        if (sent.get(key) !== text)
          onEvent({object: JSON.parse(text) as KubeObject, type: sent.has(key) ? 'MODIFIED' : 'ADDED'})
      }

      for (const [key, text] of sent)
        if (!now.has(key)) onEvent({object: JSON.parse(text) as KubeObject, type: 'DELETED'})
      sent = now
    }, WATCH_TICK_MS)
    const end = setTimeout(() => stop(), options.timeoutSeconds * 1000)
    const stop = () => {
      clearInterval(timer)
      clearTimeout(end)
      finish()
    }

    return {ended, stop}
  }

  async delete(ref: ObjectRef, options: {propagation?: string; resourceVersion?: string} = {}): Promise<boolean> {
    this.count('DELETE')
    const key = this.key(ref)
    const existing = this.objects.get(key)
    if (!existing) return false
    if (options.resourceVersion && options.resourceVersion !== existing.metadata.resourceVersion) {
      throw new ApiError('precondition failed', 409, {reason: 'Conflict'})
    }

    if (ref.kind === 'Namespace') {
      // As the namespace controller: the namespace and everything in it go a little later, together.
      existing.metadata.deletionTimestamp ??= new Date().toISOString()
      const timer = setTimeout(() => {
        this.timers.delete(timer)
        for (const [k, o] of this.objects) if (o.metadata.namespace === ref.name) this.objects.delete(k)
        this.objects.delete(key)
      }, this.namespaceFinalizeMs)
      this.timers.add(timer)
      return true
    }

    this.objects.delete(key)
    return true
  }

  writes(): number {
    return ['PATCH', 'POST', 'PUT', 'DELETE'].reduce((sum, m) => sum + (this.requestCounts[m] ?? 0), 0)
  }
}

/** Plays the Deployment controller and kubelet: every applied Deployment becomes available at once. */
export function deploymentsBecomeAvailable(object: KubeObject): void {
  if (object.kind !== 'Deployment') return
  const replicas = (object.spec as {replicas?: number}).replicas ?? 1
  object.status = {
    availableReplicas: replicas,
    conditions: [{status: 'True', type: 'Available'}],
    observedGeneration: object.metadata.generation,
    readyReplicas: replicas,
    replicas,
    updatedReplicas: replicas,
  }
}
