import {createHash, timingSafeEqual} from 'node:crypto'
import type {IncomingMessage, ServerResponse} from 'node:http'
import {type Server, createServer} from 'node:https'
import type {AddressInfo} from 'node:net'

import {readBounded} from '../host/fs.js'
import {FLAG_NAME} from '../nodes/args-file.js'
import {NAME_PATTERN} from '../util/text.js'
import {ArgsStore} from './args-store.js'

/** The configure body is a handful of flags; anything near this size is not a real request. */
export const MAX_BODY_BYTES = 64 * 1024
const MAX_TOKEN_FILE_BYTES = 4096

export const CONFIGURE_PATH = '/cluster/api/v1.0/configure'
/** mk8s's extension: a service's current arguments, authenticated like configure. */
export const ARGUMENTS_PATH = '/mk8s/api/v1.0/arguments'

export interface ServiceOutcome {
  changed: boolean
  name: string
  /** Each changed flag's value before the request, null where it was not set. */
  previous: Record<string, null | string>
  restarted: boolean
}

export interface AgentOptions {
  /** Runs `mk8s enable|disable <addon>` (or MicroK8s's wrappers) for the configure body's addon entries. */
  addon?: (action: 'disable' | 'enable', name: string) => Promise<void>
  argsDir: string
  cert: Buffer | string
  key: Buffer | string
  /** Restarts one service; throws with the command's output when it fails. */
  restart: (service: string) => Promise<void>
  /** The services whose args files may be read and changed: never a path. */
  services: string[]
  /** Per-request deadline, as the Go agent's --timeout. */
  timeoutMs: number
  tokenFile: string
  version: string
}

/** A rejection with the status and message the Go agent would answer with. */
class Reply extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
  }
}

interface ServiceRequest {
  name: string
  remove: string[]
  restart: boolean
  update: Record<string, string>
}

interface AddonRequest {
  action: 'disable' | 'enable'
  name: string
}

// The Go agent answers errors with the message's first letter in capitals.
const capitalised = (message: string) => message.charAt(0).toUpperCase() + message.slice(1)

function send(res: ServerResponse, status: number, body?: unknown): void {
  const text = body === undefined ? '' : JSON.stringify(body)
  res.writeHead(status, {'Content-Length': Buffer.byteLength(text), 'Content-Type': 'application/json'})
  res.end(text)
}

/** Reads the body up to MAX_BODY_BYTES; a larger one is refused without reading the rest. */
function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0)
    if (declared > MAX_BODY_BYTES) {
      reject(new Reply(413, `Request body larger than ${MAX_BODY_BYTES} bytes`))
      return
    }

    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > MAX_BODY_BYTES) {
        reject(new Reply(413, `Request body larger than ${MAX_BODY_BYTES} bytes`))
        req.destroy()
        return
      }

      chunks.push(chunk)
    })
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

const digest = (text: string) => createHash('sha256').update(text).digest()

/**
 * The callback token check of the Go agent (IsValidToken): whitespace trimmed, an optional `|<unix expiry>` suffix on
 * the stored token. The comparison takes the same time whatever the presented token is.
 */
async function checkToken(tokenFile: string, presented: unknown): Promise<void> {
  const stored = (await readBounded(tokenFile, MAX_TOKEN_FILE_BYTES)).trim()
  const [token, expiry] = stored.split('|')
  const given = typeof presented === 'string' ? presented.trim() : ''
  const equal = timingSafeEqual(digest(token), digest(given))
  const expired = expiry !== undefined && Number(expiry) * 1000 < Date.now()
  if (!equal || !token || expired) throw new Reply(500, 'Invalid token')
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/** What the Python client sends as "yes" or "true" strings, the Go client as booleans. */
const truthy = (value: unknown, accepted: unknown[]) => value === true || accepted.includes(value)

function checkValue(where: string, value: unknown): string {
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
    throw new Reply(400, `${where}: the value must be a string`)
  }

  const text = String(value)
  if (/[\n\r\0]/.test(text)) throw new Reply(400, `${where}: the value contains a newline or NUL`)
  return text
}

function checkFlag(where: string, flag: unknown): string {
  if (typeof flag !== 'string' || !FLAG_NAME.test(flag)) {
    throw new Reply(400, `${where}: ${JSON.stringify(String(flag).slice(0, 80))} is not a flag (--name)`)
  }

  return flag
}

