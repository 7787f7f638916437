import {describe, expect, it} from 'vitest'

import {AddonCatalog} from '../../src/addons/catalog.js'
import {UsageError, type UserError} from '../../src/errors.js'
import type {KubeObject} from '../../src/kube/types.js'
import {parseRecord} from '../../src/records/applyset.js'
import {AddonService} from '../../src/services/addon-service.js'
import {lintRepository} from '../../src/services/authoring.js'
import {quietReporter} from '../../src/services/progress.js'
import {clusterStatus} from '../../src/services/status.js'
import {renderOffline} from '../../src/services/render.js'
import {bundledAddonsDir} from '../../src/paths.js'
import {FakeAgents} from '../helpers/fake-agents.js'
import {FakeKubeClient, deploymentsBecomeAvailable} from '../helpers/fake-kube.js'
import {tempDir} from '../helpers/repos.js'
import {join} from 'node:path'

const cluster = {arch: 'amd64', version: '1.34.0'}

/** Plays the controllers and kubelets of a cluster whose pods run: workloads become ready, Jobs complete. */
function workloadsBecomeReady(object: KubeObject): void {
  deploymentsBecomeAvailable(object)
  const generation = object.metadata.generation
  if (object.kind === 'DaemonSet') {
    object.status = {
      desiredNumberScheduled: 1,
      numberAvailable: 1,
      observedGeneration: generation,
      updatedNumberScheduled: 1,
    }
  }

  if (object.kind === 'Job') object.status = {conditions: [{status: 'True', type: 'Complete'}], succeeded: 1}
}

const node = (name: string, labels: Record<string, string> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: {labels, name},
})

async function setup(options: {agents?: FakeAgents; nodes?: KubeObject[]; serviceIp?: string} = {}) {
  const env = {...process.env, MK8S_HOME: tempDir('mk8s-home-')}
  const client = new FakeKubeClient()
  const applied: KubeObject[] = []
  client.onWrite = (object) => {
    applied.push(object)
    workloadsBecomeReady(object)
  }

  const put = (object: KubeObject) => client.apply(object, {fieldManager: 'test'})
  await put({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {name: 'kubernetes', namespace: 'default'},
    spec: {clusterIP: options.serviceIp ?? '10.152.183.1'},
  })
  for (const n of options.nodes ?? [node('node-1'), node('node-2')]) await put(n)
  applied.length = 0
  const notices: string[] = []
  const catalog = await AddonCatalog.load({arch: 'amd64', env})
  const service = new AddonService({
    catalog,
    client,
    cluster,
    fleet: async () => options.agents?.fleet,
    reporter: quietReporter(
      (line) => notices.push(line),
      (line) => notices.push(line),
    ),
  })
  const live = (kind: string, name: string, namespace?: string) =>
    [...client.objects.values()].find(
      (o) => o.kind === kind && o.metadata.name === name && (!namespace || o.metadata.namespace === namespace),
    )
  return {applied, catalog, client, env, live, notices, service}
}

