import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {NODES, nodeDir} from '../../scripts/cluster/cluster.mjs'
import {mk8s} from './cli.js'
import {clusterDir, eventually, kubectl, kubectlJson} from './cluster.js'

/** Every node's kubelet and kube-apiserver args files, as text: what "every node as before" compares. */
const nodeArgs = () =>
  Object.fromEntries(
    NODES.flatMap((node) =>
      ['kubelet', 'kube-apiserver'].map((service) => [
        `${node.name}/${service}`,
        readFileSync(join(nodeDir(clusterDir, node.name), 'args', service), 'utf8'),
      ]),
    ),
  )

const flagOnEveryNode = (service: string, flag: string) =>
  NODES.map((node) => {
    const line = readFileSync(join(nodeDir(clusterDir, node.name), 'args', service), 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`${flag}=`))
    return line?.slice(flag.length + 1)
  })

// Objects the control plane itself keeps changing, or that only exist while a workload runs.
const VOLATILE = new Set([
  'controllerrevisions.apps',
  'endpoints',
  'endpointslices.discovery.k8s.io',
  'events',
  'events.events.k8s.io',
  'leases.coordination.k8s.io',
  'pods',
  'replicasets.apps',
])

/** Every listable object of the cluster as kind/namespace/name, volatile kinds left out. */
function clusterObjects(): string[] {
  const kinds = kubectl(['api-resources', '--verbs=list', '-o', 'name'])
    .split('\n')
    .filter((kind) => kind && !VOLATILE.has(kind))
  const list = kubectlJson<{items: {kind: string; metadata: {name: string; namespace?: string}}[]}>([
    'get',
    kinds.join(','),
    '-A',
    '--ignore-not-found',
  ])
  return list.items.map((i) => `${i.kind}/${i.metadata.namespace ?? ''}/${i.metadata.name}`).sort()
}

/** What is left in the cluster carrying an addon's ApplySet label, or named like its record. */
function leftOf(addon: string): string[] {
  return clusterObjects().filter((o) => o.includes(`mk8s.core.${addon}`) || o.includes(`/${addon}`))
}

// Well inside the test's own timeout, so that a stuck addon is reported by mk8s, naming what it waited for.
const TIMEOUT = ['--timeout', '80s']

async function enable(args: string[]) {
  const result = await mk8s(['enable', ...args, ...TIMEOUT])
  expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0)
  return result
}

async function disable(args: string[]) {
  const result = await mk8s(['disable', ...args, ...TIMEOUT])
  expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0)
  return result
}

const canI = (verb: string, resource: string) => {
  try {
    return kubectl(['auth', 'can-i', verb, resource, '--as=someone']).trim()
  } catch (error) {
    return String((error as {stdout?: string}).stdout ?? '').trim()
  }
}

/** A volume the registry's claim binds to: on this cluster no provisioner runs, so the test plays its part. */
function createVolume(name: string, storageClass: string, size: string) {
  kubectl(
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: {name},
      spec: {
        accessModes: ['ReadWriteMany'],
        capacity: {storage: size},
        hostPath: {path: `/tmp/${name}`},
        persistentVolumeReclaimPolicy: 'Retain',
        storageClassName: storageClass,
      },
    }),
  )
}

const deleteVolume = (name: string) => kubectl(['delete', 'pv', name, '--ignore-not-found', '--wait=false'])

