import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'

import {AddonCatalog} from '../../src/addons/catalog.js'
import {loadDesiredState} from '../../src/apply/desired-state.js'
import {ValidationError} from '../../src/errors.js'
import type {KubeObject} from '../../src/kube/types.js'
import {ApplyService} from '../../src/services/apply.js'
import {quietReporter} from '../../src/services/progress.js'
import {RepoService} from '../../src/services/repos.js'
import {FakeAgents} from '../helpers/fake-agents.js'
import {FakeKubeClient, deploymentsBecomeAvailable} from '../helpers/fake-kube.js'
import {gitRepo, tempDir} from '../helpers/repos.js'

const cluster = {arch: 'amd64', version: '1.34.0'}

/** An addon whose Deployment is named after it; `requires` other addons of the repository. */
function addon(name: string, requires: string[] = []): Record<string, string> {
  return {
    [`addons/${name}/addon.yaml`]: `name: ${name}
description: ${name}
version: 1.0.0
${requires.length > 0 ? `requires: [${requires.join(', ')}]\n` : ''}options:
  replicas: {type: integer, default: 1, description: replicas}
images: {main: registry.k8s.io/pause:3.10}
`,
    [`addons/${name}/deploy.yaml.hbs`]: `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: default}
spec:
  replicas: {{options.replicas}}
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      containers: [{name: main, image: "{{images.main}}"}]
`,
  }
}

const names = ['back', 'front', 'stuck', 'after']
const index = `microk8s-addons:
  description: apply test
  addons:
${names.map((n) => `    - {name: ${n}, description: ${n}, version: 1.0.0, check_status: deployment.apps/${n}, supported_architectures: [amd64]}`).join('\n')}
`

async function setup() {
  const env = {...process.env, MK8S_HOME: tempDir('mk8s-apply-home-')}
  const source = gitRepo({
    'addons.yaml': index,
    ...addon('back'),
    ...addon('front', ['t/back']),
    ...addon('stuck'),
    ...addon('after', ['t/stuck']),
  })
  const client = new FakeKubeClient()
  // The Deployment `stuck` never becomes available, as a workload whose image cannot be pulled.
  client.onWrite = (object: KubeObject) => {
    if (object.metadata.name !== 'stuck') deploymentsBecomeAvailable(object)
  }

  const agents = new FakeAgents(['node-1', 'node-2', 'node-3'], {kubelet: '--max-pods=110\n--event-qps=5\n'})
  const configures: string[] = []
  const configure = agents.configure.bind(agents)
  agents.configure = async (node, body) => {
    configures.push(node.name)
    return configure(node, body)
  }

  const said: string[] = []
  const dir = tempDir('mk8s-apply-files-')
  const service = () =>
    new ApplyService({
      client,
      cluster,
      fleet: async () => agents.fleet,
      loadCatalog: () => AddonCatalog.load({env}),
      reporter: quietReporter(
        () => {},
        (line) => said.push(line),
      ),
      repos: new RepoService({env}),
    })
  const apply = async (text: string, options: {dryRun?: boolean; prune?: boolean; strict?: boolean} = {}) => {
    const file = join(dir, 'cluster.yaml')
    writeFileSync(file, text)
    return service().apply(await loadDesiredState([file]), {timeoutMs: 400, ...options})
  }

  const file = (addons: string, extra = '') =>
    `apiVersion: mk8s.io/v1\nkind: ClusterAddons\nrepositories: [{name: t, source: ${source}}]\naddons:\n${addons}${extra}`
  return {agents, apply, client, configures, file, said}
}

const summary = (result: {steps: {action: string; status: string; target: string}[]}) =>
  result.steps.map((s) => `${s.action} ${s.target} ${s.status}`)
const replicas = (client: FakeKubeClient, name: string) =>
  (client.objects.get(`apps/v1|Deployment|default|${name}`)?.spec as {replicas: number} | undefined)?.replicas

