import {describe, expect, it} from 'vitest'

import {quietReporter} from '../../src/services/progress.js'
import {AddonService, describeResult} from '../../src/services/addon-service.js'
import {parseRecord} from '../../src/records/applyset.js'
import {FakeAgents} from '../helpers/fake-agents.js'
import {AddonCatalog} from '../../src/addons/catalog.js'
import {RepoService} from '../../src/services/repos.js'
import {commitAll, declarativeRepoFiles, gitRepo, tempDir, writeTree} from '../helpers/repos.js'
import {FakeKubeClient, deploymentsBecomeAvailable} from '../helpers/fake-kube.js'

const cluster = {arch: 'amd64', version: '1.34.0'}

async function setup(overrides: string | Record<string, string> = {}) {
  const home = tempDir('mk8s-home-')
  const env = {...process.env, MK8S_HOME: home}
  const files = declarativeRepoFiles(typeof overrides === 'string' ? {'extra.yaml.hbs': overrides} : overrides)
  const source = gitRepo(files)
  const repos = new RepoService({env})
  await repos.add({name: 't', source: source})
  const client = new FakeKubeClient()
  client.onWrite = deploymentsBecomeAvailable
  const notices: string[] = []
  const service = async () =>
    new AddonService({
      catalog: await AddonCatalog.load({env}),
      client,
      cluster,
      reporter: quietReporter(
        (line) => notices.push(line),
        (line) => notices.push(line),
      ),
    })
  return {client, env, notices, repos, service, source}
}

const kinds = (client: FakeKubeClient) => [...client.objects.values()].map((o) => `${o.kind}/${o.metadata.name}`).sort()

