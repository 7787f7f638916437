import {homedir} from 'node:os'
import {dirname, isAbsolute, join, resolve} from 'node:path'

import {UserError, ValidationError} from '../errors.js'
import {MAX_INPUT_FILE_BYTES, readBoundedSync} from '../host/fs.js'
import {parseYamlSource} from '../models/yaml-source.js'

export interface ConnectOptions {
  context?: string
  kubeconfig?: string
  /** The command's budget: an exec credential plugin gets no longer than this (nor than a minute). */
  timeoutMs?: number
}

/** What an HTTPS request to the API server needs: the server URL, TLS material and auth headers. */
export interface Credentials {
  auth?: string
  ca?: Buffer
  cert?: Buffer
  headers: Record<string, string>
  key?: Buffer
  rejectUnauthorized?: boolean
  server: string
  servername?: string
}

interface Named<T> {
  name: string
  [key: string]: unknown
  value: T
}

interface RawConfig {
  clusters?: {cluster: Record<string, unknown>; name: string}[]
  contexts?: {context: {cluster: string; namespace?: string; user: string}; name: string}[]
  'current-context'?: string
  users?: {name: string; user: Record<string, unknown>}[]
}

function files(options: ConnectOptions): {label: string; paths: string[]} {
  if (options.kubeconfig) return {label: options.kubeconfig, paths: [options.kubeconfig]}
  const env = process.env.KUBECONFIG
  if (env) return {label: env, paths: env.split(':').filter(Boolean)}
  const fallback = join(homedir(), '.kube', 'config')
  return {label: fallback, paths: [fallback]}
}

/**
 * Reads kubeconfig files as kubectl does: --kubeconfig, else every file of $KUBECONFIG merged (the first to define
 * a name wins), else ~/.kube/config. Paths inside a file are relative to that file.
 */
function load(options: ConnectOptions) {
  const {label, paths} = files(options)
  const clusters = new Map<string, Named<Record<string, unknown>>>()
  const users = new Map<string, Named<Record<string, unknown>>>()
  const contexts = new Map<string, {cluster: string; user: string}>()
  let current: string | undefined
  let read = 0
  for (const path of paths) {
    let raw: RawConfig
    try {
      raw = (parseYamlSource(path, readBoundedSync(path, MAX_INPUT_FILE_BYTES), path).data ?? {}) as RawConfig
      read++
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code === 'ENOENT' && !options.kubeconfig && paths.length > 1) continue
      const detail =
        error instanceof ValidationError
          ? `line ${error.problems[0]?.line}: ${error.problems[0]?.message}`
          : code === 'ENOENT'
            ? 'no such file'
            : code === 'EISDIR'
              ? 'is a folder, not a file'
              : (error as Error).message.split('\n')[0]
      throw new UserError(`Invalid kubeconfig ${path}: ${detail}`)
    }

    if (typeof raw !== 'object' || Array.isArray(raw))
      throw new UserError(`Invalid kubeconfig ${path}: not a kubeconfig mapping`)
    const base = dirname(resolve(path))
    // Each section is a list of {name, <section>: mapping}; anything else is named, never a TypeError.
    const entries = <T>(field: 'clusters' | 'contexts' | 'users', inner: string): ({name: string} & T)[] => {
      const list: unknown = raw[field] ?? []
      if (!Array.isArray(list)) throw new UserError(`Invalid kubeconfig ${path}: ${field} must be a list`)
      return (list as unknown[]).filter((item): item is {name: string} & T => {
        const entry = item as Record<string, unknown> | null
        if (typeof entry !== 'object' || entry === null || typeof entry.name !== 'string' || !entry.name) return false
        const value = entry[inner]
        if (value !== undefined && (typeof value !== 'object' || value === null || Array.isArray(value))) {
          throw new UserError(
            `Invalid kubeconfig ${path}: ${field} "${entry.name.slice(0, 80)}": ${inner} must be a mapping`,
          )
        }

        return true
      })
    }

    for (const c of entries<{cluster?: Record<string, unknown>}>('clusters', 'cluster'))
      if (!clusters.has(c.name)) clusters.set(c.name, {name: c.name, value: {...c.cluster, base}})
    for (const u of entries<{user?: Record<string, unknown>}>('users', 'user'))
      if (!users.has(u.name)) users.set(u.name, {name: u.name, value: {...u.user, base}})
    for (const c of entries<{context?: {cluster: string; user: string}}>('contexts', 'context'))
      if (!contexts.has(c.name) && c.context) contexts.set(c.name, c.context)
    const currentContext = raw['current-context']
    current ??= typeof currentContext === 'string' && currentContext ? currentContext : undefined
  }

  if (read === 0) throw new UserError(`Invalid kubeconfig ${label}: no such file`)
  return {clusters, contexts, current, label, users}
}

