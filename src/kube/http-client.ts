import {Agent, request} from 'node:https'
import {createSecureContext} from 'node:tls'
import {type ClientRequest, type IncomingMessage, request as httpRequest} from 'node:http'

import {KubeError} from '../errors.js'
import {sleep} from '../util/async.js'
import {type ConnectOptions, type Credentials, loadCredentials} from './kubeconfig.js'
import {
  ApiError,
  type ApplyOptions,
  type KubeClient,
  type KubeObject,
  type ListOptions,
  type ObjectRef,
  type Status,
  UnknownKindError,
  type VersionedList,
  type Watch,
  type WatchEvent,
  type WatchOptions,
  describeRef,
} from './types.js'

const USER_AGENT = `mk8s (${process.platform}/${process.arch}) node/${process.versions.node}`

const REQUEST_LIMIT_MS = 30_000
/** The API server's answer as metadata alone, whatever the kind (see ApplyOptions.metadataOnly). */
const PARTIAL_METADATA = 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1'
/** One answer; a larger one is refused, as every read is bounded (a LIST of the largest kinds stays far below). */
const MAX_RESPONSE_BYTES = 128 * 1024 * 1024
/** One watch event; a larger one is refused, as every read is bounded. */
const MAX_WATCH_EVENT_BYTES = 16 * 1024 * 1024
const GRACE_MS = 2000
/**
 * A request the API server turned away (429 from its priority and fairness, or a 5xx with Retry-After while it
 * starts or stops) is sent again after the wait it asks for, as client-go does: it was not processed, so sending it
 * again is safe. Bounded by these tries, a wait of at most 10 s each, and the command's deadline.
 */
const THROTTLED_TRIES = 10
const MAX_RETRY_AFTER_MS = 10_000
/**
 * Aggregated discovery (GA in Kubernetes 1.30): every group's resources in one answer. A server that does not know
 * it answers the plain group list, and each group version is then read on its own.
 */
const AGGREGATED_DISCOVERY = [
  'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList',
  'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList',
  'application/json',
].join(',')

interface AggregatedDiscovery {
  items?: {
    metadata?: {name?: string}
    versions?: {
      freshness?: string
      resources?: {resource: string; responseKind?: {kind?: string}; scope?: string}[]
      version: string
    }[]
  }[]
  kind?: string
}

interface Resource {
  namespaced: boolean
  plural: string
}

/**
 * A small JSON client for the Kubernetes API over one keep-alive connection pool. It sends objects untouched:
 * @kubernetes/client-node's typed serializer drops fields it does not model, such as
 * x-kubernetes-preserve-unknown-fields in CRDs, and importing its generated API costs most of a second.
 */
export class HttpKubeClient implements KubeClient {
  readonly requestCounts: Record<string, number> = {}
  private readonly agent: Agent
  private readonly discovery = new Map<string, Promise<Map<string, Resource>>>()
  /** What prefetchDiscovery read, by group version; each entry serves one lookup, a later miss asks the group. */
  private readonly aggregated = new Map<string, Map<string, Resource>>()
  private prefetch?: Promise<void>
  private readonly url: URL
  readonly server: string

  /** When the command's --timeout runs out (epoch ms); every request is bounded by it. */
  private readonly deadline?: number

  private constructor(
    private readonly base: Credentials,
    timeoutMs?: number,
  ) {
    this.deadline = timeoutMs === undefined ? undefined : Date.now() + timeoutMs
    this.server = base.server
    this.url = new URL(base.server)
    this.agent = new Agent({
      keepAlive: true,
      maxSockets: 32,
      rejectUnauthorized: base.rejectUnauthorized,
      // One context for every connection: given the PEM files instead, Node parses them again for each connection,
      // which costs a parallel apply a third of its own CPU time.
      secureContext: createSecureContext({ca: base.ca, cert: base.cert, key: base.key}),
      servername: base.servername,
    })
  }

  /** The cluster CA of the kubeconfig: MicroK8s agents serve certificates it signed. */
  get certificateAuthority(): Buffer | undefined {
    return this.base.ca
  }