describe('AddonService with a fake API server', () => {
  it('enables, then enabling again makes no write, then disable removes exactly what it applied', async () => {
    const {client, notices, service} = await setup()
    const first = await (await service()).enable({timeoutMs: 1000, tokens: ['t/demo']})
    expect(first.addons.map((a) => a.status)).toEqual(['enabled'])
    expect(kinds(client)).toEqual(['ConfigMap/mk8s.t.demo', 'Deployment/demo'])

    const writesBefore = client.writes()
    const again = await (await service()).enable({timeoutMs: 1000, tokens: ['t/demo']})
    expect(again.addons.map((a) => a.status)).toEqual(['already-enabled'])
    expect(client.writes()).toBe(writesBefore)
    expect(notices).toContain('Addon t/demo is already enabled')

    const disabled = await (await service()).disable({timeoutMs: 1000, tokens: ['t/demo']})
    expect(disabled.addons.map((a) => a.status)).toEqual(['disabled'])
    expect(kinds(client)).toEqual([])
  })

  it('re-applies when options change, and prunes what a new version drops', async () => {
    const extra = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra, namespace: default}\ndata: {a: b}\n'
    const {client, repos, service, source} = await setup(extra)
    await (await service()).enable({timeoutMs: 1000, tokens: ['t/demo']})
    expect(kinds(client)).toContain('ConfigMap/extra')
    const changed = await (await service()).enable({timeoutMs: 1000, tokens: ['t/demo:3']})
    expect(changed.addons[0].status).toBe('enabled')
    expect((client.objects.get('apps/v1|Deployment|default|demo')!.spec as {replicas: number}).replicas).toBe(3)

    writeTree(source, {
      'addons/demo/addon.yaml': declarativeRepoFiles()['addons/demo/addon.yaml'].replace(
        'version: 1.0.0',
        'version: 2.0.0',
      ),
    })
    const git = await import('node:child_process')
    git.execFileSync('git', ['rm', '-q', 'addons/demo/extra.yaml.hbs'], {cwd: source})
    commitAll(source, 'v2 drops extra')
    await repos.update({name: 't'})
    const upgraded = await (await service()).enable({timeoutMs: 1000, tokens: ['t/demo']})
    expect(upgraded.addons[0].pruned.map((r) => r.name)).toEqual(['extra'])
    expect(kinds(client)).toEqual(['ConfigMap/mk8s.t.demo', 'Deployment/demo'])
    // The options it was enabled with are kept across the upgrade.
    expect((client.objects.get('apps/v1|Deployment|default|demo')!.spec as {replicas: number}).replicas).toBe(3)
  })

  it('reports a timeout as a failed addon and leaves the record applying', async () => {
    const {client, service} = await setup()
    client.onWrite = () => {}
    const result = await (await service()).enable({timeoutMs: 50, tokens: ['t/demo']})
    expect(result.ok).toBe(false)
    expect(result.addons[0]).toMatchObject({status: 'failed'})
    expect(result.addons[0].message).toContain('Deployment default/demo')
    expect((client.objects.get('v1|ConfigMap|kube-system|mk8s.t.demo')!.data as {state: string}).state).toBe('applying')
  })

  it('waits only for the ready targets addon.yaml names', async () => {
    const other =
      'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: other, namespace: default}\nspec:\n  selector: {matchLabels: {a: b}}\n  template:\n    metadata: {labels: {a: b}}\n    spec: {containers: [{name: c, image: "{{images.main}}"}]}\n'
    const addonYaml = `${declarativeRepoFiles()['addons/demo/addon.yaml']}ready:\n  - {kind: Deployment, name: demo}\n`
    for (const [files, expected] of [
      [{'extra.yaml.hbs': other}, 'failed'],
      [{'addon.yaml': addonYaml, 'extra.yaml.hbs': other}, 'enabled'],
    ] as const) {
      const {client, service} = await setup(files)
      // Only demo ever becomes available; other stays unready.
      client.onWrite = (object) => {
        if (object.metadata.name === 'demo') deploymentsBecomeAvailable(object)
      }

      const result = await (await service()).enable({timeoutMs: 50, tokens: ['t/demo']})
      expect(result.addons[0].status).toBe(expected)
    }
  })

  it('plans without a cluster write on --dry-run', async () => {
    const {client, service} = await setup()
    const client_ = await (await service()).enable({dryRun: 'client', timeoutMs: 1000, tokens: ['t/demo']})
    expect(client_.addons[0].status).toBe('planned')
    expect(client_.addons[0].rendered?.map((o) => o.kind)).toEqual(['Deployment'])
    const server = await (await service()).enable({dryRun: 'server', timeoutMs: 1000, tokens: ['t/demo']})
    expect(server.addons[0].status).toBe('planned')
    expect(client.writes()).toBe(client.requestCounts.PATCH)
    expect(client.objects.size).toBe(0)
  })

  it('disables an addon whose repository was removed since, from its record', async () => {
    const {client, repos, service} = await setup()
    await (await service()).enable({timeoutMs: 1000, tokens: ['t/demo']})
    await repos.remove({name: 't'})
    const result = await (await service()).disable({timeoutMs: 1000, tokens: ['demo']})
    expect(result.addons.map((a) => [a.addon, a.status])).toEqual([['t/demo', 'disabled']])
    expect(kinds(client)).toEqual([])
  })

  it('enables requirements first, each once, and leaves enabled ones alone', async () => {
    const files = {
      ...declarativeRepoFiles(),
      ...Object.fromEntries(
        Object.entries(
          declarativeRepoFiles(
            {
              'addon.yaml': `${declarativeRepoFiles()['addons/demo/addon.yaml'].replace('name: demo', 'name: app')}requires: [demo]\n`,
            },
            'app',
          ),
        ).filter(([path]) => path.startsWith('addons/app/')),
      ),
    }
    files['addons.yaml'] +=
      '    - {name: app, description: App, version: "1.0.0", check_status: deployment.apps/demo, supported_architectures: [amd64]}\n'
    files['addons/app/deploy.yaml.hbs'] = files['addons/app/deploy.yaml.hbs'].replaceAll('demo', 'app')
    const home = tempDir('mk8s-home-')
    const env = {...process.env, MK8S_HOME: home}
    await new RepoService({env}).add({name: 't', source: gitRepo(files)})
    const client = new FakeKubeClient()
    client.onWrite = deploymentsBecomeAvailable
    const notices: string[] = []
    const service = async () =>
      new AddonService({
        catalog: await AddonCatalog.load({env}),
        client,
        cluster,
        reporter: quietReporter(
          (line) => notices.push(line),
          (line) => notices.push(line),
        ),
      })
    const first = await (await service()).enable({timeoutMs: 1000, tokens: ['t/app']})
    expect(first.addons.map((a) => [a.addon, a.status])).toEqual([
      ['t/demo', 'enabled'],
      ['t/app', 'enabled'],
    ])
    const again = await (await service()).enable({timeoutMs: 1000, tokens: ['t/app:2']})
    expect(again.addons.map((a) => [a.addon, a.status])).toEqual([
      ['t/demo', 'already-enabled'],
      ['t/app', 'enabled'],
    ])
    expect(notices).toContain('Addon t/demo is already enabled')
  })

  it('says not found for an unknown repo/name and continues, as MicroK8s does', async () => {
    const {notices, service} = await setup()
    const result = await (await service()).enable({timeoutMs: 1000, tokens: ['t/nope']})
    expect(result.addons.map((a) => a.status)).toEqual(['not-found'])
    expect(result.ok).toBe(true)
    expect(notices).toContain('Addon t/nope not found')
  })
})

