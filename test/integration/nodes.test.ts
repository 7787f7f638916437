import {execFileSync} from 'node:child_process'
import {readFileSync, rmSync} from 'node:fs'
import {request} from 'node:https'
import {join} from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'

import {NODES, agentTokenFile, nodeDir, restartLog, startAgent, stopAgent} from '../../scripts/cluster/cluster.mjs'
import {argsMap} from '../../src/nodes/args-file.js'
import {tempDir} from '../helpers/repos.js'
import {mk8s} from './cli.js'
import {clusterDir, kubectl} from './cluster.js'

const argsOf = (node: string, service: string) =>
  argsMap(readFileSync(join(nodeDir(clusterDir, node), 'args', service), 'utf8'))
const fileOf = (node: string, service: string) => readFileSync(join(nodeDir(clusterDir, node), 'args', service), 'utf8')
const restarts = (node: string) => {
  try {
    return readFileSync(restartLog(clusterDir, node), 'utf8').split('\n').filter(Boolean)
  } catch {
    return []
  }
}

const clearRestarts = () => {
  for (const node of NODES) rmSync(restartLog(clusterDir, node.name), {force: true})
}

const token = () => readFileSync(agentTokenFile(clusterDir), 'utf8').trim()
const ca = () => readFileSync(join(nodeDir(clusterDir, 'node-1'), 'certs', 'ca.crt'))

/** A raw HTTPS POST to node-1's agent, as another client (MicroK8s's Python one) would send it. */
function post(path: string, body: object): Promise<{body: string; status: number}> {
  return new Promise((resolve, reject) => {
    const req = request({ca: ca(), host: NODES[0].ip, method: 'POST', path, port: 25000}, (res) => {
      let text = ''
      res.on('data', (chunk) => (text += chunk))
      res.on('end', () => resolve({body: text, status: res.statusCode ?? 0}))
    })
    req.on('error', reject)
    req.end(JSON.stringify(body))
  })
}

