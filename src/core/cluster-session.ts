import {HttpKubeClient} from '../kube/http-client.js'
import {AddonCatalog} from './catalog.js'

export interface SessionOptions {
  context?: string
  kubeconfig?: string
}

export interface ClusterSession {
  catalog: AddonCatalog
  client: HttpKubeClient
  cluster: {arch: string; version: string}
}

/**
 * Connects to the cluster of the kubeconfig and reads what rendering needs of it: the server version and the
 * architecture most of its nodes run (the host's when nodes cannot be listed).
 */
export async function openSession(options: SessionOptions = {}): Promise<ClusterSession> {
  const [client, catalog] = await Promise.all([HttpKubeClient.connect(options), AddonCatalog.load()])
  const [version, nodes] = await Promise.all([client.serverVersion(), client.list('v1', 'Node').catch(() => [])])
  const counts = new Map<string, number>()
  for (const node of nodes) {
    const arch = node.metadata.labels?.['kubernetes.io/arch']
    if (arch) counts.set(arch, (counts.get(arch) ?? 0) + 1)
  }

  const arch = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? catalog.arch
  return {catalog, client, cluster: {arch, version}}
}
