import {KubeError} from '../errors.js'

export interface ObjectMeta {
  annotations?: Record<string, string>
  creationTimestamp?: string
  deletionTimestamp?: string
  finalizers?: string[]
  generation?: number
  labels?: Record<string, string>
  managedFields?: unknown[]
  name: string
  namespace?: string
  ownerReferences?: {controller?: boolean; kind: string; name: string; uid?: string}[]
  resourceVersion?: string
  uid?: string
}

export interface KubeObject {
  apiVersion: string
  kind: string
  metadata: ObjectMeta
  [key: string]: unknown
}

/** What identifies an object: enough to GET, DELETE or list it. */
export interface ObjectRef {
  apiVersion: string
  kind: string
  name: string
  namespace?: string
}

export const refOf = (object: KubeObject): ObjectRef => ({
  apiVersion: object.apiVersion,
  kind: object.kind,
  name: object.metadata.name,
  ...(object.metadata.namespace ? {namespace: object.metadata.namespace} : {}),
})

export const describeRef = (ref: ObjectRef): string =>
  `${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`

export const refKey = (ref: ObjectRef): string => `${ref.apiVersion}|${ref.kind}|${ref.namespace ?? ''}|${ref.name}`

export const groupOf = (apiVersion: string): string => (apiVersion.includes('/') ? apiVersion.split('/')[0] : '')

export interface ApplyOptions {
  dryRun?: boolean
  fieldManager: string
  force?: boolean
  /**
   * Answer with the object's metadata alone (apiVersion and kind as sent): a caller that needs no more saves the
   * server writing, and itself reading, the whole object back.
   */
  metadataOnly?: boolean
}

export interface ListOptions {
  fieldSelector?: string
  labelSelector?: string
  /** At most this many items (the server may send fewer); all when unset. */
  limit?: number
  namespace?: string
}

export interface VersionedList {
  items: KubeObject[]
  resourceVersion: string
}

export interface WatchOptions extends ListOptions {
  resourceVersion: string
  timeoutSeconds: number
}

export interface WatchEvent {
  object: KubeObject
  type: 'ADDED' | 'DELETED' | 'MODIFIED'
}

/** A running watch: `ended` settles when the stream ends (with its error, if one ended it); `stop` ends it. */
export interface Watch {
  ended: Promise<Error | undefined>
  stop(): void
}

/**
 * The Kubernetes port: everything mk8s asks of an API server. The real one speaks HTTPS to the server of a
 * kubeconfig; unit tests hand in a fake.
 */
export interface KubeClient {
  apply(object: KubeObject, options: ApplyOptions): Promise<KubeObject>
  create(object: KubeObject): Promise<KubeObject>
  /** Foreground propagation unless `propagation` says otherwise (a record has no dependents to wait for). */
  delete(
    ref: ObjectRef,
    options?: {propagation?: 'Background' | 'Foreground'; resourceVersion?: string},
  ): Promise<boolean>
  get(ref: ObjectRef): Promise<KubeObject | undefined>
  isNamespaced(apiVersion: string, kind: string): Promise<boolean>
  list(apiVersion: string, kind: string, options?: ListOptions): Promise<KubeObject[]>
  /** A LIST with the resourceVersion a watch can start from; optional, as `watch` is. */
  listVersioned?(apiVersion: string, kind: string, options?: ListOptions): Promise<VersionedList>
  /**
   * Streams the changes of a kind after `resourceVersion` until stopped, the server ends the stream or
   * `timeoutSeconds` pass. Optional: waits poll with LIST where a client cannot watch.
   */
  watch?(apiVersion: string, kind: string, options: WatchOptions, onEvent: (event: WatchEvent) => void): Watch
  replace(object: KubeObject): Promise<KubeObject>
  /** The server's gitVersion, such as v1.34.4. */
  serverVersion(): Promise<string>
  /** A short name for error messages: the server URL. */
  readonly server: string
  /** Requests made so far by HTTP method, so callers (and tests) can tell reads from writes. */
  readonly requestCounts: Record<string, number>
}

/** The API server's Status body of a failed request. */
export interface Status {
  details?: {causes?: {field?: string; message?: string; reason?: string}[]}
  message?: string
  reason?: string
}

/** The API server answered a request with an error status; `status` keeps its explanation. */
export class ApiError extends KubeError {
  constructor(
    message: string,
    code: number,
    readonly status: Status,
  ) {
    super(message, code)
    this.name = 'ApiError'
  }
}

/** The server serves no such kind: an uninstalled CRD, or a custom resource whose CRD is in the same apply. */
export class UnknownKindError extends KubeError {
  constructor(apiVersion: string, kind: string) {
    super(`The server does not know ${kind} in ${apiVersion}`)
    this.name = 'UnknownKindError'
  }
}