describe('the core addons on the real control plane', () => {
  let before: {args: Record<string, string>; objects: string[]}
  beforeAll(() => {
    before = {args: nodeArgs(), objects: clusterObjects()}
  })

  afterAll(async () => {
    kubectl(['label', 'node', 'node-2', 'nvidia.com/gpu.present-', '--overwrite'])
    for (const pv of ['registry-hostpath', 'registry-manual', 'registry-all']) deleteVolume(pv)
    kubectl(['delete', 'storageclass', 'manual', '--ignore-not-found'])
  })

  it("dns forwards to 8.8.8.8 8.8.4.4, or to the host's resolver once every kubelet has --resolv-conf", async () => {
    const corefile = () =>
      kubectlJson<{data: {Corefile: string}}>(['get', 'configmap', 'coredns', '-n', 'kube-system']).data.Corefile
    await enable(['dns'])
    expect(corefile()).toContain('forward . 8.8.8.8 8.8.4.4\n')
    expect(flagOnEveryNode('kubelet', '--cluster-dns')).toEqual(['10.152.183.10', '10.152.183.10', '10.152.183.10'])
    // A Service's clusterIP cannot change in place: kube-dns is made again, and every kubelet follows.
    const moved = await enable(['dns::10.152.183.20'])
    expect(moved.stderr).toContain('Replacing Service kube-system/kube-dns')
    expect(
      kubectlJson<{spec: {clusterIP: string}}>(['get', 'service', 'kube-dns', '-n', 'kube-system']).spec.clusterIP,
    ).toBe('10.152.183.20')
    expect(flagOnEveryNode('kubelet', '--cluster-dns')).toEqual(['10.152.183.20', '10.152.183.20', '10.152.183.20'])
    await disable(['dns'])

    const set = await mk8s(['nodes', 'args', 'set', 'kubelet', '--', '--resolv-conf=/run/systemd/resolve/resolv.conf'])
    expect(set.code).toBe(0)
    try {
      await enable(['dns'])
      expect(corefile()).toContain('forward . /etc/resolv.conf\n')
      await disable(['dns'])
    } finally {
      await mk8s(['nodes', 'args', 'remove', 'kubelet', '--', '--resolv-conf'])
    }

    expect(nodeArgs()).toEqual(before.args)
    expect(leftOf('coredns')).toEqual([])
  })

  it('hostpath-storage (as storage): the default class and reclaim policy, options applied again; destroy-storage runs on every node', async () => {
    const storageClass = () =>
      kubectlJson<{metadata: {annotations: Record<string, string>}; reclaimPolicy: string; volumeBindingMode: string}>([
        'get',
        'storageclass',
        'microk8s-hostpath',
      ])
    await enable(['storage'])
    expect(storageClass().metadata.annotations['storageclass.kubernetes.io/is-default-class']).toBe('true')
    expect(storageClass().reclaimPolicy).toBe('Delete')
    expect(storageClass().volumeBindingMode).toBe('WaitForFirstConsumer')
    // A StorageClass's reclaimPolicy cannot change in place: mk8s makes the class again, and says so.
    const changed = await enable(['hostpath-storage', '--reclaim-policy', 'Retain', '--default-class=false'])
    expect(changed.stderr).toContain('Replacing StorageClass microk8s-hostpath')
    expect(storageClass().metadata.annotations['storageclass.kubernetes.io/is-default-class']).toBe('false')
    expect(storageClass().reclaimPolicy).toBe('Retain')
    const again = await enable(['storage'])
    expect(again.stdout).toContain('Addon core/hostpath-storage is already enabled')

    const {stdout} = await disable(['hostpath-storage:destroy-storage', '--json'])
    const {result} = JSON.parse(stdout) as {result: {addons: {cleanup: {name: string}[]; status: string}[]}}
    expect(result.addons[0].cleanup.map((job) => job.name)).toEqual(
      NODES.map((_, i) => `hostpath-destroy-storage-${i}`),
    )
    expect(leftOf('hostpath')).toEqual([])
  })

  it('rbac: can-i answers no once enabled, and disable puts back the mode each node had', async () => {
    expect(canI('list', 'secrets')).toBe('yes')
    await enable(['rbac'])
    expect(flagOnEveryNode('kube-apiserver', '--authorization-mode')).toEqual(['RBAC,Node', 'RBAC,Node', 'RBAC,Node'])
    expect(canI('list', 'secrets')).toBe('no')
    await disable(['rbac'])
    expect(canI('list', 'secrets')).toBe('yes')
    expect(nodeArgs()).toEqual(before.args)
  })

  it('dashboard with metrics-server: the token Secret, the kubelet flag on every node, the APIService not waited for', async () => {
    const {stderr} = await enable(['dashboard'])
    expect(stderr).toContain('Not waiting for APIService v1beta1.metrics.k8s.io to answer')
    expect(flagOnEveryNode('kubelet', '--authentication-token-webhook')).toEqual(['true', 'true', 'true'])
    const secret = await eventually(() => {
      const found = kubectlJson<{data?: {token?: string}; type: string}>([
        'get',
        'secret',
        'microk8s-dashboard-token',
        '-n',
        'kube-system',
      ])
      if (!found.data?.token) throw new Error('no token yet')
      return found
    })
    expect(secret.type).toBe('kubernetes.io/service-account-token')
    for (const name of ['kubernetes-dashboard', 'dashboard-metrics-scraper']) {
      expect(
        kubectlJson<{status: {availableReplicas: number}}>(['get', 'deploy', name, '-n', 'kubernetes-dashboard']).status
          .availableReplicas,
      ).toBe(1)
    }

    // On fake nodes the metrics APIService never answers, and Kubernetes holds every namespace deletion while an
    // aggregated API does not answer: metrics-server goes first here (on a real cluster either order works).
    await disable(['metrics-server'])
    await disable(['dashboard'])
    expect(leftOf('microk8s-dashboard-token')).toEqual([])
    expect(clusterObjects().filter((o) => o.includes('kubernetes-dashboard'))).toEqual([])
    expect(clusterObjects().filter((o) => o.includes('metrics'))).toEqual(
      before.objects.filter((o) => o.includes('metrics')),
    )
    expect(nodeArgs()).toEqual(before.args)
  })

  it('registry: the claim takes the size and class given; without a class it needs hostpath-storage', async () => {
    kubectl(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'storage.k8s.io/v1',
        kind: 'StorageClass',
        metadata: {name: 'manual'},
        provisioner: 'kubernetes.io/no-provisioner',
        volumeBindingMode: 'Immediate',
      }),
    )
    createVolume('registry-manual', 'manual', '40Gi')
    const {stdout} = await enable(['registry', '--size', '40Gi', '--storage-class', 'manual', '--json'])
    expect((JSON.parse(stdout) as {result: {addons: {addon: string}[]}}).result.addons.map((a) => a.addon)).toEqual([
      'core/registry',
    ])
    const claim = () =>
      kubectlJson<{
        spec: {resources: {requests: {storage: string}}; storageClassName: string}
        status: {phase: string}
      }>(['get', 'pvc', 'registry-claim', '-n', 'container-registry'])
    expect(claim().spec.resources.requests.storage).toBe('40Gi')
    expect(claim().spec.storageClassName).toBe('manual')
    expect(claim().status.phase).toBe('Bound')
    const service = kubectlJson<{spec: {ports: {nodePort: number}[]; type: string}}>([
      'get',
      'service',
      'registry',
      '-n',
      'container-registry',
    ])
    expect([service.spec.type, service.spec.ports[0].nodePort]).toEqual(['NodePort', 32000])
    const hosting = kubectlJson<{data: Record<string, string>}>([
      'get',
      'cm',
      'local-registry-hosting',
      '-n',
      'kube-public',
    ])
    expect(hosting.data['localRegistryHosting.v1']).toContain('host: "localhost:32000"')
    await disable(['registry'])
    expect(clusterObjects().filter((o) => o.includes('container-registry') || o.includes('local-registry'))).toEqual([])

    createVolume('registry-hostpath', 'microk8s-hostpath', '20Gi')
    const defaults = await enable(['registry', '--json'])
    expect(
      (JSON.parse(defaults.stdout) as {result: {addons: {addon: string}[]}}).result.addons.map((a) => a.addon),
    ).toEqual(['core/hostpath-storage', 'core/registry'])
    expect(claim().spec.storageClassName).toBe('microk8s-hostpath')
    expect(claim().spec.resources.requests.storage).toBe('20Gi')
    await disable(['registry'])
    await disable(['hostpath-storage'])
  })

  it('metallb: the pool holds the IPv4 range and the IPv6 CIDR given in the colon form', async () => {
    const refused = await mk8s(['enable', 'metallb'])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain('addresses: is required')
    await enable(['metallb:10.64.140.43-10.64.140.49,fd00::/120'])
    const pool = kubectlJson<{spec: {addresses: string[]}}>([
      'get',
      'ipaddresspool',
      'default-addresspool',
      '-n',
      'metallb-system',
    ])
    expect(pool.spec.addresses).toEqual(['10.64.140.43-10.64.140.49', 'fd00::/120'])
    kubectl(['get', 'l2advertisement', 'default-advertise-all-pools', '-n', 'metallb-system'])
    kubectl(['get', 'validatingwebhookconfiguration', 'metallb-webhook-configuration'])
    await disable(['metallb'])
    expect(clusterObjects().filter((o) => o.includes('metallb'))).toEqual([])
  })

  it('ingress: the classes public (the default), traefik and nginx, a DaemonSet on every node, the default certificate', async () => {
    await enable(['ingress:default-ssl-certificate=kube-system/my-cert'])
    const classes = kubectlJson<{
      items: {metadata: {annotations?: Record<string, string>; name: string}; spec: {controller: string}}[]
    }>(['get', 'ingressclass']).items
    expect(classes.map((c) => c.metadata.name).sort()).toEqual(['nginx', 'public', 'traefik'])
    expect(
      classes
        .filter((c) => c.metadata.annotations?.['ingressclass.kubernetes.io/is-default-class'] === 'true')
        .map((c) => c.metadata.name),
    ).toEqual(['public'])
    expect(new Set(classes.map((c) => c.spec.controller))).toEqual(new Set(['traefik.io/ingress-controller']))
    const ds = kubectlJson<{
      spec: {template: {spec: {containers: {ports: {hostPort?: number}[]}[]}}}
      status: {numberAvailable: number}
    }>(['get', 'daemonset', 'traefik', '-n', 'ingress'])
    expect(ds.status.numberAvailable).toBe(NODES.length)
    expect(ds.spec.template.spec.containers[0].ports.flatMap((p) => p.hostPort ?? [])).toEqual([80, 443])
    const store = kubectlJson<{spec: {defaultCertificate: {secretName: string}}}>([
      'get',
      'tlsstore',
      'default',
      '-n',
      'kube-system',
    ])
    expect(store.spec.defaultCertificate.secretName).toBe('my-cert')

    await enable(['ingress', '--gateway-api'])
    kubectl(['get', 'gatewayclass', 'traefik'])
    kubectl(['get', 'gateway', 'traefik-gateway', '-n', 'ingress'])
    await disable(['ingress'])
    expect(clusterObjects().filter((o) => /traefik|ingress|gateway/i.test(o))).toEqual(
      before.objects.filter((o) => /traefik|ingress|gateway/i.test(o)),
    )
  })

  it('cert-manager: requires dns, its CRDs established, the webhook check named, nothing left after disable', async () => {
    const {stderr, stdout} = await enable(['cert-manager'])
    expect(stdout).toContain('Enabled core/dns')
    expect(stderr).toContain("Not checking that core/cert-manager's webhooks answer")
    const crd = kubectlJson<{status: {conditions: {status: string; type: string}[]}}>([
      'get',
      'crd',
      'certificates.cert-manager.io',
    ])
    expect(crd.status.conditions.find((c) => c.type === 'Established')?.status).toBe('True')
    await disable(['cert-manager'])
    await disable(['dns'])
    expect(clusterObjects().filter((o) => o.includes('cert-manager'))).toEqual([])
    expect(nodeArgs()).toEqual(before.args)
  })

  it('gpu (as nvidia): the device plugin on the node that has a GPU, and the nvidia RuntimeClass', async () => {
    const none = await enable(['nvidia'])
    expect(none.stdout).toContain('No node has a GPU')
    await disable(['gpu'])
    kubectl(['label', 'node', 'node-2', 'nvidia.com/gpu.present=true', '--overwrite'])
    const some = await enable(['gpu'])
    expect(some.stdout).toContain('NVIDIA device plugin enabled on node-2')
    const ds = kubectlJson<{status: {desiredNumberScheduled: number; numberAvailable: number}}>([
      'get',
      'daemonset',
      'nvidia-device-plugin-daemonset',
      '-n',
      'kube-system',
    ])
    expect([ds.status.desiredNumberScheduled, ds.status.numberAvailable]).toEqual([1, 1])
    kubectl(['get', 'runtimeclass', 'nvidia'])
    await disable(['nvidia'])
    expect(clusterObjects().filter((o) => o.includes('nvidia'))).toEqual([])
  })

  it('enabling every core addon together, then disabling them all, leaves the cluster as it was', async () => {
    createVolume('registry-all', 'microk8s-hostpath', '20Gi')
    const start = {args: nodeArgs(), objects: clusterObjects()}
    const all = [
      'dns',
      'rbac',
      'hostpath-storage',
      'metrics-server',
      'dashboard',
      'registry',
      'metallb:10.64.140.43-10.64.140.49',
      'ingress',
      'cert-manager',
      'gpu',
    ]
    const {stdout} = await enable([...all, '--json'])
    const enabled = (JSON.parse(stdout) as {result: {addons: {addon: string; status: string}[]}}).result.addons
    expect(enabled.every((a) => ['enabled', 'already-enabled'].includes(a.status))).toBe(true)
    const status = JSON.parse((await mk8s(['status', '--format', 'json'])).stdout) as {
      addons: {name: string; repository: string; status: string}[]
    }
    expect(status.addons.filter((a) => a.repository === 'core' && a.status === 'enabled').length).toBe(10)

    // The metrics APIService, unanswered on fake nodes, would hold up namespace deletion: it goes first.
    await disable([
      'metrics-server',
      'dashboard',
      'cert-manager',
      'ingress',
      'metallb',
      'registry',
      'hostpath-storage',
      'gpu',
      'rbac',
      'dns',
    ])
    expect(nodeArgs()).toEqual(start.args)
    expect(clusterObjects()).toEqual(start.objects)
  })
})
