import {cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {createServer} from 'node:http'
import type {AddressInfo} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {NODES, addonLog, nodeDir, restartLog} from '../../scripts/cluster/cluster.mjs'
import {argsMap} from '../../src/nodes/args-file.js'
import {commitAll, git, repoRoot} from '../helpers/repos.js'
import {mk8s} from './cli.js'
import {clusterDir, kubectl, kubectlJson} from './cluster.js'

/**
 * MicroK8s hook addons on the real control plane and its agents: the fixture repository's hooks (test/fixtures/
 * hook-repo), written like the upstream community ones, run through mk8s's $SNAP tree.
 */
const home = mkdtempSync(join(tmpdir(), 'mk8s-it-hooks-'))
const harnessBin = () => (JSON.parse(readFileSync(join(clusterDir, 'state.json'), 'utf8')) as {bin: string}).bin
// Hooks find kubectl on PATH (the harness's own, built with the cluster), as a user's machine has it.
// MK8S_MICROK8S_SNAP: the compatibility tree even where MicroK8s is installed.
const env = () => ({MK8S_HOME: home, MK8S_MICROK8S_SNAP: '/nonexistent', PATH: `${harnessBin()}:${process.env.PATH}`})
const run = (args: string[]) => mk8s(args, env())

const argsOf = (service: string) => (node: string) =>
  argsMap(readFileSync(join(nodeDir(clusterDir, node), 'args', service), 'utf8'))
const apiserverArgs = argsOf('kube-apiserver')
const kubeletArgs = argsOf('kubelet')
const lines = (file: string) => {
  try {
    return readFileSync(file, 'utf8').split('\n').filter(Boolean)
  } catch {
    return []
  }
}

const record = (name: string) =>
  kubectlJson<{data: Record<string, string>}>(['get', 'configmap', `mk8s.fixtures.${name}`, '-n', 'kube-system']).data
const recordGone = (name: string) =>
  kubectl(['get', 'configmap', `mk8s.fixtures.${name}`, '-n', 'kube-system', '--ignore-not-found']) === ''
const annotations = (service: string) =>
  kubectlJson<{metadata: {annotations: Record<string, string>}}>(['get', 'service', service, '-n', 'default']).metadata
    .annotations

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mk8s-hook-repo-'))
  cpSync(join(repoRoot, 'test', 'fixtures', 'hook-repo'), dir, {recursive: true})
  git(dir, 'init', '-q')
  commitAll(dir, 'hook fixtures')
  const added = await run(['addons', 'repo', 'add', 'fixtures', dir])
  expect(added.stderr).toBe('')
  // dns is the core addon the hooks enable: it starts disabled.
  await run(['disable', 'dns'])
})

afterAll(async () => {
  await run(['disable', 'fixtures/hello', 'fixtures/twin', 'fixtures/ask', 'fixtures/py', 'fixtures/broken'])
  await run(['disable', 'dns'])
  rmSync(home, {force: true, recursive: true})
})

