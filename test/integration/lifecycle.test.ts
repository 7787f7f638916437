import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {ClusterLock} from '../../src/records/lock.js'
import {HttpKubeClient} from '../../src/kube/http-client.js'
import {commitAll, gitRepo, labelGatedAddon, writeTree} from '../helpers/repos.js'
import {eventually, kubeconfig, kubectl, kubectlJson} from './cluster.js'
import {mk8s, startMk8s} from './cli.js'

const home = mkdtempSync(join(tmpdir(), 'mk8s-it-home-'))
const env = {MK8S_HOME: home, MK8S_LOCK_LEASE_SECONDS: '4'}

const index = `microk8s-addons:
  description: "integration test addons"
  addons:
    - {name: shop, description: "Shop", version: "1.0.0", check_status: "deployment.apps/shop", supported_architectures: [amd64, arm64]}
    - {name: slow, description: "Slow", version: "1.0.0", check_status: "deployment.apps/slow", supported_architectures: [amd64, arm64]}
`
const shop = (version: string, extra: string) => ({
  'addons/shop/addon.yaml': `name: shop\ndescription: Shop\nversion: ${version}\nimages: {app: registry.k8s.io/pause:3.10}\n`,
  'addons/shop/shop.yaml.hbs': `apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: shop, namespace: shop}
spec:
  replicas: 2
  selector: {matchLabels: {app: shop}}
  template:
    metadata: {labels: {app: shop}}
    spec:
      containers: [{name: app, image: "{{images.app}}"}]
${extra}`,
})
const extras = `---
apiVersion: v1
kind: ConfigMap
metadata: {name: shop-extra, namespace: shop}
data: {a: b}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: shop-reader}
rules: [{apiGroups: [""], resources: [pods], verbs: [get]}]
`
// Its pods need a node labelled mk8s-test=ready: it waits until a test labels one.
const slow = labelGatedAddon('slow', {
  extra: `---
apiVersion: v1
kind: ConfigMap
metadata: {name: slow-settings, namespace: default}
data: {x: y}
`,
  label: 'mk8s-test',
})

let source: string

beforeAll(async () => {
  source = gitRepo({'addons.yaml': index, ...shop('1.0.0', extras), ...slow})
  const added = await mk8s(['addons', 'repo', 'add', 'it', source], env)
  expect(added.stderr).toBe('')
  expect(added.code).toBe(0)
})

afterAll(() => {
  kubectl(['label', 'node', 'node-1', 'mk8s-test-'])
})

