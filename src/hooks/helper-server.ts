import {randomBytes, timingSafeEqual} from 'node:crypto'
import {createWriteStream} from 'node:fs'
import {readFile, readdir, rename, rm, writeFile} from 'node:fs/promises'
import {type Server, type Socket, createServer} from 'node:net'
import {join} from 'node:path'
import {Readable} from 'node:stream'
import {pipeline} from 'node:stream/promises'

import type {KubeClient} from '../kube/types.js'
import {FLAG_NAME, argsMap, editArgs} from '../nodes/args-file.js'
import {type NodeFleet, type NodeOutcome, changeServiceArgs, configureBody, fanOut} from '../nodes/fleet.js'
import {type NodeArgsRecord, mergeNodeArgs} from '../records/applyset.js'
import {sleep} from '../util/async.js'

/** A request line is a few short words; anything longer is not from mk8s-helper. */
const MAX_REQUEST_BYTES = 64 * 1024
/** How long wait_for_service waits, as MicroK8s's 30 tries a second apart. */
const SERVICE_WAIT_MS = 30_000
/** fetch_as downloads binaries (CLIs, plugins): bounded in size and time all the same. */
const MAX_FETCH_BYTES = 512 * 1024 * 1024
const FETCH_TIMEOUT_MS = 5 * 60_000

/** The names restart_service and wait_for_service take, as the args files (and agents) name the services. */
const SERVICE_NAMES: Record<string, string> = {
  apiserver: 'kube-apiserver',
  'controller-manager': 'kube-controller-manager',
  proxy: 'kube-proxy',
  scheduler: 'kube-scheduler',
}
export const serviceName = (name: string): string => SERVICE_NAMES[name] ?? name.replace(/^microk8s\.daemon-/, '')

export interface Reply {
  error?: string
  lines?: string[]
  ok: boolean
}

export interface HelperServerOptions {
  client: KubeClient
  /** The nodes' agents; undefined when no agent token is configured (argument changes then fail, saying so). */
  fleet: () => Promise<NodeFleet | undefined>
  /** `$SNAP_DATA/args`: kept in step with what the nodes were given, so get_opt_in_config reads it back. */
  argsDir: string
  socket: string
  tokenFile: string
}

/**
 * The mk8s side of utils.sh: a server on a Unix socket in the hook's private folder, answering one request per
 * connection from a caller that knows the run's token. Argument changes, restarts and node addons go to every node
 * through the fleet; each argument change is recorded with the value it replaced, for the addon's record.
 */
export class HelperServer {
  /** What the hook changed in the nodes' service arguments, node by node, with the values before its first change. */
  changes: NodeArgsRecord[] = []
  /** Each args file's flags as mk8s last wrote or saw them: what a hook changed by editing the file itself shows. */
  private readonly seen = new Map<string, Map<string, string>>()
  private server?: Server
  private readonly token = randomBytes(32).toString('hex')

  constructor(private readonly options: HelperServerOptions) {}