describe('the bundled core repository', () => {
  it('lints, and renders every addon for every architecture it supports, offline', async () => {
    const {addons, problems} = await lintRepository({path: join(bundledAddonsDir, 'core')})
    expect(problems).toEqual([])
    expect(addons.map((a) => a.id)).toEqual(
      [
        'cert-manager',
        'dashboard',
        'dns',
        'gpu',
        'hostpath-storage',
        'ingress',
        'metallb',
        'metrics-server',
        'rbac',
        'registry',
      ].map((name) => `core/${name}`),
    )
    for (const addon of addons) if (addon.id !== 'core/rbac') expect(addon.objects, addon.id).toBeGreaterThan(0)
  })

  it('bundles community addons that build on core ones, one of them a MicroK8s hook addon', async () => {
    const {addons, problems} = await lintRepository({path: join(bundledAddonsDir, 'community')})
    expect(problems).toEqual([])
    expect(addons.map((a) => `${a.id} ${a.kind}`)).toEqual([
      'community/registry-ui hook',
      'community/selfsigned-issuer declarative',
      'community/whoami declarative',
    ])
    const {service} = await setup()
    const result = await service.enable({timeoutMs: 2000, tokens: ['whoami']})
    expect(result.addons.map((a) => a.addon)).toEqual(['core/ingress', 'community/whoami'])
  })

  it('gives every image of every addon a key, so --image and --registry-mirror reach it', async () => {
    const rendered = await renderOffline({
      imageOverrides: {
        registryMirrors: {'docker.io': 'mirror.local', 'quay.io': 'mirror.local', 'registry.k8s.io': 'mirror.local'},
      },
      tokens: ['ingress'],
    })
    const images = rendered.plan.objects.flatMap(({object}) => JSON.stringify(object).match(/"image":"[^"]+"/g) ?? [])
    expect(images).toEqual(['"image":"mirror.local/library/traefik:v3.6.13"'])
  })
})

describe('aliases', () => {
  it('are one addon: storage enables hostpath-storage, enabling either again does nothing, status shows it once', async () => {
    const {catalog, client, service} = await setup()
    expect(catalog.parse(['storage']).requests.map((r) => `${r.repository}/${r.name}`)).toEqual([
      'core/hostpath-storage',
    ])
    expect(() => catalog.parse(['storage', 'hostpath-storage'])).toThrow(UsageError)
    const first = await service.enable({timeoutMs: 2000, tokens: ['storage']})
    expect(first.addons.map((a) => [a.addon, a.status])).toEqual([['core/hostpath-storage', 'enabled']])
    const writes = client.writes()
    const again = await service.enable({timeoutMs: 2000, tokens: ['hostpath-storage']})
    expect(again.addons.map((a) => a.status)).toEqual(['already-enabled'])
    expect(client.writes()).toBe(writes)
    const status = await clusterStatus({catalog, client})
    const storage = status.addons.filter((a) => a.name === 'hostpath-storage' || a.aliases?.includes('storage'))
    expect(storage.map((a) => [a.name, a.status])).toEqual([['hostpath-storage', 'enabled']])
    expect(status.addons.some((a) => a.name === 'storage')).toBe(false)
  })

  it('refuses an addons.yaml alias that is another addon name', async () => {
    const {loadRepositoryIndex} = await import('../../src/addons/repository.js')
    const {writeTree} = await import('../helpers/repos.js')
    const dir = tempDir('mk8s-repo-')
    const entry = (name: string, aliases = '') =>
      `    - name: ${name}\n      description: d\n      version: 1.0.0\n      check_status: x\n      supported_architectures: [amd64]\n${aliases}`
    writeTree(dir, {
      'addons.yaml': `microk8s-addons:\n  addons:\n${entry('a', '      aliases: [b]\n')}\n${entry('b')}\n`,
    })
    const error = (await loadRepositoryIndex(dir, 'r').catch((e: unknown) => e)) as UserError & {
      problems: {field: string; line: number; message: string}[]
    }
    expect(error.problems).toEqual([
      expect.objectContaining({field: 'microk8s-addons.addons[1].name', line: 10, message: '"b" is listed twice'}),
    ])
  })
})

describe('dns', () => {
  it("takes the service IP from the API server's range and forwards as MicroK8s does", async () => {
    const agents = new FakeAgents(['node-1', 'node-2'])
    const {live, service} = await setup({agents, serviceIp: '10.96.0.1'})
    await service.enable({timeoutMs: 2000, tokens: ['dns']})
    expect((live('Service', 'kube-dns')!.spec as {clusterIP: string}).clusterIP).toBe('10.96.0.10')
    expect((live('ConfigMap', 'coredns')!.data as {Corefile: string}).Corefile).toContain('forward . 8.8.8.8 8.8.4.4\n')
    for (const name of ['node-1', 'node-2'])
      expect(agents.args(name, 'kubelet').get('--cluster-dns')).toBe('10.96.0.10')
  })

  it("forwards to the host's resolver when every node's kubelet has --resolv-conf", async () => {
    const agents = new FakeAgents(['node-1', 'node-2'], {kubelet: '--resolv-conf=/run/systemd/resolve/resolv.conf\n'})
    const {live, service} = await setup({agents})
    await service.enable({timeoutMs: 2000, tokens: ['dns']})
    expect((live('ConfigMap', 'coredns')!.data as {Corefile: string}).Corefile).toContain(
      'forward . /etc/resolv.conf\n',
    )
    expect((live('Service', 'kube-dns')!.spec as {clusterIP: string}).clusterIP).toBe('10.152.183.10')
  })
})

describe('registry', () => {
  it('enables hostpath-storage first unless a storage class is given; the size has a minimum', async () => {
    const {live, service} = await setup()
    const result = await service.enable({timeoutMs: 2000, tokens: ['registry:size=40Gi']})
    expect(result.addons.map((a) => a.addon)).toEqual(['core/hostpath-storage', 'core/registry'])
    const claim = live('PersistentVolumeClaim', 'registry-claim')!.spec as Record<string, unknown>
    expect(claim.storageClassName).toBe('microk8s-hostpath')
    expect(claim.resources).toEqual({requests: {storage: '40Gi'}})
    await expect(service.enable({timeoutMs: 2000, tokens: ['registry:10Gi']})).rejects.toThrow(
      'size: 10Gi is less than the minimum 20Gi',
    )

    const other = await setup()
    const own = await other.service.enable({set: ['storageClass=fast'], timeoutMs: 2000, tokens: ['registry']})
    expect(own.addons.map((a) => a.addon)).toEqual(['core/registry'])
    expect(
      (other.live('PersistentVolumeClaim', 'registry-claim')!.spec as {storageClassName: string}).storageClassName,
    ).toBe('fast')
  })
})

describe('metallb', () => {
  it('takes IPv4 and IPv6 ranges and CIDRs in the colon form, and refuses a missing pool', async () => {
    const {live, notices, service} = await setup()
    await expect(service.enable({timeoutMs: 2000, tokens: ['metallb']})).rejects.toThrow('addresses: is required')
    await service.enable({timeoutMs: 2000, tokens: ['metallb:10.64.140.43-10.64.140.49,fd00::/120']})
    expect((live('IPAddressPool', 'default-addresspool')!.spec as {addresses: string[]}).addresses).toEqual([
      '10.64.140.43-10.64.140.49',
      'fd00::/120',
    ])
    expect(notices.join('\n')).toContain("Not checking that core/metallb's webhooks answer (a dry run of IPAddressPool")
  })
})

describe('what fake pods cannot serve', () => {
  it('metrics-server: waits for its pods, not the APIService, and says so; --wait=full waits for it', async () => {
    const {notices, service} = await setup()
    const result = await service.enable({timeoutMs: 2000, tokens: ['metrics-server']})
    expect(result.addons.map((a) => a.status)).toEqual(['enabled'])
    expect(notices.join('\n')).toContain(
      "Not waiting for APIService v1beta1.metrics.k8s.io to answer: it is served by the addon's own pods (Service kube-system/metrics-server)",
    )

    const full = await setup()
    await full.service.enable({timeoutMs: 2000, tokens: ['dns']})
    const waited = await full.service.enable({timeoutMs: 300, tokens: ['metrics-server'], waitServed: true})
    expect(waited.addons[0].status).toBe('failed')
    expect(waited.addons[0].message).toContain('APIService v1beta1.metrics.k8s.io')
  })

  it('cert-manager: names the webhook check it skips; --wait=full dry-runs an Issuer and stores nothing', async () => {
    const {notices, service} = await setup()
    await service.enable({timeoutMs: 2000, tokens: ['cert-manager']})
    expect(notices.join('\n')).toContain("Not checking that core/cert-manager's webhooks answer")
    const full = await setup()
    const dryRuns: string[] = []
    const apply = full.client.apply.bind(full.client)
    full.client.apply = async (object, options) => {
      if (options.dryRun) dryRuns.push(`${object.kind}/${object.metadata.name}`)
      return apply(object, options)
    }

    const result = await full.service.enable({timeoutMs: 2000, tokens: ['cert-manager'], waitServed: true})
    expect(result.addons.map((a) => a.status)).toEqual(['enabled', 'enabled'])
    expect(dryRuns).toEqual(['Issuer/mk8s-probe-selfsigned'])
    expect([...full.client.objects.values()].some((o) => o.kind === 'Issuer')).toBe(false)
    expect(full.notices.join('\n')).not.toContain('Not checking')
  })
})

describe('hostpath-storage disable', () => {
  it('keeps the data unless asked; destroy-storage runs a Job on every node, waits for it, and deletes it', async () => {
    const {applied, client, service} = await setup({nodes: [node('node-1'), node('node-2'), node('node-3')]})
    await service.enable({timeoutMs: 2000, tokens: ['hostpath-storage']})
    await service.disable({timeoutMs: 2000, tokens: ['hostpath-storage']})
    expect(applied.filter((o) => o.kind === 'Job')).toEqual([])

    await service.enable({timeoutMs: 2000, tokens: ['hostpath-storage']})
    await expect(service.disable({timeoutMs: 2000, tokens: ['hostpath-storage:destroy-everything']})).rejects.toThrow(
      'core/hostpath-storage takes no positional arguments',
    )
    expect([...client.objects.values()].some((o) => o.metadata.name === 'hostpath-provisioner')).toBe(true)

    const result = await service.disable({timeoutMs: 2000, tokens: ['hostpath-storage:destroy-storage']})
    expect(result.addons[0].status).toBe('disabled')
    const jobs = applied.filter((o) => o.kind === 'Job')
    expect(jobs.map((job) => (job.spec as {template: {spec: {nodeName: string}}}).template.spec.nodeName)).toEqual([
      'node-1',
      'node-2',
      'node-3',
    ])
    expect(result.addons[0].cleanup?.map((ref) => ref.name)).toEqual([
      'hostpath-destroy-storage-0',
      'hostpath-destroy-storage-1',
      'hostpath-destroy-storage-2',
    ])
    expect([...client.objects.values()].map((o) => o.kind)).not.toContain('Job')
    expect([...client.objects.values()].map((o) => o.metadata.name)).not.toContain('mk8s.core.hostpath-storage')
  })
})

describe('gpu', () => {
  it('says clearly when no node has a GPU, and names the nodes that have one', async () => {
    const none = await setup()
    await none.service.enable({timeoutMs: 2000, tokens: ['nvidia']})
    expect(none.notices.join('\n')).toContain('No node has a GPU')
    const some = await setup({nodes: [node('node-1'), node('gpu-1', {'nvidia.com/gpu.present': 'true'})]})
    await some.service.enable({timeoutMs: 2000, tokens: ['gpu']})
    expect(some.notices.join('\n')).toContain('NVIDIA device plugin enabled on gpu-1')
    expect(some.live('RuntimeClass', 'nvidia')).toBeDefined()
  })
})

describe('records of core addons', () => {
  it('keep the options an addon was enabled with', async () => {
    const {client, service} = await setup()
    await service.enable({timeoutMs: 2000, tokens: ['ingress'], set: ['serviceType=NodePort']})
    const record = parseRecord(
      [...client.objects.values()].find((o) => o.metadata.name === 'mk8s.core.ingress')! as Parameters<
        typeof parseRecord
      >[0],
    )
    expect(record?.options.serviceType).toBe('NodePort')
  })
})