describe('addon lifecycle', () => {
  it('prunes what a new addon version no longer renders', async () => {
    expect((await mk8s(['enable', 'it/shop'], env)).code).toBe(0)
    expect(kubectl(['get', 'configmap', 'shop-extra', '-n', 'shop', '-o', 'name']).trim()).toBe('configmap/shop-extra')
    expect(kubectl(['get', 'clusterrole', 'shop-reader', '-o', 'name']).trim()).toBe(
      'clusterrole.rbac.authorization.k8s.io/shop-reader',
    )

    writeTree(source, shop('2.0.0', ''))
    commitAll(source, 'shop 2.0.0 drops its ConfigMap and ClusterRole')
    expect((await mk8s(['addons', 'repo', 'update', 'it'], env)).code).toBe(0)
    const {code, stdout} = await mk8s(['enable', 'it/shop', '--json'], env)
    expect(code).toBe(0)
    const {result} = JSON.parse(stdout) as {
      result: {addons: {pruned: {kind: string; name: string}[]; status: string}[]}
    }
    expect(result.addons[0].status).toBe('enabled')
    expect(result.addons[0].pruned.map((r) => `${r.kind}/${r.name}`).sort()).toEqual([
      'ClusterRole/shop-reader',
      'ConfigMap/shop-extra',
    ])
    expect(kubectl(['get', 'configmap', 'shop-extra', '-n', 'shop', '--ignore-not-found'])).toBe('')
    expect(kubectl(['get', 'clusterrole', 'shop-reader', '--ignore-not-found'])).toBe('')
    const recorded = JSON.parse(
      kubectlJson<{data: {objects: string}}>(['get', 'configmap', 'mk8s.it.shop', '-n', 'kube-system']).data.objects,
    ) as {kind: string}[]
    expect(recorded.map((r) => r.kind)).toEqual(['Namespace', 'Deployment'])
  })

  it('on timeout names every pending object with its conditions and latest warning, and exits 1', async () => {
    const {code, stderr} = await mk8s(['enable', 'it/slow', '--timeout', '4s'], env)
    expect(code).toBe(1)
    expect(stderr).toContain(
      'Failed to enable it/slow:\nTimed out after 4s waiting for 1 object:\n  Deployment default/slow: 0 of 1 replicas available',
    )
    expect(stderr).toMatch(/conditions: Available=False/)
    expect(stderr).toMatch(/last warning: Pod slow-[a-z0-9-]+: FailedScheduling/)
    expect(stderr).not.toMatch(/\n\s+at /)
  })

  it('lets one enable run at a time: a second waits for the lease or fails with a lock message', async () => {
    const client = await HttpKubeClient.connect({kubeconfig})
    const lock = new ClusterLock(client)
    await lock.acquire(5000)
    try {
      const blocked = await mk8s(['disable', 'it/shop', '--timeout', '2s'], env)
      expect(blocked.code).toBe(1)
      expect(blocked.stderr).toMatch(
        /Another mk8s is enabling or disabling addons on this cluster \(lease kube-system\/mk8s-addons held by .*\)/,
      )
      expect(kubectl(['get', 'deployment', 'shop', '-n', 'shop', '-o', 'name']).trim()).toBe('deployment.apps/shop')

      const waiting = startMk8s(['disable', 'it/shop', '--timeout', '60s'], env)
      // A notice, not a result: it is on stderr.
      let output = ''
      waiting.child.stderr!.on('data', (chunk) => (output += chunk))
      // Release only once the second mk8s has seen the lease taken, however slowly it started.
      await eventually(() => {
        if (!output.includes('Waiting for another mk8s')) throw new Error('not waiting yet')
      }, 30_000)
      await lock.release()
      const done = await waiting.done
      expect(done.stderr).toMatch(/Waiting for another mk8s \(.*\) to finish changing addons/)
      expect(done.stdout).toContain('Disabled it/shop')
      expect(done.code).toBe(0)
    } finally {
      await lock.release()
      client.close()
    }
  })

  it('two enables started together both finish, one after the other', async () => {
    const first = startMk8s(['enable', 'it/shop', '--json'], env)
    const second = startMk8s(['enable', 'it/shop', '--json'], env)
    const results = await Promise.all([first.done, second.done])
    expect(results.map((r) => r.code)).toEqual([0, 0])
    // The lock test disabled shop: one enable applies it, the other waits for the lease and finds it enabled.
    const statuses = results
      .map((r) => (JSON.parse(r.stdout) as {result: {addons: {status: string}[]}}).result.addons[0].status)
      .sort()
    expect(statuses).toEqual(['already-enabled', 'enabled'])
  })

  it('finishes an enable that was killed half-way when it is run again', async () => {
    const killed = startMk8s(['enable', 'it/slow', '--timeout', '120s'], env)
    await eventually(() => {
      const state = kubectlJson<{data: {state: string}}>(['get', 'configmap', 'mk8s.it.slow', '-n', 'kube-system']).data
        .state
      if (state !== 'applying') throw new Error(state)
      kubectl(['get', 'deployment', 'slow', '-n', 'default'])
    }, 30_000)
    killed.child.kill('SIGKILL')
    await killed.done
    const status = JSON.parse((await mk8s(['status', '--format', 'json'], env)).stdout) as {
      addons: {health?: string; name: string; status: string}[]
    }
    expect(status.addons.find((a) => a.name === 'slow')).toMatchObject({health: 'progressing', status: 'enabled'})

    kubectl(['label', 'node', 'node-1', 'mk8s-test=ready', '--overwrite'])
    const rerun = await mk8s(['enable', 'it/slow', '--timeout', '60s'], env)
    expect(rerun.stderr).not.toContain('Failed')
    expect(rerun.code).toBe(0)
    expect(rerun.stdout).toContain('Enabled it/slow: 2 objects applied')
    expect(
      kubectlJson<{data: {state: string}}>(['get', 'configmap', 'mk8s.it.slow', '-n', 'kube-system']).data.state,
    ).toBe('enabled')
    expect((await mk8s(['disable', 'it/slow'], env)).code).toBe(0)
  })
})