/** Validates a whole configure body before anything is touched: a rejection leaves every file as it was. */
function parseConfigure(
  body: Record<string, unknown>,
  services: string[],
): {addons: AddonRequest[]; services: ServiceRequest[]} {
  const list = (value: unknown, field: string): unknown[] => {
    if (value === undefined || value === null) return []
    if (!Array.isArray(value)) throw new Reply(400, `${field} must be a list`)
    return value
  }

  const parsedServices = list(body.service, 'service').map((entry, i): ServiceRequest => {
    if (!isObject(entry)) throw new Reply(400, `service[${i}] must be an object`)
    const name = entry.name
    if (typeof name !== 'string' || !services.includes(name)) {
      throw new Reply(
        400,
        `service[${i}]: unknown service ${JSON.stringify(String(name).slice(0, 80))} (this agent manages ${services.join(', ')})`,
      )
    }

    const update: Record<string, string> = {}
    for (const [j, pair] of list(entry.arguments_update, `service[${i}].arguments_update`).entries()) {
      if (!isObject(pair)) throw new Reply(400, `service[${i}].arguments_update[${j}] must be an object`)
      for (const [flag, value] of Object.entries(pair)) {
        const where = `service[${i}].arguments_update[${j}]`
        update[checkFlag(where, flag)] = checkValue(`${where}.${flag}`, value)
      }
    }

    const remove = list(entry.arguments_remove, `service[${i}].arguments_remove`).map((flag, j) =>
      checkFlag(`service[${i}].arguments_remove[${j}]`, flag),
    )
    return {name, remove, restart: truthy(entry.restart, ['yes']), update}
  })
  const addons = list(body.addon, 'addon').flatMap((entry, i): AddonRequest[] => {
    if (!isObject(entry)) throw new Reply(400, `addon[${i}] must be an object`)
    if (typeof entry.name !== 'string' || !NAME_PATTERN.test(entry.name))
      throw new Reply(400, `addon[${i}]: invalid addon name`)
    if (truthy(entry.enable, ['true'])) return [{action: 'enable', name: entry.name}]
    if (truthy(entry.disable, ['true'])) return [{action: 'disable', name: entry.name}]
    // An entry with neither is ignored, as by the Go agent.
    return []
  })
  return {addons, services: parsedServices}
}

/**
 * The node's cluster agent, speaking the MicroK8s protocol over HTTPS: GET /health, POST configure (callback token,
 * service arguments, restarts, addons), and mk8s's authenticated read of a service's arguments.
 */
export class Agent {
  private readonly store: ArgsStore
  private server?: Server

  constructor(private readonly options: AgentOptions) {
    this.store = new ArgsStore(options.argsDir)
  }

  async listen(host: string, port: number): Promise<AddressInfo> {
    const server = createServer({cert: this.options.cert, key: this.options.key, minVersion: 'TLSv1.2'}, (req, res) => {
      void this.handle(req, res)
    })
    server.requestTimeout = this.options.timeoutMs
    server.headersTimeout = Math.min(this.options.timeoutMs, 60_000)
    this.server = server
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, host, () => resolve())
    })
    return server.address() as AddressInfo
  }

  async close(): Promise<void> {
    const server = this.server
    if (!server) return
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '').split('?')[0]
    try {
      if (path === '/health') {
        if (req.method !== 'GET') return send(res, 404)
        return send(res, 200, {agent: 'mk8s', status: 'OK', version: this.options.version})
      }

      if (path !== CONFIGURE_PATH && path !== ARGUMENTS_PATH) return send(res, 404, {error: 'Not found'})
      // The Go agent answers a wrong method with an empty 404.
      if (req.method !== 'POST') return send(res, 404)
      const text = await readBody(req)
      let body: unknown
      try {
        body = JSON.parse(text)
      } catch (error) {
        throw new Reply(400, `Invalid JSON: ${(error as Error).message}`)
      }

      if (!isObject(body)) throw new Reply(400, 'The request body must be a JSON object')
      await checkToken(this.options.tokenFile, body.callback)
      if (path === ARGUMENTS_PATH) return send(res, 200, await this.arguments(body))
      return send(res, 200, await this.configure(body))
    } catch (error) {
      if (error instanceof Reply) return send(res, error.status, {error: capitalised(error.message)})
      return send(res, 500, {error: capitalised((error as Error).message)})
    }
  }

  private async arguments(
    body: Record<string, unknown>,
  ): Promise<{arguments: {flag: string; value: string}[]; service: string}> {
    const name = body.service
    if (typeof name !== 'string' || !this.options.services.includes(name)) {
      throw new Reply(400, `unknown service ${JSON.stringify(String(name).slice(0, 80))}`)
    }

    const {parseArgsFile} = await import('../nodes/args-file.js')
    const flags = parseArgsFile(await this.store.read(name)).map(({flag, value}) => ({flag, value}))
    return {arguments: flags, service: name}
  }

  private async configure(body: Record<string, unknown>): Promise<{result: 'ok'; services: ServiceOutcome[]}> {
    const request = parseConfigure(body, this.options.services)
    const outcomes: ServiceOutcome[] = []
    for (const service of request.services) {
      let edit
      try {
        edit = await this.store.edit(service.name, {remove: service.remove, update: service.update})
      } catch (error) {
        throw new Reply(500, `Failed to update arguments of service "${service.name}": ${(error as Error).message}`)
      }

      // A request that only restarts (no argument changes) restarts; one that changes arguments restarts only when
      // the file changed.
      const asksOnlyRestart = service.remove.length === 0 && Object.keys(service.update).length === 0
      const restart = service.restart && (edit.changed || asksOnlyRestart)
      if (restart) {
        try {
          await this.options.restart(service.name)
        } catch (error) {
          throw new Reply(500, `Failed to restart service "${service.name}": ${(error as Error).message}`)
        }
      }

      outcomes.push({changed: edit.changed, name: service.name, previous: edit.previous, restarted: restart})
    }

    for (const addon of request.addons) {
      if (!this.options.addon) throw new Reply(500, `this agent does not ${addon.action} addons`)
      try {
        await this.options.addon(addon.action, addon.name)
      } catch (error) {
        throw new Reply(500, `Failed to ${addon.action} addon "${addon.name}": ${(error as Error).message}`)
      }
    }

    return {result: 'ok', services: outcomes}
  }
}