  async listen(): Promise<void> {
    await writeFile(this.options.tokenFile, this.token, {mode: 0o600})
    for (const service of await readdir(this.options.argsDir).catch(() => [])) {
      const text = await readFile(join(this.options.argsDir, service), 'utf8').catch(() => undefined)
      if (text !== undefined) this.seen.set(service, argsMap(text))
    }

    const server = createServer((socket) => void this.serve(socket))
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.options.socket, resolve)
    })
    this.server = server
  }

  async close(): Promise<void> {
    const server = this.server
    this.server = undefined
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()))
  }

  private async serve(socket: Socket): Promise<void> {
    // One line; breaking out of a for-await would destroy the socket before the reply is written.
    const text = await new Promise<string>((resolve) => {
      let received = ''
      socket.setEncoding('utf8')
      socket.on('data', (chunk: string) => {
        received += chunk
        if (received.includes('\n') || received.length > MAX_REQUEST_BYTES) resolve(received)
      })
      socket.on('end', () => resolve(received))
      socket.on('error', () => resolve(''))
    })

    let reply: Reply
    try {
      const request = JSON.parse(text.split('\n')[0]) as {args?: unknown; op?: unknown; token?: unknown}
      const args = Array.isArray(request.args) ? request.args.map(String) : []
      reply = this.authentic(request.token)
        ? await this.handle(String(request.op), args)
        : {error: 'mk8s: refused: not the token of this run', ok: false}
    } catch (error) {
      reply = {error: `mk8s: ${(error as Error).message}`, ok: false}
    }

    socket.end(`${JSON.stringify(reply)}\n`)
  }

  private authentic(token: unknown): boolean {
    if (typeof token !== 'string' || token.length !== this.token.length) return false
    return timingSafeEqual(Buffer.from(token), Buffer.from(this.token))
  }

  private async handle(op: string, args: string[]): Promise<Reply> {
    switch (op) {
      case 'set': {
        const [service, flag, value = ''] = args
        return this.changeArgs(service, {update: {[flag]: value}})
      }

      case 'remove': {
        const [service, flag] = args
        return this.changeArgs(service, {remove: [flag]})
      }

      case 'restart': {
        return this.restart(serviceName(args[0] ?? ''))
      }

      case 'addon': {
        const [name, state] = args
        if (state !== 'enable' && state !== 'disable')
          return {error: `mk8s: nodes_addon ${name} ${state}: expected enable or disable`, ok: false}
        return this.onEveryNode(`${state} ${name}`, (fleet, node) =>
          fleet.client.configure(node, {addon: [{name, [state]: true}]}),
        )
      }

      case 'wait': {
        return this.waitForServer()
      }

      case 'fetch': {
        const [url, destination] = args
        return fetchTo(url, destination)
      }

      default: {
        return {error: `mk8s: unknown helper request ${op}`, ok: false}
      }
    }
  }

  private async requireFleet(): Promise<NodeFleet> {
    const fleet = await this.options.fleet()
    if (!fleet)
      throw new Error('no agent token to reach the nodes: pass --agent-token-file or set MK8S_AGENT_TOKEN_FILE')
    return fleet
  }

  private async changeArgs(
    service: string,
    change: {remove?: string[]; update?: Record<string, string>},
    how = '',
  ): Promise<Reply> {
    if (!service || !/^[a-z0-9][-a-z0-9.]*$/.test(service))
      return {error: `mk8s: invalid service name "${service}"`, ok: false}
    const invalid = [...Object.keys(change.update ?? {}), ...(change.remove ?? [])].find((f) => !FLAG_NAME.test(f))
    if (invalid !== undefined) return {error: `mk8s: ${service}: "${invalid}" is not a flag name`, ok: false}
    const fleet = await this.requireFleet()
    const outcomes = await changeServiceArgs(fleet, service, {...change, restart: false})
    // Each node's change, merged as a record merges runs: the first value a flag had is the one to restore.
    const applied = outcomes.flatMap((outcome): NodeArgsRecord[] =>
      outcome.ok
        ? [
            {
              address: outcome.node.address,
              applied: true,
              node: outcome.node.name,
              previous: outcome.value.previous,
              removed: change.remove ?? [],
              restart: false,
              service,
              set: change.update ?? {},
            },
          ]
        : [],
    )
    this.changes = mergeNodeArgs(this.changes, applied)
    await this.editLocal(service, change)
    const what = [
      ...Object.entries(change.update ?? {}).map(([flag, value]) => `set ${flag}=${value}`),
      ...(change.remove ?? []).map((flag) => `remove ${flag}`),
    ].join(' ')
    return report(`${service}: ${what}${how ? ` (${how})` : ''}`, outcomes)
  }

  private async editLocal(
    service: string,
    change: {remove?: string[]; update?: Record<string, string>},
  ): Promise<void> {
    const file = join(this.options.argsDir, service)
    const text = await readFile(file, 'utf8').catch(() => '')
    const edited = editArgs(text, change).text
    await writeFile(`${file}.tmp`, edited)
    await rename(`${file}.tmp`, file)
    this.seen.set(service, argsMap(edited))
  }

  /**
   * Flags a hook changed by editing `$SNAP_DATA/args/<service>` itself (sed, python) rather than through
   * refresh_opt_in_config: sent to every node as the helpers' changes are, and recorded with them. Run before a
   * restart of the service and once the hook has finished, so that what MicroK8s does on one node happens on all.
   */
  async syncDirectEdits(services = [...this.seen.keys()]): Promise<Reply> {
    const lines: string[] = []
    for (const service of services) {
      const before = this.seen.get(service)
      const text = await readFile(join(this.options.argsDir, service), 'utf8').catch(() => undefined)
      if (!before || text === undefined) continue
      const now = argsMap(text)
      const update = Object.fromEntries([...now].filter(([flag, value]) => before.get(flag) !== value))
      const remove = [...before.keys()].filter((flag) => !now.has(flag))
      if (Object.keys(update).length === 0 && remove.length === 0) continue
      const reply = await this.changeArgs(service, {remove, update}, 'edited in $SNAP_DATA/args')
      lines.push(...(reply.lines ?? []))
      if (!reply.ok) return {...reply, lines}
    }

    return {lines, ok: true}
  }

  private async restart(service: string): Promise<Reply> {
    // A flag the hook wrote into the file itself must be on every node before the service restarts with it.
    const synced = await this.syncDirectEdits(this.seen.has(service) ? [service] : [])
    if (!synced.ok) return synced
    for (const entry of this.changes) if (entry.service === service) entry.restart = true
    const restarted = await this.onEveryNode(`restart ${service}`, (fleet, node) =>
      fleet.client.configure(node, configureBody(service, {restart: true})),
    )
    return {...restarted, lines: [...(synced.lines ?? []), ...(restarted.lines ?? [])]}
  }

  private async onEveryNode(
    what: string,
    work: (fleet: NodeFleet, node: NodeFleet['nodes'][number]) => Promise<unknown>,
  ): Promise<Reply> {
    const fleet = await this.requireFleet()
    return report(what, await fanOut(fleet.nodes, (node) => work(fleet, node)))
  }

  /** wait_for_service: the API server answers again (a restart of any kubelite service restarts it). */
  private async waitForServer(): Promise<Reply> {
    const deadline = Date.now() + SERVICE_WAIT_MS
    for (;;) {
      try {
        await this.options.client.serverVersion()
        return {ok: true}
      } catch (error) {
        if (Date.now() >= deadline)
          return {error: `mk8s: the API server did not answer: ${(error as Error).message}`, ok: false}
        await sleep(1000)
      }
    }
  }
}