describe('AddonService safety rules', () => {
  it('reads the record again once the lock is held: an enable another mk8s finished meanwhile is not redone', async () => {
    const {client, service} = await setup()
    const other = await service()
    // Given a lock that, while this mk8s waits for it, lets another mk8s enable the same addon
    let writesOnceHeld = 0
    const lock = {
      async hold() {
        await other.enable({timeoutMs: 1000, tokens: ['t/demo']})
        writesOnceHeld = client.writes()
      },
    }
    // When this mk8s enables it with the same options
    const result = await (await service()).enable({lock, timeoutMs: 1000, tokens: ['t/demo']})
    // Then it finds the addon enabled and writes nothing more
    expect(writesOnceHeld).toBeGreaterThan(0)
    expect(result.addons.map((a) => a.status)).toEqual(['already-enabled'])
    expect(client.writes()).toBe(writesOnceHeld)
  })

  it('applies again when a recorded object was deleted behind its back', async () => {
    const {client, service} = await setup()
    await (await service()).enable({timeoutMs: 1000, tokens: ['t/demo']})
    client.objects.delete('apps/v1|Deployment|default|demo')
    const again = await (await service()).enable({timeoutMs: 1000, tokens: ['t/demo']})
    expect(again.addons.map((a) => a.status)).toEqual(['enabled'])
    expect(client.objects.has('apps/v1|Deployment|default|demo')).toBe(true)
  })

  it('holds the lock only when it writes: enabling an unchanged addon takes no lock', async () => {
    const {service} = await setup()
    await (await service()).enable({timeoutMs: 1000, tokens: ['t/demo']})
    let held = 0
    const result = await (
      await service()
    ).enable({lock: {hold: async () => void held++}, timeoutMs: 1000, tokens: ['t/demo']})
    expect(result.addons[0].status).toBe('already-enabled')
    expect(held).toBe(0)
  })
})