/** PEM material from `<field>-data` (base64) or `<field>` (a file); junk is one line naming the field. */
function material(base: string, file: unknown, data: unknown, field: string): Buffer | undefined {
  let pem: Buffer | undefined
  if (typeof data === 'string' && data) pem = Buffer.from(data, 'base64')
  else if (typeof file === 'string' && file) {
    pem = Buffer.from(readBoundedSync(isAbsolute(file) ? file : join(base, file), MAX_INPUT_FILE_BYTES))
  }

  if (pem && !pem.toString('latin1').includes('-----BEGIN ')) throw new Error(`${field} is not PEM data`)
  return pem
}

/** The server URL as kubectl reads it: http or https, a host, an optional port and path; one line when it is not. */
function serverUrl(server: string, label: string, cluster: string): string {
  let url: URL
  try {
    url = new URL(server.includes('://') ? server : `https://${server}`)
  } catch {
    throw new UserError(
      `Invalid kubeconfig ${label}: cluster "${cluster}": server ${JSON.stringify(server.slice(0, 200))} is not a URL`,
    )
  }

  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new UserError(
      `Invalid kubeconfig ${label}: cluster "${cluster}": server must be http:// or https://, not ${url.protocol}`,
    )
  }

  return url.href.replace(/\/+$/, '')
}

/** Fields of a kubeconfig cluster or user that name files, relative to the file that holds them. */
const PATH_FIELDS = ['certificate-authority', 'client-certificate', 'client-key', 'tokenFile']

/**
 * The chosen context as a kubeconfig of its own: that context, its cluster and its user, with every file path made
 * absolute, so that programs given it (kubectl, helm, a hook's `$SNAP_DATA/credentials/client.config`) reach the same
 * cluster as mk8s. Exec plugins stay as they are: the programs run them.
 */
export function exportContext(options: ConnectOptions = {}): {context: string; text: string} {
  const {config, context, contextName} = chosenContext(options)
  const absolute = (entry: Record<string, unknown> | undefined) => {
    const {base, ...rest} = entry ?? {}
    for (const field of PATH_FIELDS) {
      const value = rest[field]
      if (typeof value === 'string' && value && !isAbsolute(value)) rest[field] = join(base as string, value)
    }

    return rest
  }

  const document = {
    apiVersion: 'v1',
    clusters: [{cluster: absolute(config.clusters.get(context.cluster)?.value), name: context.cluster}],
    contexts: [{context, name: contextName}],
    'current-context': contextName,
    kind: 'Config',
    users: [{name: context.user, user: absolute(config.users.get(context.user)?.value)}],
  }
  return {context: contextName, text: JSON.stringify(document, null, 2)}
}

/** The kubeconfig as kubectl reads it, and the context --context or its current-context names. */
function chosenContext(options: ConnectOptions) {
  const config = load(options)
  const contextName = options.context ?? config.current
  if (!contextName) {
    throw new UserError(`No Kubernetes cluster configured: kubeconfig ${config.label} has no current context`, {
      suggestions: ['Pass --kubeconfig FILE or --context NAME, or set KUBECONFIG'],
    })
  }

  const context = config.contexts.get(contextName)
  if (!context) throw new UserError(`Context "${contextName}" is not in kubeconfig ${config.label}`)
  return {config, context, contextName}
}