/** One line per node, and a failure when any node failed: no node's failure is silent. */
function report(what: string, outcomes: NodeOutcome<unknown>[]): Reply {
  const failed = outcomes.filter((o) => !o.ok)
  const lines = outcomes.map((o) => `mk8s: ${what} on ${o.node.name}: ${o.ok ? 'done' : (o as {error: string}).error}`)
  return failed.length > 0
    ? {error: `mk8s: ${what} failed on ${failed.length} of ${outcomes.length} nodes`, lines, ok: false}
    : {lines: [`mk8s: ${what} on ${outcomes.length} nodes`], ok: true}
}

/** fetch_as: an http(s) download into a file, bounded in size and time; a partial file is removed. */
async function fetchTo(url: string, destination: string): Promise<Reply> {
  if (!/^https?:\/\//.test(url ?? '')) return {error: `mk8s: fetch_as ${url}: expected an http or https URL`, ok: false}
  if (!destination) return {error: 'mk8s: fetch_as URL DEST: no destination', ok: false}
  try {
    const response = await fetch(url, {redirect: 'follow', signal: AbortSignal.timeout(FETCH_TIMEOUT_MS)})
    if (!response.ok || !response.body) return {error: `mk8s: fetch_as ${url}: HTTP ${response.status}`, ok: false}
    let size = 0
    const body = Readable.fromWeb(response.body as never)
    body.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > MAX_FETCH_BYTES) body.destroy(new Error(`larger than ${MAX_FETCH_BYTES / 1024 / 1024} MiB`))
    })
    await pipeline(body, createWriteStream(destination))
    return {ok: true}
  } catch (error) {
    await rm(destination, {force: true})
    return {error: `mk8s: fetch_as ${url}: ${(error as Error).message}`, ok: false}
  }
}
