import {AddonCatalog} from '../addons/catalog.js'
import {DEFAULT_KUBE_VERSION} from '../addons/plan.js'
import {HttpKubeClient} from '../kube/http-client.js'
import type {KubeClient} from '../kube/types.js'
import type {NodeFleet} from '../nodes/fleet.js'
import type {HookEnvironment} from './hook-addons.js'

export interface SessionOptions {
  context?: string
  kubeconfig?: string
  /** The command's --timeout: no request outlives it. */
  timeoutMs?: number
}

export interface ClusterSession {
  catalog: AddonCatalog
  client: KubeClient
  /** The kubeconfig's cluster CA: MicroK8s agents serve certificates it signed. */
  clusterCa?: Buffer
  cluster: {arch: string; version: string}
  /** Closes the client's connections; safe to call more than once. */
  close(): void
}

/**
 * Connects to the cluster of the kubeconfig and reads what rendering needs of it: the server version and the
 * architecture most of its nodes run (the host's when nodes cannot be listed).
 */
export async function openSession(options: SessionOptions = {}): Promise<ClusterSession> {
  // The first requests leave as soon as the client exists: the catalog is read while they travel.
  const connecting = HttpKubeClient.connect(options).then((client) => {
    client.prefetchDiscovery()
    const answers = Promise.all([client.serverVersion(), client.list('v1', 'Node').catch(() => [])])
    // Awaited once the catalog is read; failing before that must not count as unhandled.
    answers.catch(() => {})
    return {answers, client}
  })
  const [connected, loaded] = await Promise.allSettled([connecting, AddonCatalog.load()])
  if (connected.status === 'rejected') throw connected.reason
  const {answers, client} = connected.value
  try {
    if (loaded.status === 'rejected') throw loaded.reason
    const catalog = loaded.value
    const [version, nodes] = await answers
    const counts = new Map<string, number>()
    for (const node of nodes) {
      const arch = node.metadata.labels?.['kubernetes.io/arch']
      if (arch) counts.set(arch, (counts.get(arch) ?? 0) + 1)
    }

    const arch = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? catalog.arch
    return {
      catalog,
      client,
      close: () => client.close(),
      cluster: {arch, version},
      clusterCa: client.certificateAuthority,
    }
  } catch (error) {
    client.close()
    throw error
  }
}

/**
 * For `--dry-run client`: no cluster at all. Rendering assumes the host's architecture and the default Kubernetes
 * version; any cluster request is a bug, so the client refuses every one.
 */
export async function offlineSession(): Promise<ClusterSession> {
  const catalog = await AddonCatalog.load()
  const refuse = (): never => {
    throw new Error('a client-side dry run made a cluster request')
  }

  const client: KubeClient = {
    apply: refuse,
    create: refuse,
    delete: refuse,
    get: refuse,
    isNamespaced: refuse,
    list: refuse,
    replace: refuse,
    requestCounts: {},
    server: '(none: client-side dry run)',
    serverVersion: refuse,
  }
  return {catalog, client, close() {}, cluster: {arch: catalog.arch, version: DEFAULT_KUBE_VERSION}}
}

/** How enable and disable reach the nodes' agents, from the agent flags; asked for only when an addon needs it. */
export function fleetOf(
  session: ClusterSession,
  flags: {
    'agent-ca'?: string
    'agent-timeout': string
    'agent-token-file'?: string
    'insecure-skip-tls-verify'?: boolean
    node?: string[]
  },
  timeoutMs: number,
): () => Promise<NodeFleet | undefined> {
  return async () => {
    const {openFleet} = await import('./nodes.js')
    return openFleet({
      agentCa: flags['agent-ca'],
      clusterCa: session.clusterCa,
      insecureSkipTlsVerify: flags['insecure-skip-tls-verify'],
      kube: session.client,
      nodes: flags.node,
      timeoutMs,
      tokenFile: flags['agent-token-file'],
    })
  }
}

/**
 * How hook addons reach the cluster: the same kubeconfig and context, and the agent and program flags again for the
 * mk8s their `microk8s-enable.wrapper` runs. --json output keeps stdout one document: hooks then write to stderr.
 */
export function hooksOf(
  flags: {
    'agent-ca'?: string
    'agent-timeout': string
    'agent-token-file'?: string
    context?: string
    helm?: string
    'insecure-skip-tls-verify'?: boolean
    kubeconfig?: string
    kubectl?: string
    node?: string[]
  },
  json: boolean,
): HookEnvironment {
  const given = (name: string, value: string | undefined) => (value ? [`--${name}=${value}`] : [])
  return {
    connection: {context: flags.context, kubeconfig: flags.kubeconfig},
    json,
    nestedFlags: [
      ...given('agent-ca', flags['agent-ca']),
      `--agent-timeout=${flags['agent-timeout']}`,
      ...given('agent-token-file', flags['agent-token-file']),
      ...(flags['insecure-skip-tls-verify'] ? ['--insecure-skip-tls-verify'] : []),
      ...(flags.node ?? []).map((node) => `--node=${node}`),
      ...given('helm', flags.helm),
      ...given('kubectl', flags.kubectl),
    ],
    programs: {helm: flags.helm, kubectl: flags.kubectl},
  }
}
