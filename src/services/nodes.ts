import {UserError} from '../errors.js'
import {readBounded} from '../host/fs.js'
import {type KubeClient} from '../kube/types.js'
import {type AgentClient, HttpsAgentClient, type NodeTarget} from '../nodes/agent-client.js'
import {
  type ArgsChange,
  type NodeFleet,
  type NodeOutcome,
  type ServiceChangeOutcome,
  agentToken,
  changeServiceArgs,
  discoverNodes,
  explicitNodes,
  fanOut,
} from '../nodes/fleet.js'

export interface FleetOptions {
  agentCa?: string
  /** The cluster's CA (from the kubeconfig), the default trust for agents' certificates. */
  clusterCa?: Buffer
  env?: NodeJS.ProcessEnv
  insecureSkipTlsVerify?: boolean
  /** Lists the cluster's nodes when no --node is given. */
  kube?: KubeClient
  nodes?: string[]
  timeoutMs: number
  tokenFile?: string
}

/**
 * The agents to talk to and how: explicit --node values or every Node's InternalIP, the callback token, and TLS
 * verified against --agent-ca or the cluster CA. Undefined when no agent token is configured anywhere.
 */
export async function openFleet(options: FleetOptions): Promise<NodeFleet | undefined> {
  const token = await agentToken({env: options.env, tokenFile: options.tokenFile})
  if (!token) return undefined
  const ca = options.agentCa
    ? await readBounded(options.agentCa, 1024 * 1024).then(Buffer.from, (error: Error) => {
        throw new UserError(`Cannot read --agent-ca ${options.agentCa}: ${error.message}`)
      })
    : options.clusterCa
  const client: AgentClient = new HttpsAgentClient({
    ca,
    insecureSkipTlsVerify: options.insecureSkipTlsVerify,
    timeoutMs: options.timeoutMs,
    token,
  })
  let nodes: NodeTarget[]
  if (options.nodes && options.nodes.length > 0) nodes = explicitNodes(options.nodes)
  else if (options.kube) nodes = await discoverNodes(options.kube)
  else throw new UserError('No nodes: pass --node HOST:PORT or a kubeconfig whose cluster lists its nodes')
  if (nodes.length === 0) throw new UserError('The cluster has no node with an InternalIP: pass --node HOST:PORT')
  return {client, nodes}
}

/** The fleet, or a clear error naming the ways to give a token. */
export async function requireFleet(options: FleetOptions): Promise<NodeFleet> {
  const fleet = await openFleet(options)
  if (!fleet) {
    throw new UserError('No agent token: pass --agent-token-file FILE or set MK8S_AGENT_TOKEN_FILE', {
      suggestions: ['On a MicroK8s node it is read from /var/snap/microk8s/current/credentials/callback-token.txt'],
    })
  }

  return fleet
}

export interface NodeHealth {
  address: string
  agent?: string
  error?: string
  name: string
  status: 'ok' | 'unreachable'
  version?: string
}

export async function listNodes(fleet: NodeFleet): Promise<NodeHealth[]> {
  const outcomes = await fanOut(fleet.nodes, (node) => fleet.client.health(node))
  return outcomes.map((outcome) => ({
    address: outcome.node.address,
    name: outcome.node.name,
    ...(outcome.ok
      ? {agent: outcome.value.agent ?? 'microk8s', status: 'ok' as const, version: outcome.value.version}
      : {error: outcome.error, status: 'unreachable' as const}),
  }))
}

export interface NodeArguments {
  address: string
  arguments?: {flag: string; value: string}[]
  error?: string
  name: string
}

export async function getServiceArgs(fleet: NodeFleet, service: string): Promise<NodeArguments[]> {
  const outcomes = await fanOut(fleet.nodes, (node) => fleet.client.arguments(node, service))
  return outcomes.map((o) => ({
    address: o.node.address,
    name: o.node.name,
    ...(o.ok ? {arguments: o.value} : {error: o.error}),
  }))
}

export interface NodeChange {
  address: string
  changed?: boolean
  error?: string
  name: string
  previous?: Record<string, null | string>
  restarted?: boolean
}

export async function setServiceArgs(fleet: NodeFleet, service: string, change: ArgsChange): Promise<NodeChange[]> {
  return (await changeServiceArgs(fleet, service, change)).map(toNodeChange)
}

function toNodeChange(outcome: NodeOutcome<ServiceChangeOutcome>): NodeChange {
  const where = {address: outcome.node.address, name: outcome.node.name}
  return outcome.ok ? {...where, ...outcome.value} : {...where, error: outcome.error}
}

export interface FleetFlags {
  'agent-ca'?: string
  'agent-timeout': string
  'agent-token-file'?: string
  context?: string
  'insecure-skip-tls-verify'?: boolean
  kubeconfig?: string
  node?: string[]
}

/**
 * The fleet the nodes commands talk to: the kubeconfig gives the nodes (unless --node names them) and the CA that
 * signs MicroK8s agents' certificates. With --node, a kubeconfig that cannot be read only means no cluster CA.
 */
export async function fleetFromFlags(flags: FleetFlags, timeoutMs: number): Promise<NodeFleet> {
  const {HttpKubeClient} = await import('../kube/http-client.js')
  const explicit = (flags.node?.length ?? 0) > 0
  const kube = await HttpKubeClient.connect({context: flags.context, kubeconfig: flags.kubeconfig}).catch(
    (error: unknown) => {
      if (explicit) return undefined
      throw error
    },
  )
  try {
    return await requireFleet({
      agentCa: flags['agent-ca'],
      clusterCa: kube?.certificateAuthority,
      insecureSkipTlsVerify: flags['insecure-skip-tls-verify'],
      kube,
      nodes: flags.node,
      timeoutMs,
      tokenFile: flags['agent-token-file'],
    })
  } finally {
    kube?.close()
  }
}

/**
 * `nodes args set|remove`: the change on every node of the flags' fleet; the failure (a node that could not be
 * changed) is returned beside the result, for the command to throw after printing every node's outcome.
 */
export async function changeNodesFromFlags(
  flags: FleetFlags & {'no-restart'?: boolean},
  service: string,
  change: {remove?: string[]; update?: Record<string, string>},
): Promise<NodeChange[]> {
  const {parseDuration} = await import('../flags.js')
  const fleet = await fleetFromFlags(flags, parseDuration(flags['agent-timeout'], '--agent-timeout'))
  return setServiceArgs(fleet, service, {...change, restart: !flags['no-restart']})
}
