import {join} from 'node:path'
import {describe, expect, it} from 'vitest'

import {AddonCatalog} from '../../src/addons/catalog.js'
import {RepoService} from '../../src/services/repos.js'
import {clusterStatus} from '../../src/services/status.js'
import {formatPretty, formatShort} from '../../src/output/status-format.js'
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
  it('uses check_status for hook addons: a substring of kind/name lines, or a file that exists', async () => {
    const home = tempDir('mk8s-home-')
    const marker = join(tempDir(), 'ha-cluster')
    writeTree(marker.replace(/ha-cluster$/, ''), {'ha-cluster': ''})
    const files: Record<string, string> = hookRepo(
      '    - {name: storage, description: s, version: "1", check_status: "deployment.apps/hostpath-provisioner", supported_architectures: [amd64]}\n' +
        '    - {name: portainer, description: p, version: "1", check_status: "deployment.apps/portainer ", supported_architectures: [amd64]}\n' +
        '    - {name: ha, description: h, version: "1", check_status: "${SNAP_DATA}/ha-cluster", supported_architectures: [amd64]}\n',
    )
    for (const name of ['storage', 'portainer', 'ha'])
      for (const hook of ['enable', 'disable']) files[`addons/${name}/${hook}`] = '#!/bin/sh\n'
    await new RepoService({env: {...process.env, MK8S_HOME: home}}).add({name: 'hooks', source: gitRepo(files)})
    const client = new FakeKubeClient()
    for (const name of ['hostpath-provisioner', 'portainer-agent']) {
      await client.apply(
        {apiVersion: 'apps/v1', kind: 'Deployment', metadata: {name, namespace: 'x'}},
        {fieldManager: 't'},
      )
    }

    const catalog = await AddonCatalog.load({arch: 'amd64', env: {MK8S_HOME: home}})
    const status = await clusterStatus({catalog, client, env: {SNAP_DATA: marker.replace(/\/ha-cluster$/, '')}})
    const hooks = status.addons.filter((a) => a.repository === 'hooks').map((a) => `${a.name}: ${a.status}`)
    // portainer's trailing space keeps portainer-agent from matching, as upstream intends.
    expect(hooks).toEqual(['ha: enabled', 'portainer: disabled', 'storage: enabled'])
    expect(formatShort(status)).toContain('hooks/storage: enabled\n')
    expect(formatPretty(status)).toMatch(
      / {2}enabled:\n {4}ha {19}# \(hooks\) h\n {4}storage {14}# \(hooks\) s\n {2}disabled:\n {4}registry-ui {10}# \(community\) A web interface/,
    )
  })
})
