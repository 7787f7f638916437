import {request} from 'node:https'

import {UserError} from '../errors.js'

/** One node's agent: the address mk8s reaches it at, and the node's name when known. */
export interface NodeTarget {
  address: string
  name: string
}

export interface ConfigureService {
  arguments_remove?: string[]
  arguments_update?: Record<string, string>[]
  name: string
  restart?: boolean
}

export interface ConfigureBody {
  addon?: {disable?: boolean; enable?: boolean; name: string}[]
  callback: string
  service?: ConfigureService[]
}

export interface ConfigureReply {
  result: string
  /** mk8s agents say what each service did; the Go agent does not. */
  services?: {changed: boolean; name: string; previous: Record<string, null | string>; restarted: boolean}[]
}

export interface HealthReply {
  agent?: string
  status: string
  version?: string
}

/** The agent-client port: what mk8s asks of a node's agent. Unit tests hand in a fake. */
export interface AgentClient {
  arguments(node: NodeTarget, service: string): Promise<{flag: string; value: string}[]>
  configure(node: NodeTarget, body: Omit<ConfigureBody, 'callback'>): Promise<ConfigureReply>
  health(node: NodeTarget): Promise<HealthReply>
}

export interface AgentClientOptions {
  /** PEM CA that signs the agents' certificates; undefined: the system's CAs. */
  ca?: Buffer
  insecureSkipTlsVerify?: boolean
  timeoutMs: number
  token: string
}

const MAX_REPLY_BYTES = 1024 * 1024

/** Why a connection failed, in words a user can act on. */
function explainConnection(error: NodeJS.ErrnoException): string {
  const code = error.code ?? ''
  if (code === 'ECONNREFUSED') return 'connection refused (is the agent running?)'
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return 'host unreachable'
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID')
    return `the agent's certificate is not for this address (${error.message})`
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|SIGNATURE/.test(code)) {
    return `the agent's certificate is not trusted (${code}): pass --agent-ca with the CA that signed it`
  }

  return error.message || code
}

/** Talks HTTPS to agents, verifying their certificates as kubectl verifies the API server's. */
export class HttpsAgentClient implements AgentClient {
  constructor(private readonly options: AgentClientOptions) {}

  private call<T>(node: NodeTarget, method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body))
    const [, host, port] = /^\[?([^\]]*?)\]?:(\d+)$/.exec(node.address) ?? [undefined, node.address, '25000']
    return new Promise<T>((resolve, reject) => {
      const deadline = setTimeout(
        () =>
          req.destroy(
            Object.assign(new Error(`no answer within ${Math.round(this.options.timeoutMs / 1000)}s`), {
              code: 'ETIMEDOUT',
            }),
          ),
        this.options.timeoutMs,
      )
      const req = request(
        {
          agent: false,
          ca: this.options.ca,
          headers: payload ? {'Content-Length': payload.length, 'Content-Type': 'application/json'} : {},
          host,
          method,
          path,
          port: Number(port),
          rejectUnauthorized: !this.options.insecureSkipTlsVerify,
        },
        (res) => {
          const chunks: Buffer[] = []
          let size = 0
          res.on('data', (chunk: Buffer) => {
            size += chunk.length
            if (size > MAX_REPLY_BYTES) req.destroy(new Error('the agent answered with more than 1 MiB'))
            else chunks.push(chunk)
          })
          res.on('end', () => {
            clearTimeout(deadline)
            const text = Buffer.concat(chunks).toString('utf8')
            let parsed: {error?: string} | undefined
            try {
              parsed = text ? (JSON.parse(text) as {error?: string}) : undefined
            } catch {
              parsed = undefined
            }

            const status = res.statusCode ?? 0
            if (status >= 200 && status < 300 && parsed) resolve(parsed as T)
            else
              reject(
                new UserError(
                  `HTTP ${status}${parsed?.error ? `: ${parsed.error}` : text ? `: ${text.slice(0, 200)}` : ''}`,
                ),
              )
          })
        },
      )
      req.on('error', (error: NodeJS.ErrnoException) => {
        clearTimeout(deadline)
        reject(new UserError(explainConnection(error)))
      })
      if (payload) req.write(payload)
      req.end()
    })
  }

  health(node: NodeTarget): Promise<HealthReply> {
    return this.call(node, 'GET', '/health')
  }

  configure(node: NodeTarget, body: Omit<ConfigureBody, 'callback'>): Promise<ConfigureReply> {
    return this.call(node, 'POST', '/cluster/api/v1.0/configure', {...body, callback: this.options.token})
  }

  async arguments(node: NodeTarget, service: string): Promise<{flag: string; value: string}[]> {
    const reply = await this.call<{arguments: {flag: string; value: string}[]}>(
      node,
      'POST',
      '/mk8s/api/v1.0/arguments',
      {
        callback: this.options.token,
        service,
      },
    )
    return reply.arguments
  }
}