/** Credentials of the chosen context; exec and auth-provider users are left to @kubernetes/client-node. */
export async function loadCredentials(options: ConnectOptions = {}): Promise<Credentials> {
  const {config, context, contextName} = chosenContext(options)
  const cluster = config.clusters.get(context.cluster)?.value
  if (!cluster)
    throw new UserError(
      `Context "${contextName}" names cluster "${context.cluster}", which is not in kubeconfig ${config.label}`,
    )
  if (typeof cluster.server !== 'string' || !cluster.server)
    throw new UserError(`Cluster "${context.cluster}" in kubeconfig ${config.label} has no server`)
  const user = config.users.get(context.user)?.value ?? {}
  if (user.exec) {
    const timeoutMs = Math.min(options.timeoutMs ?? EXEC_PLUGIN_TIMEOUT_MS, EXEC_PLUGIN_TIMEOUT_MS)
    return execCredentials(user.exec as ExecConfig, {
      cluster,
      context: contextName,
      label: config.label,
      timeoutMs,
      user: context.user,
    })
  }
  if (user['auth-provider']) return pluginCredentials(options, contextName)
  const base = cluster.base as string
  const userBase = (user.base as string) ?? base
  try {
    const headers: Record<string, string> = {}
    const token =
      typeof user.token === 'string'
        ? user.token
        : typeof user.tokenFile === 'string'
          ? readBoundedSync(
              isAbsolute(user.tokenFile) ? user.tokenFile : join(userBase, user.tokenFile),
              64 * 1024,
            ).trim()
          : undefined
    // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
    if (token && /[\0-\x1f\x7f]/.test(token))
      throw new UserError(
        `Invalid kubeconfig ${config.label}: user "${context.user}": the token contains control characters`,
      )
    if (token) headers.Authorization = `Bearer ${token}`
    if (typeof user.as === 'string') headers['Impersonate-User'] = user.as
    const credentials: Credentials = {
      auth: typeof user.username === 'string' ? `${user.username}:${String(user.password ?? '')}` : undefined,
      ca: material(
        base,
        cluster['certificate-authority'],
        cluster['certificate-authority-data'],
        `cluster "${context.cluster}": certificate-authority`,
      ),
      cert: material(
        userBase,
        user['client-certificate'],
        user['client-certificate-data'],
        `user "${context.user}": client-certificate`,
      ),
      headers,
      key: material(userBase, user['client-key'], user['client-key-data'], `user "${context.user}": client-key`),
      rejectUnauthorized: cluster['insecure-skip-tls-verify'] === true ? false : undefined,
      server: serverUrl(cluster.server, config.label, context.cluster),
      servername: typeof cluster['tls-server-name'] === 'string' ? cluster['tls-server-name'] : undefined,
    }
    // kubectl sends credentials over plain HTTP; mk8s refuses: a token or a key on the wire is a stolen cluster.
    const carriesSecrets = Boolean(token || credentials.auth || credentials.cert || credentials.key)
    if (credentials.server.startsWith('http:') && carriesSecrets) {
      throw new UserError(
        `Refusing to send the credentials of user "${context.user}" over plain HTTP to ${credentials.server}`,
        {
          suggestions: ['Use the https:// address of the API server'],
        },
      )
    }

    return credentials
  } catch (error) {
    if (error instanceof UserError) throw error
    const code = (error as NodeJS.ErrnoException).code
    const path = (error as NodeJS.ErrnoException).path
    const why =
      code === 'EISDIR'
        ? `${path ?? 'a file it names'} is a folder`
        : code === 'ENOENT'
          ? `${path} does not exist`
          : (error as Error).message.split('\n')[0]
    throw new UserError(`Invalid kubeconfig ${config.label}: ${why}`)
  }
}

interface ExecConfig {
  apiVersion?: string
  args?: string[]
  command?: string
  env?: {name: string; value: string}[] | null
}

