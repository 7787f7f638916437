import {describe, expect, it} from 'vitest'

import {quietReporter} from '../../src/services/progress.js'
import {AddonService} from '../../src/services/addon-service.js'
import {AddonCatalog} from '../../src/addons/catalog.js'
import {HttpKubeClient} from '../../src/kube/http-client.js'
import {kubeconfig, kubectl, kubectlJson} from './cluster.js'
import {mk8s} from './cli.js'

interface Ref {
  apiVersion: string
  kind: string
  name: string
  namespace?: string
}

function record(
  name = 'mk8s.core.dns',
): {data: Record<string, string>; metadata: {labels: Record<string, string>}} | undefined {
  try {
    return kubectlJson(['get', 'configmap', name, '-n', 'kube-system'])
  } catch {
    return undefined
  }
}

/** Every object of the recorded kinds that carries the addon's ApplySet label, cluster-scoped ones included. */
function liveMembers(refs: Ref[], setId: string): string[] {
  const kinds = [
    ...new Set(
      refs.map((r) => `${r.kind}.${r.apiVersion.includes('/') ? r.apiVersion.split('/')[0] : ''}`.replace(/\.$/, '')),
    ),
  ]
  const list = kubectlJson<{items: {kind: string; metadata: {name: string; namespace?: string}}[]}>([
    'get',
    kinds.join(','),
    '-A',
    '-l',
    `applyset.kubernetes.io/part-of=${setId}`,
  ])
  return list.items.map((i) => `${i.kind}/${i.metadata.namespace ?? ''}/${i.metadata.name}`).sort()
}