describe('AddonService node arguments', () => {
  const withNodeArgs = `${declarativeRepoFiles()['addons/demo/addon.yaml']}nodeArgs:
  kubelet:
    set:
      --cluster-dns: "10.0.0.{{options.replicas}}"
      --cluster-domain: cluster.local
    restart: true
`

  async function nodeSetup() {
    const {client, env, notices} = await setup({'addon.yaml': withNodeArgs})
    const agents = new FakeAgents(['node-1', 'node-2', 'node-3'], {kubelet: '# kubelet\n--cluster-domain=old.local\n'})
    const service = async () =>
      new AddonService({
        catalog: await AddonCatalog.load({env}),
        client,
        cluster,
        fleet: async () => agents.fleet,
        reporter: quietReporter((line) => notices.push(line)),
      })
    return {agents, client, notices, service}
  }

  const record = (client: FakeKubeClient) => parseRecord(client.objects.get('v1|ConfigMap|kube-system|mk8s.t.demo')!)!

  it('sets them on every node, records what each had, and disable restores exactly that', async () => {
    const {agents, client, service} = await nodeSetup()
    const enabled = await (await service()).enable({timeoutMs: 1000, tokens: ['t/demo:2']})
    expect(enabled.addons[0].status).toBe('enabled')
    for (const node of ['node-1', 'node-2', 'node-3']) {
      expect(agents.args(node, 'kubelet')).toEqual(
        new Map([
          ['--cluster-domain', 'cluster.local'],
          ['--cluster-dns', '10.0.0.2'],
        ]),
      )
    }

    expect(agents.restarts.sort()).toEqual(['node-1/kubelet', 'node-2/kubelet', 'node-3/kubelet'])
    expect(record(client).nodeArgs?.map((e) => [e.node, e.previous])).toEqual(
      ['node-1', 'node-2', 'node-3'].map((node) => [node, {'--cluster-dns': null, '--cluster-domain': 'old.local'}]),
    )

    // Enabling with other options changes the value but keeps what was there before mk8s.
    await (await service()).enable({timeoutMs: 1000, tokens: ['t/demo:3']})
    expect(agents.args('node-1', 'kubelet').get('--cluster-dns')).toBe('10.0.0.3')
    expect(record(client).nodeArgs?.[0].previous).toEqual({'--cluster-dns': null, '--cluster-domain': 'old.local'})

    await (await service()).disable({timeoutMs: 1000, tokens: ['t/demo']})
    for (const node of ['node-1', 'node-2', 'node-3']) {
      expect(agents.files.get(agents.nodes.find((n) => n.name === node)!.address)!.get('kubelet')).toBe(
        '# kubelet\n--cluster-domain=old.local\n',
      )
    }
  })

  it('with one node down: fails naming it, records which nodes changed, and enable again converges', async () => {
    const {agents, client, service} = await nodeSetup()
    agents.down.add('node-3')
    const first = await (await service()).enable({timeoutMs: 1000, tokens: ['t/demo']})
    expect(first.ok).toBe(false)
    expect(first.addons[0].message).toContain('node-3 (127.0.0.4:25000) kubelet: connection refused')
    expect(record(client).state).toBe('applying')
    expect(record(client).nodeArgs?.map((e) => [e.node, e.applied])).toEqual([
      ['node-1', true],
      ['node-2', true],
      ['node-3', false],
    ])

    agents.down.delete('node-3')
    const again = await (await service()).enable({timeoutMs: 1000, tokens: ['t/demo']})
    expect(again.addons[0].status).toBe('enabled')
    expect(agents.args('node-3', 'kubelet').get('--cluster-dns')).toBe('10.0.0.1')
    // node-1's previous value is still the one from before mk8s, not the value the first enable set.
    expect(record(client).nodeArgs?.[0].previous['--cluster-dns']).toBeNull()
  })

  it('enable with a node down, then disable, leaves every node as it was', async () => {
    const {agents, service} = await nodeSetup()
    const before = [...agents.files.values()].map((files) => files.get('kubelet'))
    agents.down.add('node-2')
    await (await service()).enable({timeoutMs: 1000, tokens: ['t/demo']})
    const disabled = await (await service()).disable({timeoutMs: 1000, tokens: ['t/demo']})
    expect(disabled.addons[0].status).toBe('disabled')
    expect([...agents.files.values()].map((files) => files.get('kubelet'))).toEqual(before)
  })

  it('a disable that cannot reach a changed node keeps the record to finish later', async () => {
    const {agents, client, service} = await nodeSetup()
    await (await service()).enable({timeoutMs: 1000, tokens: ['t/demo']})
    agents.down.add('node-1')
    const failed = await (await service()).disable({timeoutMs: 1000, tokens: ['t/demo']})
    expect(failed.addons[0].status).toBe('failed')
    expect(record(client)).toMatchObject({objects: [], state: 'disabling'})
    expect(record(client).nodeArgs?.map((e) => e.node)).toEqual(['node-1'])
    agents.down.delete('node-1')
    expect((await (await service()).disable({timeoutMs: 1000, tokens: ['t/demo']})).addons[0].status).toBe('disabled')
    expect(agents.args('node-1', 'kubelet')).toEqual(new Map([['--cluster-domain', 'old.local']]))
  })

  it('keeps the recorded node arguments when an enable again fails before reaching the nodes', async () => {
    const {agents, client, service} = await nodeSetup()
    await (await service()).enable({timeoutMs: 1000, tokens: ['t/demo']})
    // The Deployment of the new options never becomes ready: the enable fails while waiting.
    client.onWrite = () => {}
    const failed = await (await service()).enable({timeoutMs: 50, tokens: ['t/demo:4']})
    expect(failed.addons[0].status).toBe('failed')
    expect(record(client).nodeArgs?.map((e) => e.node)).toEqual(['node-1', 'node-2', 'node-3'])
    await (await service()).disable({timeoutMs: 1000, tokens: ['t/demo']})
    expect(agents.args('node-1', 'kubelet')).toEqual(new Map([['--cluster-domain', 'old.local']]))
  })

  it('shows the node changes on --dry-run and changes nothing', async () => {
    const {agents, service} = await nodeSetup()
    const planned = await (await service()).enable({dryRun: 'client', timeoutMs: 1000, tokens: ['t/demo']})
    expect(describeResult(planned.addons[0])).toContain(
      'and set on every node: kubelet --cluster-dns=10.0.0.1 --cluster-domain=cluster.local',
    )
    expect(agents.restarts).toEqual([])
  })
})