describe('ApplyService with a fake API server and fake agents', () => {
  it('enables requirements first with their own options; a second run makes no write and no agent change', async () => {
    const {agents, apply, client, configures, file} = await setup()
    const text = file(
      '  - name: t/front\n  - name: t/back\n    options: {replicas: 2}\n',
      'nodeArgs:\n  kubelet: {--max-pods: 150, --event-qps: null}\n',
    )
    const first = await apply(text)
    expect(summary(first)).toEqual([
      'add-repository t done',
      'enable t/back done',
      'enable t/front done',
      'set-node-args kubelet on node-1 done',
      'set-node-args kubelet on node-2 done',
      'set-node-args kubelet on node-3 done',
    ])
    expect(first.ok).toBe(true)
    // Enabled once, with the file's options: not with its defaults as front's requirement first.
    expect(replicas(client, 'back')).toBe(2)
    // Three writes an addon (record applying, Deployment, record enabled): back was applied once.
    expect(client.requestCounts.PATCH).toBe(2 * 3)
    for (const node of ['node-1', 'node-2', 'node-3']) {
      expect(agents.args(node, 'kubelet').get('--max-pods')).toBe('150')
      expect(agents.args(node, 'kubelet').has('--event-qps')).toBe(false)
    }

    expect(agents.restarts).toEqual(['node-1/kubelet', 'node-2/kubelet', 'node-3/kubelet'])

    const [writes, calls] = [client.writes(), configures.length]
    const second = await apply(text)
    expect(second).toMatchObject({changed: false, ok: true, steps: []})
    expect(second.unchanged).toEqual(
      expect.arrayContaining(['repository t', 't/back', 't/front', 'kubelet on node-1', 'kubelet on node-3']),
    )
    expect(client.writes()).toBe(writes)
    expect(configures.length).toBe(calls)
  })

  it('re-applies only the addon whose options changed, and plans it first on a dry run', async () => {
    const {apply, client, file} = await setup()
    await apply(file('  - name: t/back\n  - name: t/front\n'))
    const changed = file('  - name: t/back\n    options: {replicas: 3}\n  - name: t/front\n')
    const writes = client.writes()
    const dry = await apply(changed, {dryRun: true})
    expect(summary(dry)).toEqual(['reapply t/back planned'])
    expect(dry.steps[0].details).toEqual(['option replicas: 1 → 3'])
    expect(client.writes()).toBe(writes)
    expect(summary(await apply(changed))).toEqual(['reapply t/back done'])
    expect(replicas(client, 'back')).toBe(3)
    // Listed without options again: back to the default, as the file says.
    expect(summary(await apply(file('  - name: t/back\n  - name: t/front\n')))).toEqual(['reapply t/back done'])
    expect(replicas(client, 'back')).toBe(1)
  })

  it('reports a failed addon, skips what requires it, and applies the rest', async () => {
    const {apply, client, file} = await setup()
    const result = await apply(file('  - name: t/after\n  - name: t/stuck\n  - name: t/back\n'))
    expect(summary(result)).toEqual([
      'add-repository t done',
      'enable t/stuck failed',
      'enable t/after skipped',
      'enable t/back done',
    ])
    expect(result.ok).toBe(false)
    expect(result.steps[1].message).toMatch(/Deployment default\/stuck/)
    expect(result.steps[2].message).toBe('not applied: a requirement failed')
    expect(replicas(client, 'back')).toBe(1)
    expect(client.objects.has('apps/v1|Deployment|default|after')).toBe(false)
  })

  it('reports a node that cannot be reached and sets the others', async () => {
    const {agents, apply, file} = await setup()
    agents.down.add('node-2')
    const result = await apply(file('  - name: t/back\n', 'nodeArgs:\n  kubelet: {--max-pods: 150}\n'))
    const nodes = result.steps.filter((s) => s.action === 'set-node-args')
    expect(nodes.map((s) => `${s.target} ${s.status}`)).toEqual([
      'kubelet on node-1 done',
      'kubelet on node-2 failed',
      'kubelet on node-3 done',
    ])
    expect(nodes[1].details.at(-1)).toMatch(/current values not readable: connection refused/)
    expect(nodes[1].message).toMatch(/connection refused/)
    expect(result.ok).toBe(false)
    agents.down.clear()
    const again = await apply(file('  - name: t/back\n', 'nodeArgs:\n  kubelet: {--max-pods: 150}\n'))
    expect(summary(again)).toEqual(['set-node-args kubelet on node-2 done'])
  })

  it('prunes with --prune only: dependents before their requirements, requirements of listed addons kept', async () => {
    const {apply, client, file} = await setup()
    await apply(file('  - name: t/front\n  - name: t/stuck\n'), {})
    client.onWrite = deploymentsBecomeAvailable
    await apply(file('  - name: t/front\n  - name: t/after\n'))
    expect(summary(await apply(file('  - name: t/front\n')))).toEqual([])
    const pruned = await apply(file('  - name: t/front\n'), {prune: true})
    expect(summary(pruned)).toEqual(['disable t/after done', 'disable t/stuck done'])
    expect(client.objects.has('apps/v1|Deployment|default|back')).toBe(true)
    expect(summary(await apply(file('  []\n'), {prune: true}))).toEqual(['disable t/front done', 'disable t/back done'])
  })

  it('with --strict refuses local-only launch-configuration fields before any request', async () => {
    const {apply, client} = await setup()
    const error = await apply('version: 0.1.0\nextraSANs: [10.0.0.1]\naddons: [{name: t/back}]\n', {
      strict: true,
    }).catch((error: unknown) => error)
    expect(error).toBeInstanceOf(ValidationError)
    expect((error as ValidationError).problems).toEqual([expect.objectContaining({field: 'extraSANs'})])
    expect(client.writes() + (client.requestCounts.GET ?? 0)).toBe(0)
  })
})
