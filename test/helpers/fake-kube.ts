import {
  ApiError,
  type ApplyOptions,
  type KubeClient,
  type KubeObject,
  type ListOptions,
  type ObjectRef,
} from '../../src/kube/types.js'

const CLUSTER_SCOPED = new Set([
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'Namespace',
  'Node',
  'APIService',
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

/**
 * An in-memory API server for unit tests: server-side apply replaces the object (keeping status), and
 * `onWrite` lets a test play the controllers (for example, mark a Deployment available).
 */
export class FakeKubeClient implements KubeClient {
  readonly objects = new Map<string, KubeObject>()
  readonly requestCounts: Record<string, number> = {}
  readonly server = 'https://fake:6443'
  onWrite: (object: KubeObject) => void = () => {}
  private version = 0

  private count(method: string) {
    this.requestCounts[method] = (this.requestCounts[method] ?? 0) + 1
  }

  private key(ref: ObjectRef): string {
    return `${ref.apiVersion}|${ref.kind}|${CLUSTER_SCOPED.has(ref.kind) ? '' : (ref.namespace ?? '')}|${ref.name}`
  }

  async isNamespaced(_apiVersion: string, kind: string): Promise<boolean> {
    return !CLUSTER_SCOPED.has(kind)
  }

  async serverVersion(): Promise<string> {
    this.count('GET')
    return 'v1.34.4'
  }

  async apply(object: KubeObject, options: ApplyOptions): Promise<KubeObject> {
    this.count('PATCH')
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
    if (options.dryRun) return stored
    this.objects.set(this.key({...object, ...object.metadata}), stored)
    this.onWrite(stored)
    return stored
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
      .map((o) => structuredClone(o))
  }

  async delete(ref: ObjectRef, options: {resourceVersion?: string} = {}): Promise<boolean> {
    this.count('DELETE')
    const key = this.key(ref)
    const existing = this.objects.get(key)
    if (!existing) return false
    if (options.resourceVersion && options.resourceVersion !== existing.metadata.resourceVersion) {
      throw new ApiError('precondition failed', 409, {reason: 'Conflict'})
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
