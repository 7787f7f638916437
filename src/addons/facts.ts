import {readContained} from '../host/fs.js'
import type {DeclarativeAddon} from '../models/addon.js'
import type {NodeFleet} from '../nodes/fleet.js'
import {fanOut} from '../nodes/fleet.js'
import type {KubeClient, KubeObject} from '../kube/types.js'

/**
 * What a template may know of the cluster, beyond its version and architecture. Each fact is read only when an
 * addon's templates name it (`cluster.kubernetesServiceIp`), so addons that do not use them cost no request.
 */
export interface ClusterFacts {
  arch: string
  /**
   * Nodes with an NVIDIA GPU: labelled `nvidia.com/gpu.present=true` (GPU feature discovery) or
   * `feature.node.kubernetes.io/pci-10de.present=true` (node feature discovery, PCI vendor 10de), or with
   * `nvidia.com/gpu` capacity already.
   */
  gpuNodes: string[]
  /**
   * The `--resolv-conf` every node's kubelet is started with, or '' when a node has none or no agent can be asked.
   * CoreDNS pods with `dnsPolicy: Default` read that file: when set, it is the host's usable resolver.
   */
  kubeletResolvConf: string
  /** The ClusterIP of `default/kubernetes`: the first address of the API server's service range. */
  kubernetesServiceIp: string
  /** The nodes' names, for objects made once per node (disable's clean-up Jobs). */
  nodeNames: string[]
  version: string
}

export type FactName = Exclude<keyof ClusterFacts, 'arch' | 'version'>

/** What rendering assumes with no cluster (mk8s render, --dry-run client): a default MicroK8s node. */
export const OFFLINE_FACTS: Omit<ClusterFacts, 'arch' | 'version'> = {
  gpuNodes: [],
  kubeletResolvConf: '',
  kubernetesServiceIp: '10.152.183.1',
  nodeNames: [],
}

const FACT_NAMES = Object.keys(OFFLINE_FACTS) as FactName[]

/** The facts an addon's templates, node arguments and message name. */
export async function factsUsed(addon: DeclarativeAddon): Promise<Set<FactName>> {
  const texts = [JSON.stringify(addon.definition.nodeArgs ?? {}), addon.definition.message ?? '']
  for (const template of addon.manifests) texts.push(await readContained(addon.dir, template).catch(() => ''))
  const all = texts.join('\n')
  return new Set(FACT_NAMES.filter((name) => all.includes(`cluster.${name}`)))
}

export const GPU_LABELS = ['nvidia.com/gpu.present', 'feature.node.kubernetes.io/pci-10de.present']

function hasGpu(node: KubeObject): boolean {
  const labels = node.metadata.labels ?? {}
  const capacity = (node.status as {capacity?: Record<string, string>} | undefined)?.capacity ?? {}
  return GPU_LABELS.some((label) => labels[label] === 'true') || Number(capacity['nvidia.com/gpu'] ?? 0) > 0
}

/** Reads facts from a cluster, once each per instance. */
export class FactReader {
  private readonly read = new Map<FactName, Promise<ClusterFacts[FactName]>>()
  private nodes?: Promise<KubeObject[]>

  constructor(
    private readonly client: KubeClient,
    private readonly fleet: () => Promise<NodeFleet | undefined>,
  ) {}

  async facts(addon: DeclarativeAddon, base: {arch: string; version: string}): Promise<ClusterFacts> {
    const facts: ClusterFacts = {...OFFLINE_FACTS, ...base}
    for (const name of await factsUsed(addon)) {
      let value = this.read.get(name)
      if (!value) {
        value = this.readFact(name)
        this.read.set(name, value)
      }

      Object.assign(facts, {[name]: await value})
    }

    return facts
  }

  /** One LIST of the nodes for every fact about them. */
  private listNodes(): Promise<KubeObject[]> {
    this.nodes ??= this.client.list('v1', 'Node')
    return this.nodes
  }

  private async readFact(name: FactName): Promise<ClusterFacts[FactName]> {
    switch (name) {
      case 'gpuNodes': {
        return (await this.listNodes()).filter((node) => hasGpu(node)).map((node) => node.metadata.name)
      }

      case 'nodeNames': {
        return (await this.listNodes()).map((node) => node.metadata.name).sort()
      }

      case 'kubeletResolvConf': {
        const fleet = await this.fleet()
        if (!fleet || fleet.nodes.length === 0) return ''
        const outcomes = await fanOut(fleet.nodes, async (node) => fleet.client.arguments(node, 'kubelet'))
        const values = outcomes.map((outcome) =>
          outcome.ok ? outcome.value.find((arg) => arg.flag === '--resolv-conf')?.value : undefined,
        )
        // One value for the whole cluster, as MicroK8s propagates one: only when every node agrees.
        return values.every((value) => value && value === values[0]) ? values[0]! : ''
      }

      case 'kubernetesServiceIp': {
        const service = await this.client.get({apiVersion: 'v1', kind: 'Service', name: 'kubernetes', namespace: 'default'})
        const ip = (service?.spec as {clusterIP?: string} | undefined)?.clusterIP
        return ip && ip !== 'None' ? ip : OFFLINE_FACTS.kubernetesServiceIp
      }
    }
  }
}