  /** `timeoutMs`: the command's whole budget (--timeout); without it each request may take up to 30s. */
  static async connect(options: ConnectOptions & {timeoutMs?: number} = {}): Promise<HttpKubeClient> {
    const started = Date.now()
    const credentials = await loadCredentials(options)
    // An exec plugin's time counts against the same budget.
    return new HttpKubeClient(
      credentials,
      options.timeoutMs === undefined ? undefined : options.timeoutMs - (Date.now() - started),
    )
  }

  /**
   * How long a request may take: what is left of the command's budget (with a short grace once it is spent, so that
   * a failed change can still release its lock), never more than 30s.
   */
  private requestLimit(): number {
    if (this.deadline === undefined) return REQUEST_LIMIT_MS
    return Math.min(REQUEST_LIMIT_MS, Math.max(this.deadline - Date.now(), GRACE_MS))
  }

  close(): void {
    this.agent.destroy()
  }

  /** One request to the API server with the kubeconfig's credentials; `path` is below the server URL's path. */
  private request(
    method: string,
    path: string,
    headers: Record<string, number | string>,
    onResponse: (res: IncomingMessage) => void,
  ): ClientRequest {
    const https = this.url.protocol === 'https:'
    return (https ? request : httpRequest)(
      {
        agent: https ? this.agent : undefined,
        auth: this.base.auth,
        // The API server's audit log and metrics name the client by its User-Agent.
        headers: {...this.base.headers, Accept: 'application/json', 'User-Agent': USER_AGENT, ...headers},
        hostname: this.url.hostname,
        method,
        path: `${this.url.pathname.replace(/\/$/, '')}${path}`,
        port: this.url.port,
      },
      onResponse,
    )
  }