describe('hook addons', () => {
  it('run as MicroK8s runs them: node arguments on every agent, a nested enable once, a record, status', async () => {
    const before = NODES.map((node) => [apiserverArgs(node.name), kubeletArgs(node.name)])
    for (const node of NODES) {
      rmSync(restartLog(clusterDir, node.name), {force: true})
      rmSync(addonLog(clusterDir, node.name), {force: true})
    }

    const enabled = await run(['enable', '--kubectl', join(harnessBin(), 'kubectl'), 'fixtures/hello', 'world'])
    expect(enabled.stderr).not.toContain('Error')
    expect(enabled.code).toBe(0)
    expect(enabled.stdout).toContain('Hello is enabled')
    expect(enabled.stdout).toContain('Enabled core/dns')
    expect(enabled.stdout).toMatch(
      /Enabled fixtures\/hello: its enable hook finished in [\d.]+s, node arguments changed on 3 nodes/,
    )
    expect(enabled.stdout).toContain('kube-apiserver --max-requests-inflight is now 450')
    expect(enabled.stdout).toContain('arch amd64, strict: no, PATH starts with /')

    // refresh_opt_in_config and restart_service reached every node's agent; nodes_addon every agent too.
    for (const node of NODES) {
      expect(apiserverArgs(node.name).get('--max-requests-inflight')).toBe('450')
      // The flag the hook wrote into $SNAP_DATA/args/kubelet with sed reached every node before kubelet restarted.
      expect(kubeletArgs(node.name).get('--image-gc-high-threshold')).toBe('90')
      // kubelet first for dns's own arguments (the nested enable), then the hook's restarts in its order.
      expect(lines(restartLog(clusterDir, node.name))).toEqual(['kubelet', 'kube-apiserver', 'kubelet'])
      expect(lines(addonLog(clusterDir, node.name))).toEqual(['enable hello'])
    }

    // The manifest went through use_addon_manifest with its keys replaced; the kubectl labels are on every node.
    const config = kubectlJson<{data: Record<string, string>}>(['get', 'configmap', 'hello', '-n', 'hello']).data
    expect(config).toEqual({arch: 'amd64', greeting: 'world'})
    const labelled = kubectl(['get', 'nodes', '-l', 'mk8s.test/hello-ready=true', '-o', 'name']).trim().split('\n')
    expect(labelled).toHaveLength(NODES.length)

    const hello = record('hello')
    expect(hello.state).toBe('enabled')
    expect(JSON.parse(hello.hook)).toEqual({args: ['world']})
    const nodeArgs = JSON.parse(hello.nodeArgs) as {node: string; previous: object; service: string; set: object}[]
    const entriesOf = (service: string) => nodeArgs.filter((entry) => entry.service === service)
    expect(nodeArgs).toHaveLength(2 * NODES.length)
    for (const service of ['kube-apiserver', 'kubelet'])
      expect(
        entriesOf(service)
          .map((entry) => entry.node)
          .sort(),
      ).toEqual(NODES.map((node) => node.name))
    for (const entry of entriesOf('kube-apiserver'))
      expect(entry).toMatchObject({
        previous: {'--max-requests-inflight': null},
        restart: true,
        set: {'--max-requests-inflight': '450'},
      })
    for (const entry of entriesOf('kubelet'))
      expect(entry).toMatchObject({
        previous: {'--image-gc-high-threshold': null},
        restart: true,
        set: {'--image-gc-high-threshold': '90'},
      })

    // twin enables dns again through its wrapper: already enabled, the same record, not applied twice.
    const dnsVersion = kubectl([
      'get',
      'configmap',
      'mk8s.core.dns',
      '-n',
      'kube-system',
      '-o',
      'jsonpath={.metadata.resourceVersion}',
    ])
    const twin = await run(['enable', 'fixtures/twin'])
    expect(twin.code).toBe(0)
    expect(twin.stdout).toContain('Addon core/dns is already enabled')
    expect(twin.stdout).toContain('dns is enabled')
    expect(
      kubectl(['get', 'configmap', 'mk8s.core.dns', '-n', 'kube-system', '-o', 'jsonpath={.metadata.resourceVersion}']),
    ).toBe(dnsVersion)

    const status = JSON.parse((await run(['status', '--format', 'json'])).stdout) as {
      addons: {health?: string; name: string; repository: string; status: string}[]
    }
    const of = (name: string) => status.addons.find((a) => a.repository === 'fixtures' && a.name === name)
    expect(of('hello')).toMatchObject({health: 'ready', status: 'enabled'})
    expect(of('twin')).toMatchObject({status: 'enabled'})
    expect(of('ask')).toMatchObject({status: 'disabled'})
    expect((await run(['status', '-a', 'fixtures/hello'])).stdout.trim()).toBe('enabled')
    // Enabling again with the same arguments runs nothing, as MicroK8s.
    expect((await run(['enable', 'fixtures/hello'])).stdout).toContain('Addon fixtures/hello is already enabled')

    // disable: skip_opt_in_config removes the flag on every node, the objects and labels go, the record goes.
    const disabled = await run(['disable', 'fixtures/hello'])
    expect(disabled.code).toBe(0)
    expect(disabled.stdout).toContain('Hello is disabled')
    expect(disabled.stderr).not.toContain('left node arguments')
    // dns stays enabled: its own kubelet flags are left out of the comparison.
    const withoutDns = (args: Map<string, string>) =>
      new Map([...args].filter(([flag]) => !['--cluster-dns', '--cluster-domain'].includes(flag)))
    NODES.forEach((node, i) => {
      expect([apiserverArgs(node.name), withoutDns(kubeletArgs(node.name))]).toEqual([
        before[i][0],
        withoutDns(before[i][1]),
      ])
      expect(lines(addonLog(clusterDir, node.name))).toEqual(['enable hello', 'disable hello'])
    })
    expect(kubectl(['get', 'namespace', 'hello', '--ignore-not-found'])).toBe('')
    expect(kubectl(['get', 'nodes', '-l', 'mk8s.test/hello-ready', '-o', 'name'])).toBe('')
    expect(recordGone('hello')).toBe(true)
    expect((await run(['status', '-a', 'fixtures/hello'])).stdout.trim()).toBe('disabled')
    expect((await run(['disable', 'fixtures/twin'])).code).toBe(0)
  })

  it('pass a failing hook’s exit code on and record the failure', async () => {
    const failed = await run(['enable', 'fixtures/broken'])
    expect(failed.code).toBe(3)
    expect(failed.stdout).toContain('Enabling broken')
    expect(failed.stderr).toContain('broken: the chart is not reachable')
    expect(failed.stderr).toContain('The enable hook of fixtures/broken failed with exit code 3')
    expect(record('broken').state).toBe('failed')
    expect(JSON.parse(record('broken').hook).failed).toMatchObject({action: 'enable', exitCode: 3})
    const status = await run(['status'])
    expect(status.stdout).toContain('fixtures/broken: The enable hook of fixtures/broken failed with exit code 3')

    // With --json, stdout stays one document: the hook's output goes to stderr.
    const json = await run(['enable', 'fixtures/broken', '--json'])
    expect(json.code).toBe(3)
    const envelope = JSON.parse(json.stdout) as {error: {exitCode: number}; status: string}
    expect(envelope).toMatchObject({error: {exitCode: 3}, status: 'failed'})
    expect(json.stderr).toContain('Enabling broken')

    const disabled = await run(['disable', 'fixtures/broken'])
    expect(disabled.code).toBe(0)
    expect(recordGone('broken')).toBe(true)
  })

  it('give a prompt end of file without a terminal, and run python3 hooks with their arguments', async () => {
    const started = Date.now()
    const asked = await run(['enable', 'fixtures/ask'])
    expect(asked.code).toBe(0)
    expect(Date.now() - started).toBeLessThan(30_000)
    expect(asked.stdout).toContain('no answer (end of input): keeping the default')
    expect(annotations('ask')['mk8s.test/answer']).toBe('n')

    const py = await run(['enable', 'fixtures/py', '--first', 'two words'])
    expect(py.code).toBe(0)
    expect(py.stdout).toContain('py is enabled')
    expect(annotations('py-hook')).toMatchObject({
      'mk8s.test/args': '--first two words',
      'mk8s.test/skip-lock': '1',
      'mk8s.test/snap-arch': 'amd64',
    })
    for (const name of ['ask', 'py']) expect((await run(['disable', `fixtures/${name}`])).code).toBe(0)
    expect(kubectl(['get', 'service', 'ask', 'py-hook', '-n', 'default', '--ignore-not-found'])).toBe('')
  })

  it('are enabled and pruned by apply -f as declarative ones are, with the files’ args', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mk8s-hook-apply-'))
    const launch = join(dir, 'launch.yaml')
    writeFileSync(launch, 'version: 0.1.0\naddons:\n  - name: fixtures/py\n    args: [from-launch]\n')
    const applied = await run(['apply', '-f', launch, '--json'])
    expect(applied.code, applied.stderr).toBe(0)
    const steps = (JSON.parse(applied.stdout) as {result: {steps: {action: string; status: string; target: string}[]}})
      .result.steps
    expect(steps.map((step) => `${step.action} ${step.target} ${step.status}`)).toContain('enable fixtures/py done')
    expect(annotations('py-hook')['mk8s.test/args']).toBe('from-launch')
    expect(JSON.parse(record('py').hook)).toEqual({args: ['from-launch']})
    // Applying the same file again changes nothing: the hook is not run twice.
    const again = JSON.parse((await run(['apply', '-f', launch, '--json'])).stdout) as {
      result: {steps: {action: string; target: string}[]}
    }
    expect(again.result.steps.filter((step) => step.target === 'fixtures/py')).toEqual([])

    // An mk8s file gives the arguments as `args` too: different ones run the hook again.
    const file = join(dir, 'cluster.yaml')
    writeFileSync(
      file,
      'apiVersion: mk8s.io/v1\nkind: ClusterAddons\naddons:\n  - {name: fixtures/py, args: [from-file]}\n',
    )
    const fromFile = await run(['apply', '-f', file])
    expect(fromFile.code, fromFile.stderr).toBe(0)
    expect(annotations('py-hook')['mk8s.test/args']).toBe('from-file')

    writeFileSync(join(dir, 'empty.yaml'), 'version: 0.1.0\naddons: []\n')
    const pruned = await run(['apply', '-f', join(dir, 'empty.yaml'), '--prune'])
    expect(pruned.code, pruned.stderr).toBe(0)
    expect(recordGone('py')).toBe(true)
    expect(kubectl(['get', 'service', 'py-hook', '-n', 'default', '--ignore-not-found'])).toBe('')
  })

  it('download with fetch_as', async () => {
    const server = createServer((req, res) => {
      if (req.url === '/tool') res.end('#!/bin/sh\necho "the fetched tool ran"\n')
      else res.writeHead(404).end()
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const {port} = server.address() as AddressInfo
    try {
      const fetched = await run(['enable', 'fixtures/fetcher', `http://127.0.0.1:${port}/tool`])
      expect(fetched.code).toBe(0)
      expect(fetched.stdout).toContain('the fetched tool ran')
      const missing = await run(['disable', 'fixtures/fetcher'])
      expect(missing.code).toBe(0)
      const notFound = await run(['enable', 'fixtures/fetcher', `http://127.0.0.1:${port}/nothing`])
      expect(notFound.code).toBe(1)
      expect(notFound.stderr).toContain('HTTP 404')
      expect((await run(['disable', 'fixtures/fetcher'])).code).toBe(0)
    } finally {
      server.close()
    }
  })
})
