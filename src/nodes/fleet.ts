import {UsageError, UserError} from '../errors.js'
import {readBounded} from '../host/fs.js'
import type {KubeClient} from '../kube/types.js'
import {settleAll} from '../util/async.js'
import type {AgentClient, ConfigureReply, NodeTarget} from './agent-client.js'

export const AGENT_PORT = 25000
/** Enough to reach a hundred agents in a couple of round trips, few enough not to exhaust descriptors. */
export const FAN_OUT_CONCURRENCY = 64
export const MICROK8S_TOKEN_FILE = '/var/snap/microk8s/current/credentials/callback-token.txt'

export type NodeOutcome<T> = ({ok: true; value: T} | {error: string; ok: false}) & {node: NodeTarget}

/** The nodes' agents: each Node's InternalIP on the agent port, as MicroK8s's distributed_op finds them. */
export async function discoverNodes(client: KubeClient, port = AGENT_PORT): Promise<NodeTarget[]> {
  const nodes = await client.list('v1', 'Node')
  return nodes.flatMap((node) => {
    const addresses = (node.status as {addresses?: {address: string; type: string}[]} | undefined)?.addresses ?? []
    const ip = addresses.find((a) => a.type === 'InternalIP')?.address
    if (!ip) return []
    return [{address: ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`, name: node.metadata.name}]
  })
}

/** `--node HOST:PORT` values; a bare host gets the agent port. */
export function explicitNodes(values: string[]): NodeTarget[] {
  return values.map((value) => {
    const address = /:\d+$/.test(value) ? value : `${value}:${AGENT_PORT}`
    if (!/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/.test(address))
      throw new UsageError(`--node ${value}: expected HOST:PORT`)
    return {address, name: address}
  })
}

/**
 * The callback token the agents check: --agent-token-file, else $MK8S_AGENT_TOKEN_FILE, else MicroK8s's own file when
 * it is readable. Undefined when none is configured.
 */
export async function agentToken(options: {env?: NodeJS.ProcessEnv; tokenFile?: string}): Promise<string | undefined> {
  const env = options.env ?? process.env
  const named = options.tokenFile ?? env.MK8S_AGENT_TOKEN_FILE
  const file = named ?? MICROK8S_TOKEN_FILE
  try {
    const token = (await readBounded(file, 4096)).trim().split('|')[0]
    if (!token) throw new UserError(`${file} is empty`)
    // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
    if (/[\0-\x1f]/.test(token)) throw new UserError(`${file}: the token contains control characters`)
    return token
  } catch (error) {
    if (!named && (error as NodeJS.ErrnoException).code !== undefined) return undefined
    if (error instanceof UserError) throw error
    throw new UserError(`Cannot read the agent token file ${file}: ${(error as Error).message}`)
  }
}

/** Runs `work` on every node at once (bounded), each node's failure its own: one bad node never hides the others. */
export async function fanOut<T>(
  nodes: NodeTarget[],
  work: (node: NodeTarget) => Promise<T>,
): Promise<NodeOutcome<T>[]> {
  const settled = await settleAll(nodes, FAN_OUT_CONCURRENCY, work)
  return settled.map((outcome, i) =>
    outcome.status === 'fulfilled'
      ? {node: nodes[i], ok: true, value: outcome.value}
      : {error: (outcome.reason as Error).message, node: nodes[i], ok: false},
  )
}

export interface ArgsChange {
  remove?: string[]
  restart?: boolean
  update?: Record<string, string>
}

/** The configure body for one service, exactly as the Go agent decodes it: single-entry maps, a boolean restart. */
export function configureBody(service: string, change: ArgsChange) {
  return {
    service: [
      {
        arguments_remove: change.remove ?? [],
        arguments_update: Object.entries(change.update ?? {}).map(([flag, value]) => ({[flag]: value})),
        name: service,
        restart: change.restart ?? false,
      },
    ],
  }
}

/** The nodes a change goes to and the client that reaches them: what node-argument changes need. */
export interface NodeFleet {
  client: AgentClient
  nodes: NodeTarget[]
}

export interface ServiceChangeOutcome {
  changed: boolean
  /** Values before the change, from the agent's own answer (mk8s agents), or read before the change (others). */
  previous: Record<string, null | string>
  restarted: boolean
}

/**
 * Changes one service's arguments on every node. The values each flag had before are read first, so that they can be
 * restored even through an agent that does not report them (MicroK8s's Go agent).
 */
export async function changeServiceArgs(
  fleet: NodeFleet,
  service: string,
  change: ArgsChange,
): Promise<NodeOutcome<ServiceChangeOutcome>[]> {
  const flags = [...Object.keys(change.update ?? {}), ...(change.remove ?? [])]
  return fanOut(fleet.nodes, async (node) => {
    const before = new Map((await fleet.client.arguments(node, service).catch(() => [])).map((a) => [a.flag, a.value]))
    const reply: ConfigureReply = await fleet.client.configure(node, configureBody(service, change))
    const reported = reply.services?.find((s) => s.name === service)
    const previous = reported?.previous ?? Object.fromEntries(flags.map((flag) => [flag, before.get(flag) ?? null]))
    return {changed: reported?.changed ?? true, previous, restarted: reported?.restarted ?? change.restart ?? false}
  })
}
