import {existsSync, readFileSync, readdirSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {gitRepo, labelGatedAddon, tempDir} from '../helpers/repos.js'
import {clusterDir, kubectl, kubectlJson} from './cluster.js'
import {mk8s} from './cli.js'

const home = tempDir('mk8s-it-apply-home-')
const env = {MK8S_HOME: home, MK8S_LOCK_LEASE_SECONDS: '4'}
const nodes = ['node-1', 'node-2', 'node-3']

const index = `microk8s-addons:
  description: "apply -f test addons"
  addons:
    - {name: web, description: "Web", version: "1.0.0", check_status: "configmap/web", supported_architectures: [amd64, arm64]}
    - {name: cache, description: "Cache", version: "1.0.0", check_status: "configmap/cache", supported_architectures: [amd64, arm64]}
    - {name: gate, description: "Gate", version: "1.0.0", check_status: "deployment.apps/gate", supported_architectures: [amd64, arm64]}
`
/** A ConfigMap whose data is the addon's option: what re-applying with another option changes. */
const configMapAddon = (name: string) => ({
  [`addons/${name}/addon.yaml`]: `name: ${name}
description: ${name}
version: 1.0.0
options:
  greeting: {type: string, default: hello, description: what the ConfigMap says}
`,
  [`addons/${name}/${name}.yaml.hbs`]: `apiVersion: v1
kind: ConfigMap
metadata: {name: apply-${name}, namespace: default}
data: {greeting: "{{options.greeting}}"}
`,
})
// Its pods need a node labelled mk8s-apply=ready: it cannot become ready until a test labels one.
const gate = labelGatedAddon('gate', {deployment: 'apply-gate', label: 'mk8s-apply'})

let source: string
let dir: string

/** Writes an apply file of the test and returns its path. */
function file(name: string, text: string): string {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

const auditLog = join(clusterDir, 'nodes', 'node-1', 'audit.log')

/** The API server's audit entries of mk8s's write requests made while `run` ran. */
async function mk8sWrites(run: () => Promise<unknown>): Promise<string[]> {
  const before = existsSync(auditLog) ? statSync(auditLog).size : 0
  await run()
  const text = readFileSync(auditLog, 'utf8').slice(before)
  return text
    .split('\n')
    .filter(Boolean)
    .map(
      (line) => JSON.parse(line) as {objectRef?: {name?: string; resource?: string}; userAgent?: string; verb: string},
    )
    .filter((entry) => entry.userAgent?.startsWith('mk8s'))
    .map((entry) => `${entry.verb} ${entry.objectRef?.resource}/${entry.objectRef?.name}`)
}

/** Every node's args files and restart log, with their modification times: what an agent call that changes a file changes. */
function nodeFiles(): Record<string, string> {
  const files: Record<string, string> = {}
  for (const node of nodes) {
    const base = join(clusterDir, 'nodes', node)
    for (const name of readdirSync(join(base, 'args'))) {
      const path = join(base, 'args', name)
      files[path] = `${statSync(path).mtimeMs} ${readFileSync(path, 'utf8')}`
    }

    const restarts = join(base, 'restarts.log')
    files[restarts] = existsSync(restarts) ? readFileSync(restarts, 'utf8') : ''
  }

  return files
}

const argsOf = (node: string, service: string) => readFileSync(join(clusterDir, 'nodes', node, 'args', service), 'utf8')

const greeting = (name: string) =>
  kubectlJson<{data: {greeting: string}}>(['get', 'configmap', `apply-${name}`, '-n', 'default']).data.greeting

interface ApplyJson {
  error?: {exitCode: number; message: string; problems: {file?: string; line?: number; message: string}[]}
  result: {
    changed: boolean
    ok: boolean
    steps: {action: string; status: string; target: string}[]
    unchanged: string[]
  }
  status: string
}

const run = async (args: string[]) => {
  const result = await mk8s(['apply', ...args, '--json'], env)
  return {...result, json: JSON.parse(result.stdout) as ApplyJson}
}

const mk8sFile = (addons: string, extra = '') => `apiVersion: mk8s.io/v1
kind: ClusterAddons
repositories:
  - name: ap
    source: ${source}
    reference: main
addons:
${addons}${extra}`

beforeAll(() => {
  source = gitRepo({'addons.yaml': index, ...configMapAddon('web'), ...configMapAddon('cache'), ...gate})
  dir = tempDir('mk8s-it-apply-')
})

afterAll(async () => {
  kubectl(['label', 'node', 'node-1', 'mk8s-apply-'])
  await mk8s(['disable', 'ap/web', 'ap/cache', 'ap/gate'], env)
  await mk8s(['nodes', 'args', 'remove', 'kubelet', '--no-restart', '--', '--max-pods', '--mk8s-apply-test'], env)
  await mk8s(['nodes', 'args', 'set', 'kube-apiserver', '--event-ttl=5m'], env)
})

describe('mk8s apply -f', () => {
  it('adds the repository, enables addons and sets node arguments; a second run writes nothing', async () => {
    const path = file(
      'cluster.yaml',
      mk8sFile(
        '  - name: ap/web\n    options: {greeting: hi}\n  - name: cache\n',
        'nodeArgs:\n  kubelet:\n    --mk8s-apply-test: "1.10"\n',
      ),
    )
    let first: Awaited<ReturnType<typeof run>> | undefined
    // The audit log does see mk8s's writes: the second run's empty list means something.
    const firstWrites = await mk8sWrites(async () => {
      first = await run(['-f', path])
    })
    expect(firstWrites).toEqual(expect.arrayContaining(['patch configmaps/apply-web', 'patch configmaps/mk8s.ap.web']))
    first = first!
    expect(first.code, first.stderr).toBe(0)
    expect(first.json.result.steps.map((s) => `${s.action} ${s.target} ${s.status}`)).toEqual([
      'add-repository ap done',
      'enable ap/web done',
      'enable ap/cache done',
      'set-node-args kubelet on node-1 done',
      'set-node-args kubelet on node-2 done',
      'set-node-args kubelet on node-3 done',
    ])
    expect(greeting('web')).toBe('hi')
    expect(greeting('cache')).toBe('hello')
    // The value as written, not the number YAML reads (1.1).
    for (const node of nodes) expect(argsOf(node, 'kubelet')).toContain('--mk8s-apply-test=1.10')

    const before = nodeFiles()
    let second: Awaited<ReturnType<typeof run>> | undefined
    const writes = await mk8sWrites(async () => {
      second = await run(['-f', path])
    })
    expect(second!.code, second!.stderr).toBe(0)
    expect(second!.json.result).toMatchObject({changed: false, ok: true, steps: []})
    expect(second!.json.result.unchanged).toEqual(
      expect.arrayContaining(['repository ap', 'ap/web', 'ap/cache', 'kubelet on node-2']),
    )
    expect(writes).toEqual([])
    expect(nodeFiles()).toEqual(before)
    const text = await mk8s(['apply', '-f', path], env)
    expect(text.stdout).toContain(`Nothing to change: the cluster matches ${path}`)
  })

  it('re-applies only the addon whose option changed', async () => {
    const path = file('changed.yaml', mk8sFile('  - name: ap/web\n    options: {greeting: bonjour}\n  - name: cache\n'))
    const same = await mk8s(['diff', '-f', join(dir, 'cluster.yaml')], env)
    expect(same.code, same.stderr).toBe(0)
    expect(same.stdout).toContain('No changes')
    const diff = await mk8s(['diff', '-f', path], env)
    expect(diff.code, diff.stderr).toBe(1)
    expect(diff.stdout).toContain('# ~ re-apply ap/web')
    expect(diff.stdout).toMatch(/^-\s+greeting: hi$/m)
    expect(diff.stdout).toMatch(/^\+\s+greeting: bonjour$/m)
    // cluster.yaml set --mk8s-apply-test; changed.yaml does not name it, so it is left as it is.
    expect(diff.stdout).not.toContain('mk8s-apply-test')
    const dry = await run(['-f', path, '--dry-run'])
    expect(dry.json.result.steps.map((s) => `${s.action} ${s.target} ${s.status}`)).toEqual(['reapply ap/web planned'])
    expect(greeting('web')).toBe('hi')
    const {code, json} = await run(['-f', path])
    expect(code).toBe(0)
    expect(json.result.steps.map((s) => `${s.action} ${s.target} ${s.status}`)).toEqual(['reapply ap/web done'])
    expect(greeting('web')).toBe('bonjour')
  })

  it('disables an addon the file no longer lists only with --prune', async () => {
    const path = file('pruned.yaml', mk8sFile('  - name: ap/web\n    options: {greeting: bonjour}\n'))
    const kept = await run(['-f', path])
    expect(kept.json.result.steps).toEqual([])
    expect(greeting('cache')).toBe('hello')
    const {code, json} = await run(['-f', path, '--prune'])
    expect(code).toBe(0)
    expect(json.result.steps.map((s) => `${s.action} ${s.target} ${s.status}`)).toEqual(
      expect.arrayContaining(['disable ap/cache done']),
    )
    expect(json.result.steps.some((s) => s.target === 'ap/web')).toBe(false)
    expect(kubectl(['get', 'configmap', 'apply-cache', '-n', 'default', '--ignore-not-found'])).toBe('')
  })

  it('applies a multi-document launch configuration part by part: flags on every node, null removes, addons enabled', async () => {
    expect((await mk8s(['nodes', 'args', 'set', 'kubelet', '--no-restart', '--', '--max-pods=110'], env)).code).toBe(0)
    const path = file(
      'launch.yaml',
      `# a launch configuration as MicroK8s reads it
---
version: 0.1.0
extraSANs: [10.10.10.10]
extraKubeletArgs:
  --max-pods: null
  --mk8s-apply-test: one
extraKubeAPIServerArgs:
  --event-ttl: 90m
addons:
  - name: ap/cache
    args: []
---
version: 0.2.0
extraKubeletArgs:
  --mk8s-apply-test: two
addons:
  - name: ap/web
    disable: true
`,
    )
    const {code, json, stdout} = await run(['-f', path])
    expect(code, stdout).toBe(0)
    const steps = json.result.steps.map((s) => `${s.action} ${s.target} ${s.status}`)
    expect(steps).toEqual(
      expect.arrayContaining([
        'enable ap/cache done',
        'set-node-args kube-apiserver on node-3 done',
        'set-node-args kubelet on node-2 done',
        'disable ap/web done',
      ]),
    )
    for (const node of nodes) {
      expect(argsOf(node, 'kubelet')).not.toMatch(/--max-pods/)
      expect(argsOf(node, 'kubelet')).toContain('--mk8s-apply-test=two')
      expect(argsOf(node, 'kube-apiserver')).toContain('--event-ttl=90m')
    }

    expect(greeting('cache')).toBe('hello')
    expect(kubectl(['get', 'configmap', 'apply-web', '-n', 'default', '--ignore-not-found'])).toBe('')
    const strict = await run(['-f', path, '--strict'])
    expect(strict.code).toBe(2)
    expect(strict.json.error!.problems).toEqual([expect.objectContaining({field: 'extraSANs', file: path, line: 4})])
  })

  it('refuses a file with errors: every error with its line, exit 2, nothing written', async () => {
    const path = file(
      'broken.yaml',
      mk8sFile(
        '  - name: ap/web\n    options: {greeting: [1, 2]}\n  - name: nosuch\n  - name: cache\n    colour: blue\n',
        'nodeArgs:\n  kubelet:\n    max-pods: 3\n',
      ),
    )
    const before = nodeFiles()
    let result: Awaited<ReturnType<typeof run>> | undefined
    const writes = await mk8sWrites(async () => {
      result = await run(['-f', path])
    })
    expect(result!.code).toBe(2)
    const problems = result!.json.error!.problems.map((p) => `${p.line}: ${p.message}`)
    // The schema's errors come first; the addons are checked once the file's shape is right.
    expect(problems).toEqual([
      '12: is not a known field',
      expect.stringMatching(/^15: is not a valid name \(must match/),
    ])
    expect(result!.json.error!.problems.map((p) => p.file)).toEqual([path, path])
    expect(writes).toEqual([])
    expect(nodeFiles()).toEqual(before)

    const semantic = file(
      'semantic.yaml',
      mk8sFile('  - name: ap/web\n    options: {greeting: [1, 2]}\n  - name: nosuch\n'),
    )
    const second = await run(['-f', semantic])
    expect(second.code).toBe(2)
    expect(second.json.error!.problems.map((p) => `${p.file}:${p.line}`)).toEqual([`${semantic}:8`, `${semantic}:10`])
    expect(second.json.error!.message).toContain('nothing was applied')
  })

  it('reports a step that fails with the others applied, and the next run completes it', async () => {
    const path = file(
      'failing.yaml',
      mk8sFile('  - name: ap/gate\n  - name: ap/web\n    options: {greeting: salut}\n  - name: ap/cache\n'),
    )
    const failed = await run(['-f', path, '--timeout', '4s'])
    expect(failed.code).toBe(1)
    expect(failed.json.status).toBe('failed')
    const steps = failed.json.result.steps.map((s) => `${s.action} ${s.target} ${s.status}`)
    expect(steps).toEqual(['enable ap/gate failed', 'enable ap/web done'])
    expect(greeting('web')).toBe('salut')
    expect(failed.stderr + failed.json.error!.message).toContain('ap/gate')

    kubectl(['label', 'node', 'node-1', 'mk8s-apply=ready', '--overwrite'])
    const rerun = await run(['-f', path, '--timeout', '60s'])
    expect(rerun.code, rerun.stdout).toBe(0)
    expect(rerun.json.result.steps.map((s) => `${s.action} ${s.target} ${s.status}`)).toEqual(['enable ap/gate done'])
  })
})