describe('enable, disable and status of dns', () => {
  it('enables dns: objects created, Deployment Available through kwok, record lists exactly what was applied', async () => {
    const {code, stdout} = await mk8s(['enable', 'dns', '--json'])
    expect(code).toBe(0)
    const document = JSON.parse(stdout) as {
      result: {addons: {addon: string; objects: Ref[]; status: string}[]}
      status: string
    }
    expect(document.status).toBe('ok')
    const {result} = document
    expect(result.addons.map((a) => [a.addon, a.status])).toEqual([['core/dns', 'enabled']])

    const deployment = kubectlJson<{status: {conditions: {status: string; type: string}[]}}>([
      'get',
      'deployment',
      'coredns',
      '-n',
      'kube-system',
    ])
    expect(deployment.status.conditions.find((c) => c.type === 'Available')?.status).toBe('True')
    expect(
      kubectlJson<{spec: {clusterIP: string}}>(['get', 'service', 'kube-dns', '-n', 'kube-system']).spec.clusterIP,
    ).toBe('10.152.183.10')

    const rec = record()!
    const recorded = JSON.parse(rec.data.objects) as Ref[]
    expect(recorded).toEqual(result.addons[0].objects)
    const setId = rec.metadata.labels['applyset.kubernetes.io/id']
    const expected = recorded.map((r) => `${r.kind}/${r.namespace ?? ''}/${r.name}`).sort()
    expect(liveMembers(recorded, setId)).toEqual(expected)
    expect(expected).toEqual([
      'ClusterRole//coredns',
      'ClusterRoleBinding//coredns',
      'ConfigMap/kube-system/coredns',
      'Deployment/kube-system/coredns',
      'Service/kube-system/kube-dns',
      'ServiceAccount/kube-system/coredns',
    ])
    expect(rec.data.state).toBe('enabled')
  })

  it('makes zero write requests when enabled again with the same version and options', async () => {
    const client = await HttpKubeClient.connect({kubeconfig})
    const catalog = await AddonCatalog.load()
    const notices: string[] = []
    const service = new AddonService({
      catalog,
      client,
      cluster: {arch: 'amd64', version: await client.serverVersion()},
      reporter: quietReporter(
        (line) => notices.push(line),
        (line) => notices.push(line),
      ),
    })
    const result = await service.enable({timeoutMs: 30_000, tokens: ['dns']})
    client.close()
    expect(result.addons.map((a) => a.status)).toEqual(['already-enabled'])
    expect(notices).toContain('Addon core/dns is already enabled')
    const writes = ['POST', 'PUT', 'PATCH', 'DELETE'].map((m) => client.requestCounts[m] ?? 0)
    expect(writes).toEqual([0, 0, 0, 0])
    expect(client.requestCounts.GET).toBeGreaterThan(0)
  })

  it('prints the MicroK8s message and exits 0 when already enabled', async () => {
    const {code, stdout} = await mk8s(['enable', 'dns'])
    expect(code).toBe(0)
    expect(stdout).toContain('Addon core/dns is already enabled')
  })

  it('reconfigures with new options and keeps them when enabled again without options', async () => {
    expect((await mk8s(['enable', 'dns:1.1.1.1'])).code).toBe(0)
    const corefile = () =>
      kubectlJson<{data: {Corefile: string}}>(['get', 'configmap', 'coredns', '-n', 'kube-system']).data.Corefile
    expect(corefile()).toContain('forward . 1.1.1.1\n')
    expect((await mk8s(['enable', 'dns'])).stdout).toContain('already enabled')
    expect(corefile()).toContain('forward . 1.1.1.1\n')
  })

  it('stores image overrides in the record and reuses them', async () => {
    expect((await mk8s(['enable', 'dns', '--registry-mirror', 'docker.io=mirror.local:5000'])).code).toBe(0)
    const image = () =>
      kubectlJson<{spec: {template: {spec: {containers: {image: string}[]}}}}>([
        'get',
        'deployment',
        'coredns',
        '-n',
        'kube-system',
      ]).spec.template.spec.containers[0].image
    expect(image()).toBe('mirror.local:5000/coredns/coredns:1.14.3')
    expect(JSON.parse(record()!.data.overrides)).toEqual({
      images: {},
      registryMirrors: {'docker.io': 'mirror.local:5000'},
    })
    const again = await mk8s(['enable', 'dns:8.8.8.8'])
    expect(again.code).toBe(0)
    expect(image()).toBe('mirror.local:5000/coredns/coredns:1.14.3')
  })

  it('reports status in the pretty, short, yaml and json shapes', async () => {
    const pretty = await mk8s(['status'])
    expect(pretty.code).toBe(0)
    expect(pretty.stdout).toMatch(/^cluster is running\n/)
    expect(pretty.stdout).toContain('  enabled:\n    dns                  # (core) CoreDNS\n')
    expect((await mk8s(['status', '--format', 'short'])).stdout).toContain('core/dns: enabled\n')
    expect((await mk8s(['status', '--addon', 'dns'])).stdout).toBe('enabled\n')
    const json = JSON.parse((await mk8s(['status', '--format', 'json'])).stdout) as {
      addons: {health?: string; name: string; status: string}[]
    }
    expect(json.addons.find((a) => a.name === 'dns')).toMatchObject({health: 'ready', status: 'enabled'})
    expect((await mk8s(['status', '--format', 'yaml'])).stdout).toMatch(
      /- description: CoreDNS\n {4}health: ready\n {4}name: dns\n {4}repository: core\n {4}status: enabled/,
    )
  })

  it('reports a degraded addon when a member was deleted behind its back, and repairs it on enable', async () => {
    kubectl(['delete', 'service', 'kube-dns', '-n', 'kube-system'])
    const status = JSON.parse((await mk8s(['status', '--format', 'json'])).stdout) as {
      addons: {health?: string; issues?: string[]; name: string}[]
    }
    expect(status.addons.find((a) => a.name === 'dns')).toMatchObject({
      health: 'degraded',
      issues: ['Service kube-system/kube-dns is missing'],
    })
    const enable = await mk8s(['enable', 'dns'])
    expect(enable.stdout).toContain('Enabled core/dns')
    expect(
      kubectlJson<{metadata: {name: string}}>(['get', 'service', 'kube-dns', '-n', 'kube-system']).metadata.name,
    ).toBe('kube-dns')
  })

  it('diffs against the live objects: nothing for the same options, the Corefile line for new ones', async () => {
    const same = await mk8s(['diff', 'dns'])
    expect(same.code).toBe(0)
    expect(same.stdout).toContain('core/dns: 0 to change, 6 unchanged')
    const changed = await mk8s(['diff', 'dns:9.9.9.9'])
    expect(changed.code).toBe(1)
    expect(changed.stdout).toContain('--- live/ConfigMap kube-system/coredns\n+++ mk8s/ConfigMap kube-system/coredns\n')
    expect(changed.stdout).toMatch(/\n-\s+forward \. 8\.8\.8\.8\n\+\s+forward \. 9\.9\.9\.9\n/)
    expect(changed.stdout).toContain('core/dns: 1 to change, 5 unchanged')
  })

  it('server-side dry runs change nothing', async () => {
    const before = kubectl([
      'get',
      'configmap',
      'coredns',
      '-n',
      'kube-system',
      '-o',
      'jsonpath={.metadata.resourceVersion}',
    ])
    const {code, stdout} = await mk8s(['enable', 'dns:9.9.9.9', '--dry-run', 'server'])
    expect(code).toBe(0)
    expect(stdout).toContain('Would apply 6 objects for core/dns')
    expect(
      kubectl(['get', 'configmap', 'coredns', '-n', 'kube-system', '-o', 'jsonpath={.metadata.resourceVersion}']),
    ).toBe(before)
  })

  it('waits for a Ready node with status --wait-ready', async () => {
    const {code, stdout} = await mk8s(['status', '--wait-ready', '--timeout', '10', '--format', 'short'])
    expect(code).toBe(0)
    expect(stdout).toMatch(/^cluster is running\naddons:\ncore\/dns: enabled\n/)
  })

  it('disables dns: no object of the addon is left, cluster-scoped ones included', async () => {
    const rec = record()!
    const recorded = JSON.parse(rec.data.objects) as Ref[]
    const setId = rec.metadata.labels['applyset.kubernetes.io/id']
    const {code, stdout} = await mk8s(['disable', 'dns'])
    expect(code).toBe(0)
    expect(stdout).toContain('Disabled core/dns: 6 objects deleted')
    expect(liveMembers(recorded, setId)).toEqual([])
    for (const ref of recorded) {
      const args = [
        'get',
        `${ref.kind}${ref.apiVersion.includes('/') ? `.${ref.apiVersion.split('/')[0]}` : ''}`,
        ref.name,
        '--ignore-not-found',
        ...(ref.namespace ? ['-n', ref.namespace] : []),
      ]
      expect(kubectl(args)).toBe('')
    }

    expect(record()).toBeUndefined()
    expect(kubectlJson(['get', 'pods', '-n', 'kube-system', '-l', 'k8s-app=kube-dns']).items).toEqual([])
    expect((await mk8s(['disable', 'dns'])).stdout).toContain('Addon core/dns is already disabled')
    expect((await mk8s(['status', '--addon', 'core/dns'])).stdout).toBe('disabled\n')
  })
})

describe('discovery', () => {
  it('reads every group of the real API server with two aggregated requests', async () => {
    const client = await HttpKubeClient.connect({kubeconfig})
    client.prefetchDiscovery()
    const kinds = [
      ['v1', 'ConfigMap'],
      ['v1', 'Namespace'],
      ['apps/v1', 'Deployment'],
      ['rbac.authorization.k8s.io/v1', 'ClusterRole'],
      ['coordination.k8s.io/v1', 'Lease'],
    ] as const
    const scoped = await Promise.all(kinds.map(([apiVersion, kind]) => client.isNamespaced(apiVersion, kind)))
    client.close()
    expect(scoped).toEqual([true, false, true, false, true])
    expect(client.requestCounts.GET).toBe(2)
  })
})