  private send<T>(
    method: string,
    path: string,
    body?: unknown,
    options: {accept?: string; contentType?: string; retried?: boolean; throttled?: number} = {},
  ): Promise<T> {
    const {accept = 'application/json', contentType = 'application/json', retried = false, throttled = 0} = options
    this.requestCounts[method] = (this.requestCounts[method] ?? 0) + 1
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body))
    const headers: Record<string, number | string> = payload
      ? {Accept: accept, 'Content-Length': payload.length, 'Content-Type': contentType}
      : {Accept: accept}
    const started = Date.now()
    const limit = this.requestLimit()
    return new Promise<T>((resolve, reject) => {
      // A server that accepts the connection and never answers: the deadline ends the request, whatever the socket does.
      const timer = setTimeout(() => req.destroy(Object.assign(new Error('no answer'), {code: 'MK8S_DEADLINE'})), limit)
      const req = this.request(method, path, headers, (res) => {
        const chunks: Buffer[] = []
        let received = 0
        res.on('data', (chunk: Buffer) => {
          received += chunk.length
          if (received > MAX_RESPONSE_BYTES)
            req.destroy(Object.assign(new Error('too large'), {code: 'MK8S_TOO_LARGE'}))
          else chunks.push(chunk)
        })
        res.on('end', () => {
          clearTimeout(timer)
          const text = Buffer.concat(chunks).toString('utf8')
          let parsed: unknown
          try {
            parsed = text ? JSON.parse(text) : undefined
          } catch {
            parsed = {message: text.trim().slice(0, 200)}
          }

          const code = res.statusCode ?? 0
          if (code >= 200 && code < 300) {
            resolve(parsed as T)
            return
          }

          const retryAfter = this.retryAfter(code, res.headers['retry-after'], throttled)
          if (retryAfter !== undefined) {
            resolve(
              sleep(retryAfter).then(() => this.send<T>(method, path, body, {...options, throttled: throttled + 1})),
            )
            return
          }

          const status = (parsed ?? {}) as Status
          const message = status.message || `HTTP ${code} from ${method} ${path}`
          // A request turned away more than once says so: the refusal lasted, it was not one busy moment.
          reject(new ApiError(throttled > 0 ? `${message} (sent ${throttled + 1} times)` : message, code, status))
        })
      })
      req.on('error', (error: NodeJS.ErrnoException) => {
        clearTimeout(timer)
        if (error.code === 'MK8S_DEADLINE') {
          const waited = ((Date.now() - started) / 1000).toFixed(1)
          reject(
            new KubeError(
              `The Kubernetes API server at ${this.server} did not answer ${method} ${path} within ${waited}s`,
            ),
          )
          return
        }

        if (error.code === 'MK8S_TOO_LARGE') {
          const limit = `${MAX_RESPONSE_BYTES / 1024 / 1024} MiB`
          reject(
            new KubeError(
              `The Kubernetes API server at ${this.server} answered ${method} ${path} with more than ${limit}`,
            ),
          )
          return
        }

        // A kept-alive connection the server closed (it restarted: rbac, or a flag change) fails before the request
        // reached it: sent once more on a fresh connection, as Node's documentation advises.
        if (req.reusedSocket && !retried && (error.code === 'ECONNRESET' || error.code === 'EPIPE')) {
          resolve(this.send<T>(method, path, body, {...options, retried: true}))
          return
        }

        const why = error.code === 'ECONNREFUSED' ? 'connection refused' : (error.code ?? error.message)
        reject(new KubeError(`Cannot reach the Kubernetes API server at ${this.server} (${why})`))
      })
      if (payload) req.write(payload)
      req.end()
    })
  }

  /** How long to wait before sending a turned-away request again; undefined when it is not to be sent again. */
  private retryAfter(code: number, header: string | undefined, tries: number): number | undefined {
    if (code !== 429 && !(code >= 500 && header !== undefined)) return undefined
    if (tries + 1 >= THROTTLED_TRIES) return undefined
    const seconds = Number(header)
    const wait = Number.isFinite(seconds) && seconds >= 0 ? Math.min(seconds * 1000, MAX_RETRY_AFTER_MS) : 1000
    // A wait that would outlast the command's budget reports the refusal now instead.
    if (this.deadline !== undefined && Date.now() + wait >= this.deadline) return undefined
    return wait
  }

  /**
   * Reads the resources of every group in two requests (/api and /apis, aggregated), ahead of the first lookup: a
   * change then asks for no group on its own, one after another. Lookups made meanwhile wait for it; a server
   * without aggregated discovery, or one that fails it, is asked group by group as before.
   */
  prefetchDiscovery(): void {
    this.prefetch ??= Promise.all(
      ['/api', '/apis'].map(async (path) => {
        const list = await this.send<AggregatedDiscovery>('GET', path, undefined, {accept: AGGREGATED_DISCOVERY})
        if (list?.kind !== 'APIGroupDiscoveryList') return
        for (const group of list.items ?? []) {
          const name = group.metadata?.name ?? ''
          for (const version of group.versions ?? []) {
            // A stale version is an aggregated API server that did not answer: its group is asked on its own.
            if (version.freshness === 'Stale') continue
            const resources = new Map<string, Resource>()
            for (const r of version.resources ?? []) {
              const kind = r.responseKind?.kind
              if (kind) resources.set(kind, {namespaced: r.scope === 'Namespaced', plural: r.resource})
            }
            this.aggregated.set(name ? `${name}/${version.version}` : version.version, resources)
          }
        }
      }),
    ).then(
      () => {},
      () => {},
    )
  }

  private resources(apiVersion: string): Promise<Map<string, Resource>> {
    let found = this.discovery.get(apiVersion)
    if (!found) {
      found = (this.prefetch ?? Promise.resolve()).then(() => {
        const known = this.aggregated.get(apiVersion)
        this.aggregated.delete(apiVersion)
        return known ?? this.groupResources(apiVersion)
      })
      this.discovery.set(apiVersion, found)
    }

    return found
  }

  private groupResources(apiVersion: string): Promise<Map<string, Resource>> {
    const path = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`
    return this.send<{resources: {kind: string; name: string; namespaced: boolean}[]}>('GET', path).then(
      (list) =>
        new Map(
          list.resources
            .filter((r) => !r.name.includes('/'))
            .map((r) => [r.kind, {namespaced: r.namespaced, plural: r.name}]),
        ),
      (error: unknown) => {
        this.discovery.delete(apiVersion)
        if (error instanceof ApiError && error.code === 404) return new Map<string, Resource>()
        throw error
      },
    )
  }

  private async resource(apiVersion: string, kind: string): Promise<Resource> {
    let resource = (await this.resources(apiVersion)).get(kind)
    if (!resource) {
      // A CRD applied moments ago is not in the cached discovery yet.
      this.discovery.delete(apiVersion)
      resource = (await this.resources(apiVersion)).get(kind)
    }

    if (!resource) throw new UnknownKindError(apiVersion, kind)
    return resource
  }

  private async path(
    ref: {apiVersion: string; kind: string; name?: string; namespace?: string},
    query = '',
  ): Promise<string> {
    const {namespaced, plural} = await this.resource(ref.apiVersion, ref.kind)
    const prefix = ref.apiVersion.includes('/') ? `/apis/${ref.apiVersion}` : `/api/${ref.apiVersion}`
    const namespace = namespaced && ref.namespace ? `/namespaces/${encodeURIComponent(ref.namespace)}` : ''
    const name = ref.name ? `/${encodeURIComponent(ref.name)}` : ''
    return `${prefix}${namespace}/${plural}${name}${query}`
  }

  async isNamespaced(apiVersion: string, kind: string): Promise<boolean> {
    return (await this.resource(apiVersion, kind)).namespaced
  }

  async serverVersion(): Promise<string> {
    return (await this.send<{gitVersion: string}>('GET', '/version')).gitVersion
  }

  async apply(object: KubeObject, options: ApplyOptions): Promise<KubeObject> {
    const query = new URLSearchParams({fieldManager: options.fieldManager})
    if (options.force) query.set('force', 'true')
    if (options.dryRun) query.set('dryRun', 'All')
    const path = await this.path({...object, ...object.metadata}, `?${query}`)
    try {
      const answer = await this.send<KubeObject>('PATCH', path, object, {
        accept: options.metadataOnly ? PARTIAL_METADATA : 'application/json',
        contentType: 'application/apply-patch+yaml',
      })
      return options.metadataOnly ? {...answer, apiVersion: object.apiVersion, kind: object.kind} : answer
    } catch (error) {
      throw explain(error, `apply ${describeRef({...object, ...object.metadata})}`)
    }
  }

  async create(object: KubeObject): Promise<KubeObject> {
    const path = await this.path({
      apiVersion: object.apiVersion,
      kind: object.kind,
      namespace: object.metadata.namespace,
    })
    return this.send<KubeObject>('POST', path, object)
  }

  async replace(object: KubeObject): Promise<KubeObject> {
    return this.send<KubeObject>('PUT', await this.path({...object, ...object.metadata}), object)
  }

  async get(ref: ObjectRef): Promise<KubeObject | undefined> {
    try {
      return await this.send<KubeObject>('GET', await this.path(ref))
    } catch (error) {
      if (error instanceof ApiError && error.code === 404) return undefined
      throw explain(error, `read ${describeRef(ref)}`)
    }
  }

  async list(apiVersion: string, kind: string, options: ListOptions = {}): Promise<KubeObject[]> {
    return (await this.listVersioned(apiVersion, kind, options)).items
  }

  async listVersioned(apiVersion: string, kind: string, options: ListOptions = {}): Promise<VersionedList> {
    const query = new URLSearchParams()
    if (options.labelSelector) query.set('labelSelector', options.labelSelector)
    if (options.fieldSelector) query.set('fieldSelector', options.fieldSelector)
    if (options.limit !== undefined) query.set('limit', String(options.limit))
    const path = await this.path({apiVersion, kind, namespace: options.namespace}, query.size > 0 ? `?${query}` : '')
    try {
      const list = await this.send<{items: KubeObject[]; metadata: {resourceVersion: string}}>('GET', path)
      return {
        items: list.items.map((item) => ({...item, apiVersion, kind})),
        resourceVersion: list.metadata.resourceVersion,
      }
    } catch (error) {
      throw explain(error, `list ${kind}`)
    }
  }

  /**
   * One watch request: newline-delimited events, each at most MAX_WATCH_EVENT_BYTES. The server ends it after
   * `timeoutSeconds`; an ERROR event (410 Gone: the resourceVersion is too old) ends it with that error.
   */
  watch(apiVersion: string, kind: string, options: WatchOptions, onEvent: (event: WatchEvent) => void): Watch {
    let req: ClientRequest | undefined
    let stopped = false
    const ended = (async (): Promise<Error | undefined> => {
      const query = new URLSearchParams({
        resourceVersion: options.resourceVersion,
        timeoutSeconds: String(Math.max(1, Math.ceil(options.timeoutSeconds))),
        watch: '1',
      })
      if (options.labelSelector) query.set('labelSelector', options.labelSelector)
      if (options.fieldSelector) query.set('fieldSelector', options.fieldSelector)
      const path = await this.path({apiVersion, kind, namespace: options.namespace}, `?${query}`)
      if (stopped) return undefined
      this.requestCounts.WATCH = (this.requestCounts.WATCH ?? 0) + 1
      return new Promise<Error | undefined>((resolve) => {
        req = this.request('GET', path, {}, (res) => {
          if (res.statusCode !== 200) {
            res.resume()
            resolve(new KubeError(`watch ${kind}: HTTP ${res.statusCode}`, res.statusCode))
            return
          }

          let buffer = ''
          res.setEncoding('utf8')
          res.on('data', (chunk: string) => {
            buffer += chunk
            if (buffer.length > MAX_WATCH_EVENT_BYTES) {
              req?.destroy()
              resolve(new KubeError(`watch ${kind}: an event larger than ${MAX_WATCH_EVENT_BYTES} bytes`))
              return
            }

            for (let end = buffer.indexOf('\n'); end !== -1; end = buffer.indexOf('\n')) {
              const line = buffer.slice(0, end)
              buffer = buffer.slice(end + 1)
              if (!line.trim()) continue
              let event: {object: KubeObject & Status & {code?: number}; type: string}
              try {
                event = JSON.parse(line) as typeof event
              } catch {
                req?.destroy()
                resolve(new KubeError(`watch ${kind}: an event that is not JSON`))
                return
              }

              if (event.type === 'ERROR') {
                req?.destroy()
                resolve(new KubeError(`watch ${kind}: ${event.object.message ?? 'error'}`, event.object.code))
                return
              }

              if (event.type === 'ADDED' || event.type === 'MODIFIED' || event.type === 'DELETED')
                onEvent({object: {...event.object, apiVersion, kind}, type: event.type})
            }
          })
          res.on('end', () => resolve(undefined))
          res.on('error', (error) => resolve(stopped ? undefined : error))
        })
        req.on('error', (error) => resolve(stopped ? undefined : error))
        req.end()
      })
    })()
    return {
      ended,
      stop() {
        stopped = true
        req?.destroy()
      },
    }
  }

  async delete(
    ref: ObjectRef,
    options: {propagation?: 'Background' | 'Foreground'; resourceVersion?: string} = {},
  ): Promise<boolean> {
    const body = {
      apiVersion: 'v1',
      kind: 'DeleteOptions',
      propagationPolicy: options.propagation ?? 'Foreground',
      ...(options.resourceVersion ? {preconditions: {resourceVersion: options.resourceVersion}} : {}),
    }
    try {
      await this.send('DELETE', await this.path(ref), body)
      return true
    } catch (error) {
      if (error instanceof ApiError && error.code === 404) return false
      if (error instanceof UnknownKindError) return false
      throw explain(error, `delete ${describeRef(ref)}`)
    }
  }
}

/** One line a user can act on: who was refused what, or which field another manager owns. */
function explain(error: unknown, action: string): unknown {
  if (!(error instanceof ApiError)) return error
  if (error.code === 403) return new ApiError(`Forbidden: cannot ${action}: ${error.message}`, 403, error.status)
  if (error.code === 401)
    return new ApiError(
      `Unauthorized: the API server refused the kubeconfig credentials (${action})`,
      401,
      error.status,
    )
  if (error.code === 409 && error.status.reason === 'Conflict' && error.status.details?.causes?.length) {
    const owners = error.status.details.causes
      .map((cause) => [cause.message, cause.field && `on ${cause.field}`].filter(Boolean).join(' '))
      .join('; ')
    return new ApiError(
      `Conflict: cannot ${action}: ${owners}\nUse --force-conflicts to take these fields over`,
      409,
      error.status,
    )
  }

  return new ApiError(`Cannot ${action}: ${error.message}`, error.code ?? 0, error.status)
}