describe('core/rbac', () => {
  it('sets kube-apiserver --authorization-mode=RBAC,Node on every node, and disable restores what each had', async () => {
    const client = new FakeKubeClient()
    const agents = new FakeAgents(['node-1', 'node-2'], {
      'kube-apiserver': '--authorization-mode=AlwaysAllow\n--secure-port=16443\n',
    })
    // One node was configured differently: disable must put back its own value, not a hard-coded AlwaysAllow.
    agents.files.get(agents.nodes[1].address)!.set('kube-apiserver', '--authorization-mode=Webhook\n')
    const service = async () =>
      new AddonService({
        catalog: await AddonCatalog.load({env: {...process.env, MK8S_HOME: tempDir('mk8s-home-')}}),
        client,
        cluster,
        fleet: async () => agents.fleet,
      })
    const enabled = await (await service()).enable({timeoutMs: 1000, tokens: ['rbac']})
    expect(enabled.addons.map((a) => [a.addon, a.status, a.objects.length])).toEqual([['core/rbac', 'enabled', 0]])
    expect(agents.args('node-1', 'kube-apiserver').get('--authorization-mode')).toBe('RBAC,Node')
    expect(agents.args('node-2', 'kube-apiserver').get('--authorization-mode')).toBe('RBAC,Node')
    expect(agents.restarts.sort()).toEqual(['node-1/kube-apiserver', 'node-2/kube-apiserver'])
    await (await service()).disable({timeoutMs: 1000, tokens: ['rbac']})
    expect(agents.files.get(agents.nodes[0].address)!.get('kube-apiserver')).toBe(
      '--authorization-mode=AlwaysAllow\n--secure-port=16443\n',
    )
    expect(agents.args('node-2', 'kube-apiserver').get('--authorization-mode')).toBe('Webhook')
  })
})