describe('service arguments on every node, through the agents', () => {
  afterEach(async () => {
    // A test that stopped an agent must not leave it stopped for the next.
    for (const node of NODES) {
      const health = await mk8s(['nodes', 'list', '--node', `${node.ip}:25000`])
      if (health.code !== 0) await startAgent(clusterDir, node.name)
    }
  })

  it('lists every node with its agent', async () => {
    const {code, stdout} = await mk8s(['nodes', 'list', '--json'])
    expect(code).toBe(0)
    const {result} = JSON.parse(stdout) as {result: {address: string; name: string; status: string}[]}
    expect(result.map((n) => [n.name, n.address, n.status])).toEqual(NODES.map((n) => [n.name, `${n.ip}:25000`, 'ok']))
  })

  it('sets kubelet --cluster-dns on all three nodes, restarts only kubelet, and get shows it; remove takes it back', async () => {
    clearRestarts()
    const set = await mk8s(['nodes', 'args', 'set', 'kubelet', '--', '--cluster-dns=10.152.183.10'])
    expect(set.code).toBe(0)
    for (const node of NODES) {
      expect(argsOf(node.name, 'kubelet').get('--cluster-dns')).toBe('10.152.183.10')
      expect(restarts(node.name)).toEqual(['kubelet'])
    }

    const get = await mk8s(['nodes', 'args', 'get', 'kubelet', '--json'])
    const {result} = JSON.parse(get.stdout) as {
      result: {nodes: {arguments: {flag: string; value: string}[]; name: string}[]}
    }
    expect(result.nodes.map((n) => [n.name, n.arguments.find((a) => a.flag === '--cluster-dns')?.value])).toEqual(
      NODES.map((n) => [n.name, '10.152.183.10']),
    )

    // The same again changes no file, so nothing restarts.
    clearRestarts()
    expect((await mk8s(['nodes', 'args', 'set', 'kubelet', '--cluster-dns=10.152.183.10'])).code).toBe(0)
    for (const node of NODES) expect(restarts(node.name)).toEqual([])
    expect((await mk8s(['nodes', 'args', 'remove', 'kubelet', '--', '--cluster-dns'])).code).toBe(0)
    for (const node of NODES) expect(argsOf(node.name, 'kubelet').has('--cluster-dns')).toBe(false)
  })

  it('switches the real API server to RBAC through the agent, and back', async () => {
    const canI = () => kubectl(['auth', 'can-i', 'list', 'secrets', '--as=someone']).trim()
    const canINot = () => {
      try {
        return canI()
      } catch (error) {
        return String((error as {stdout?: string}).stdout ?? '').trim()
      }
    }

    expect(canI()).toBe('yes')
    const rbac = await mk8s(['nodes', 'args', 'set', 'kube-apiserver', '--', '--authorization-mode=RBAC,Node'])
    expect(rbac.code).toBe(0)
    expect(canINot()).toBe('no')
    const back = await mk8s(['nodes', 'args', 'set', 'kube-apiserver', '--', '--authorization-mode=AlwaysAllow'])
    expect(back.code).toBe(0)
    expect(canI()).toBe('yes')
  })

  it('with one agent stopped: updates two nodes, reports the third, exits 1; once it is back the same command completes', async () => {
    await stopAgent(clusterDir, 'node-3')
    const partial = await mk8s(['nodes', 'args', 'set', 'kubelet', '--json', '--', '--max-pods=150'])
    expect(partial.code).toBe(1)
    const document = JSON.parse(partial.stdout) as {
      error: {problems: {message: string; node: string}[]}
      status: string
    }
    expect(document.status).toBe('failed')
    expect(document.error.problems).toEqual([{message: expect.stringContaining('connection refused'), node: 'node-3'}])
    expect(argsOf('node-1', 'kubelet').get('--max-pods')).toBe('150')
    expect(argsOf('node-2', 'kubelet').get('--max-pods')).toBe('150')
    expect(argsOf('node-3', 'kubelet').has('--max-pods')).toBe(false)

    await startAgent(clusterDir, 'node-3')
    expect((await mk8s(['nodes', 'args', 'set', 'kubelet', '--', '--max-pods=150'])).code).toBe(0)
    expect(argsOf('node-3', 'kubelet').get('--max-pods')).toBe('150')
    await mk8s(['nodes', 'args', 'remove', 'kubelet', '--no-restart', '--', '--max-pods'])
  })

  it('enables dns with one agent down, then disables it: every node as before', async () => {
    const before = NODES.map((n) => fileOf(n.name, 'kubelet'))
    await stopAgent(clusterDir, 'node-2')
    const enabled = await mk8s(['enable', 'dns'])
    expect(enabled.code).toBe(1)
    expect(enabled.stderr).toContain('node-2 (127.0.0.3:25000) kubelet')
    expect(argsOf('node-1', 'kubelet').get('--cluster-dns')).toBe('10.152.183.10')
    expect(argsOf('node-1', 'kubelet').get('--cluster-domain')).toBe('cluster.local')
    const disabled = await mk8s(['disable', 'dns'])
    expect(disabled.code).toBe(0)
    expect(disabled.stderr).not.toContain('not restored')
    expect(NODES.map((n) => fileOf(n.name, 'kubelet'))).toEqual(before)
  })

  it('enables dns on every node and restores every node on disable', async () => {
    const before = NODES.map((n) => fileOf(n.name, 'kubelet'))
    expect((await mk8s(['enable', 'dns'])).code).toBe(0)
    for (const node of NODES) expect(argsOf(node.name, 'kubelet').get('--cluster-dns')).toBe('10.152.183.10')
    expect((await mk8s(['disable', 'dns'])).code).toBe(0)
    expect(NODES.map((n) => fileOf(n.name, 'kubelet'))).toEqual(before)
  })

  it('refuses an agent whose certificate the given CA did not sign', async () => {
    const dir = tempDir('mk8s-ca-')
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        'ca.key',
        '-out',
        'ca.crt',
        '-days',
        '1',
        '-subj',
        '/CN=other',
      ],
      {cwd: dir, stdio: 'ignore'},
    )
    const result = await mk8s(['nodes', 'list', '--agent-ca', join(dir, 'ca.crt')])
    expect(result.code).toBe(1)
    expect(result.stdout).toContain("the agent's certificate is not trusted")
  })

  it('accepts the Python client bodies and refuses bad ones, files untouched', async () => {
    const before = fileOf('node-1', 'kubelet')
    const python = await post('/cluster/api/v1.0/configure', {
      action_str: 'restart kubelet',
      callback: token(),
      service: [{name: 'kubelet', restart: 'yes'}],
    })
    expect([python.status, JSON.parse(python.body).result]).toEqual([200, 'ok'])
    for (const [body, status] of [
      [{callback: 'x'.repeat(64), service: [{arguments_update: [{'--a': '1'}], name: 'kubelet'}]}, 500],
      [{callback: token(), service: [{arguments_update: [{'--a': '1\n--b=2'}], name: 'kubelet'}]}, 400],
      [{callback: token(), service: [{arguments_update: [{'--a': '1'}], name: '../../callback-token.txt'}]}, 400],
    ] as const) {
      expect((await post('/cluster/api/v1.0/configure', body)).status).toBe(status)
    }

    expect(fileOf('node-1', 'kubelet')).toBe(before)
  })

  it('loses no update under 50 concurrent configure requests on one file', async () => {
    const sends = Array.from({length: 50}, (_, i) =>
      post('/cluster/api/v1.0/configure', {
        callback: token(),
        service: [{arguments_update: [{[`--concurrent-${i}`]: String(i)}], name: 'kube-proxy'}],
      }),
    )
    const replies = await Promise.all(sends)
    expect(replies.every((r) => r.status === 200)).toBe(true)
    const flags = argsOf('node-1', 'kube-proxy')
    for (let i = 0; i < 50; i++) expect(flags.get(`--concurrent-${i}`)).toBe(String(i))
    await post('/cluster/api/v1.0/configure', {
      callback: token(),
      service: [{arguments_remove: Array.from({length: 50}, (_, i) => `--concurrent-${i}`), name: 'kube-proxy'}],
    })
  })
})
