import {join} from 'node:path'
import {describe, expect, it} from 'vitest'

import {AddonCatalog} from '../../src/addons/catalog.js'
import {RepoService} from '../../src/services/repos.js'
import {clusterStatus} from '../../src/services/status.js'
import {formatPretty, formatShort} from '../../src/output/status-format.js'
import {recordObject} from '../../src/records/applyset.js'
import {FakeKubeClient} from '../helpers/fake-kube.js'
import {gitRepo, tempDir, microk8sHookRepo, writeTree} from '../helpers/repos.js'

const hookRepo = (addons: string) => ({
  'addons.yaml': `microk8s-addons:\n  description: "hooks"\n  addons:\n${addons}`,
})

describe('AddonCatalog', () => {
  it('filters by confinement as MicroK8s get_available_addons does', async () => {
    const home = tempDir('mk8s-home-')
    const files: Record<string, string> = hookRepo(
      '    - {name: dns, description: d, version: "1", check_status: pod/coredns, supported_architectures: [amd64]}\n' +
        '    - {name: rbac, description: r, version: "1", check_status: x, supported_architectures: [amd64], confinement: strict}\n',
    )
    for (const name of ['dns', 'rbac'])
      for (const hook of ['enable', 'disable']) files[`addons/${name}/${hook}`] = '#!/bin/sh\n'
    await new RepoService({env: {...process.env, MK8S_HOME: home}}).add({name: 'up', source: gitRepo(files)})
    const names = async (confinement: 'classic' | 'strict') =>
      (await AddonCatalog.load({arch: 'amd64', confinement, env: {MK8S_HOME: home}}))
        .available()
        .filter((e) => e.repository === 'up')
        .map((e) => e.name)
    expect(await names('strict')).toEqual(['dns', 'rbac'])
    expect(await names('classic')).toEqual(['dns'])
  })

  it('filters by architecture and sorts by repository and name', async () => {
    const home = tempDir('mk8s-home-')
    const {dir, names} = microk8sHookRepo('core-addons.yaml')
    await new RepoService({env: {...process.env, MK8S_HOME: home}}).add({name: 'up', source: dir})
    const catalog = await AddonCatalog.load({arch: 's390x', env: {MK8S_HOME: home}})
    const listed = catalog
      .available()
      .filter((e) => e.repository === 'up')
      .map((e) => e.name)
    expect(listed).toEqual([...names.s390x].sort())
    expect(listed.length).toBeLessThan(names.amd64.length)
  })

  it('warns about a repository that cannot be loaded and keeps the others', async () => {
    const home = tempDir('mk8s-home-')
    writeTree(join(home, 'repositories', 'broken'), {'addons.yaml': 'nope: 1\n'})
    const catalog = await AddonCatalog.load({env: {MK8S_HOME: home}})
    expect(catalog.warnings[0]).toMatch(/^could not load addons from .*broken: Invalid addons.yaml file/)
    expect(catalog.repository('core')).toBeDefined()
  })
})

describe('clusterStatus', () => {
  it('uses check_status for hook addons: a whole kind/name (a pod by its workload), or a file that exists', async () => {
    const home = tempDir('mk8s-home-')
    const marker = join(tempDir(), 'ha-cluster')
    writeTree(marker.replace(/ha-cluster$/, ''), {'ha-cluster': ''})
    const addon = (name: string, check: string) =>
      `    - {name: ${name}, description: ${name[0]}, version: "1", check_status: "${check}", supported_architectures: [amd64]}\n`
    const files: Record<string, string> = hookRepo(
      addon('storage', 'deployment.apps/hostpath-provisioner') +
        addon('portainer', 'deployment.apps/portainer ') +
        addon('ha', '${SNAP_DATA}/ha-cluster') +
        addon('dns', 'pod/coredns') +
        addon('openfaas', 'pod/gateway'),
    )
    for (const name of ['storage', 'portainer', 'ha', 'dns', 'openfaas'])
      for (const hook of ['enable', 'disable']) files[`addons/${name}/${hook}`] = '#!/bin/sh\n'
    await new RepoService({env: {...process.env, MK8S_HOME: home}}).add({name: 'hooks', source: gitRepo(files)})
    const client = new FakeKubeClient()
    const objects = [
      {apiVersion: 'apps/v1', kind: 'Deployment', metadata: {name: 'hostpath-provisioner', namespace: 'x'}},
      {apiVersion: 'apps/v1', kind: 'Deployment', metadata: {name: 'portainer-agent', namespace: 'x'}},
      // coredns's pod through its ReplicaSet; gopaddle's gateway-proxy pods are not openfaas's gateway.
      {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: {
          name: 'coredns-5d78c9869d',
          namespace: 'x',
          ownerReferences: [{controller: true, kind: 'Deployment', name: 'coredns'}],
        },
      },
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name: 'coredns-5d78c9869d-2xk9p',
          namespace: 'x',
          ownerReferences: [{controller: true, kind: 'ReplicaSet', name: 'coredns-5d78c9869d'}],
        },
      },
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name: 'gateway-proxy-x7k2p',
          namespace: 'x',
          ownerReferences: [{controller: true, kind: 'DaemonSet', name: 'gateway-proxy'}],
        },
      },
    ]
    for (const object of objects) await client.apply(object, {fieldManager: 't'})

    const catalog = await AddonCatalog.load({arch: 'amd64', env: {MK8S_HOME: home}})
    const status = await clusterStatus({catalog, client, env: {SNAP_DATA: marker.replace(/\/ha-cluster$/, '')}})
    const hooks = status.addons.filter((a) => a.repository === 'hooks').map((a) => `${a.name}: ${a.status}`)
    // portainer's trailing space keeps portainer-agent from matching, as upstream intends; whole names do the rest.
    expect(hooks).toEqual([
      'dns: enabled',
      'ha: enabled',
      'openfaas: disabled',
      'portainer: disabled',
      'storage: enabled',
    ])
    expect(formatShort(status)).toContain('hooks/storage: enabled\n')
    expect(formatPretty(status)).toMatch(/ {2}enabled:\n {4}dns {18}# \(hooks\) d\n {4}ha {19}# \(hooks\) h\n/)

    // A record is honoured: a failed hook is enabled and degraded, an enabled one whose check_status is gone degraded.
    const record = (name: string, state: 'enabled' | 'failed') =>
      recordObject({
        addon: name,
        hook: {
          args: [],
          ...(state === 'failed'
            ? {
                failed: {
                  action: 'enable',
                  exitCode: 3,
                  message: `The enable hook of hooks/${name} failed with exit code 3`,
                },
              }
            : {}),
        },
        images: {},
        objects: [],
        options: {},
        repository: 'hooks',
        state,
        updatedAt: '2026-01-01T00:00:00Z',
        version: '1',
      })
    await client.apply(record('openfaas', 'failed'), {fieldManager: 't'})
    await client.apply(record('portainer', 'enabled'), {fieldManager: 't'})
    const recorded = await clusterStatus({catalog, client, env: {}})
    const states = Object.fromEntries(recorded.addons.filter((a) => a.repository === 'hooks').map((a) => [a.name, a]))
    expect(states.openfaas).toMatchObject({
      health: 'degraded',
      issues: ['The enable hook of hooks/openfaas failed with exit code 3: enable it again, or disable it'],
      status: 'enabled',
    })
    expect(states.portainer).toMatchObject({
      health: 'degraded',
      issues: ['deployment.apps/portainer (its check_status) is missing'],
      status: 'enabled',
    })
  })
})