/** An exec credential plugin (aws, gke-gcloud-auth-plugin, kubelogin...) that does not answer in this long is stuck. */
export const EXEC_PLUGIN_TIMEOUT_MS = 60_000

/**
 * Runs an exec credential plugin as kubectl does (client.authentication.k8s.io ExecCredential): the command with its
 * args and env, KUBERNETES_EXEC_INFO set, its stdout's status giving a token or a client certificate. With a deadline:
 * a plugin that waits for a browser login or hangs ends with a clear message.
 */
async function execCredentials(
  exec: ExecConfig,
  where: {cluster: Record<string, unknown>; context: string; label: string; timeoutMs: number; user: string},
): Promise<Credentials> {
  const {cluster, context, label} = where
  if (typeof exec.command !== 'string' || !exec.command)
    throw new UserError(`Invalid kubeconfig ${label}: the exec plugin of context "${context}" has no command`)
  const apiVersion = exec.apiVersion ?? 'client.authentication.k8s.io/v1'
  const {runProcess} = await import('../host/exec.js')
  const env: NodeJS.ProcessEnv = {
    KUBERNETES_EXEC_INFO: JSON.stringify({apiVersion, kind: 'ExecCredential', spec: {interactive: false}}),
  }
  for (const {name, value} of exec.env ?? []) env[name] = value
  let stdout: string
  try {
    ;({stdout} = await runProcess(exec.command, (exec.args ?? []).map(String), {env, timeoutMs: where.timeoutMs}))
  } catch (error) {
    throw new UserError(`Cannot get credentials for context "${context}": ${(error as Error).message}`)
  }

  let status: {clientCertificateData?: string; clientKeyData?: string; token?: string}
  try {
    status = (JSON.parse(stdout) as {status?: typeof status}).status ?? {}
  } catch {
    throw new UserError(
      `Cannot get credentials for context "${context}": ${exec.command} did not print an ExecCredential`,
    )
  }

  const base = cluster.base as string
  const credentials: Credentials = {
    ca: material(
      base,
      cluster['certificate-authority'],
      cluster['certificate-authority-data'],
      `cluster: certificate-authority`,
    ),
    cert: status.clientCertificateData ? Buffer.from(status.clientCertificateData) : undefined,
    headers: status.token ? {Authorization: `Bearer ${status.token}`} : {},
    key: status.clientKeyData ? Buffer.from(status.clientKeyData) : undefined,
    rejectUnauthorized: cluster['insecure-skip-tls-verify'] === true ? false : undefined,
    server: serverUrl(cluster.server as string, label, context),
    servername: typeof cluster['tls-server-name'] === 'string' ? cluster['tls-server-name'] : undefined,
  }
  if (credentials.server.startsWith('http:')) {
    throw new UserError(
      `Refusing to send the credentials of user "${where.user}" over plain HTTP to ${credentials.server}`,
    )
  }

  return credentials
}

/** auth-provider plugins (gcp, azure, oidc): @kubernetes/client-node runs them (it is loaded only for such users). */
async function pluginCredentials(options: ConnectOptions, context: string): Promise<Credentials> {
  const {KubeConfig} = await import('@kubernetes/client-node')
  const kc = new KubeConfig()
  if (options.kubeconfig) kc.loadFromFile(options.kubeconfig)
  else kc.loadFromDefault()
  kc.setCurrentContext(context)
  const opts: {
    auth?: string
    ca?: Buffer
    cert?: Buffer
    headers?: Record<string, string>
    key?: Buffer
    rejectUnauthorized?: boolean
  } = {headers: {}}
  try {
    await kc.applyToHTTPSOptions(opts as never)
  } catch (error) {
    throw new UserError(`Cannot get credentials for context "${context}": ${(error as Error).message.split('\n')[0]}`)
  }

  return {...opts, headers: opts.headers ?? {}, server: kc.getCurrentCluster()!.server.replace(/\/+$/, '')}
}
