import {readFileSync, writeFileSync} from 'node:fs'
import {request} from 'node:https'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {servingCertificate} from '../../src/agent/config.js'
import {Agent, MAX_BODY_BYTES} from '../../src/agent/server.js'
import {HttpsAgentClient} from '../../src/nodes/agent-client.js'
import {configureBody} from '../../src/nodes/fleet.js'
import {tempDir} from '../helpers/repos.js'

const TOKEN = 'a'.repeat(64)
const KUBELET = '# kubelet\n--cluster-domain=cluster.local\n--max-pods 110\n'

interface Reply {
  body: string
  status: number
}

let agent: Agent
let port: number
let dir: string
let ca: Buffer
const restarts: string[] = []
const addons: string[] = []
let failRestart = false

function post(path: string, body: string | object, method = 'POST'): Promise<Reply> {
  const payload = typeof body === 'string' ? body : JSON.stringify(body)
  return new Promise((resolve, reject) => {
    const req = request({ca, host: '127.0.0.1', method, path, port}, (res) => {
      let text = ''
      res.on('data', (chunk) => (text += chunk))
      res.on('end', () => resolve({body: text, status: res.statusCode ?? 0}))
    })
    req.on('error', reject)
    req.end(payload)
  })
}

const configure = (body: string | object) => post('/cluster/api/v1.0/configure', body)
const kubelet = () => readFileSync(join(dir, 'args', 'kubelet'), 'utf8')

beforeAll(async () => {
  dir = tempDir('mk8s-agent-')
  const {mkdirSync} = await import('node:fs')
  mkdirSync(join(dir, 'args'))
  writeFileSync(join(dir, 'args', 'kubelet'), KUBELET)
  writeFileSync(join(dir, 'token'), `${TOKEN}\n`)
  const certificate = await servingCertificate({hosts: ['127.0.0.1'], stateDir: join(dir, 'state')})
  ca = certificate.cert
  agent = new Agent({
    addon: async (action, name) => void addons.push(`${action} ${name}`),
    argsDir: join(dir, 'args'),
    cert: certificate.cert,
    key: certificate.key,
    async restart(service) {
      if (failRestart) throw new Error('unit not found')
      restarts.push(service)
    },
    services: ['kubelet', 'kube-apiserver'],
    timeoutMs: 10_000,
    tokenFile: join(dir, 'token'),
    version: 'test',
  })
  port = (await agent.listen('127.0.0.1', 0)).port
})

afterAll(() => agent.close())

describe('mk8s agent: the MicroK8s protocol', () => {
  it('answers GET /health with status OK', async () => {
    const reply = await post('/health', '', 'GET')
    expect(reply.status).toBe(200)
    expect(JSON.parse(reply.body)).toMatchObject({status: 'OK'})
  })

  it("accepts the Python client's exact bodies: update, then restart 'yes' with action_str, then remove", async () => {
    restarts.length = 0
    // distributed_op.py update_argument
    const update = await configure({
      callback: TOKEN,
      service: [{arguments_update: [{'--cluster-dns': '10.152.183.10'}], name: 'kubelet'}],
    })
    expect([update.status, JSON.parse(update.body).result]).toEqual([200, 'ok'])
    expect(kubelet()).toBe(`${KUBELET}--cluster-dns=10.152.183.10\n`)
    // distributed_op.py restart: restart is the string "yes", action_str is ignored
    const restart = await configure({
      action_str: 'restart kubelet',
      callback: TOKEN,
      service: [{name: 'kubelet', restart: 'yes'}],
    })
    expect(restart.status).toBe(200)
    expect(restarts).toEqual(['kubelet'])
    // distributed_op.py remove_argument
    expect(
      (await configure({callback: TOKEN, service: [{arguments_remove: ['--cluster-dns'], name: 'kubelet'}]})).status,
    ).toBe(200)
    expect(kubelet()).toBe(KUBELET)
  })

  it("accepts the Python client's addon entry with the string 'true', and the Go client's boolean", async () => {
    addons.length = 0
    expect((await configure({addon: [{enable: 'true', name: 'dns'}], callback: TOKEN})).status).toBe(200)
    expect((await configure({addon: [{disable: true, name: 'dns'}, {name: 'ignored'}], callback: TOKEN})).status).toBe(
      200,
    )
    expect(addons).toEqual(['enable dns', 'disable dns'])
  })

  it("accepts mk8s's client body, which has the Go agent's types field by field", async () => {
    const body = configureBody('kubelet', {remove: ['--max-pods'], restart: true, update: {'--a': '1', '--b': '2'}})
    // Go: Service{Name string; ArgumentsUpdate []map[string]string; ArgumentsRemove []string; Restart bool}
    expect(body).toEqual({
      service: [
        {
          arguments_remove: ['--max-pods'],
          arguments_update: [{'--a': '1'}, {'--b': '2'}],
          name: 'kubelet',
          restart: true,
        },
      ],
    })
    restarts.length = 0
    const reply = await configure({...body, callback: TOKEN})
    expect(JSON.parse(reply.body)).toMatchObject({
      result: 'ok',
      services: [{changed: true, name: 'kubelet', restarted: true}],
    })
    expect(restarts).toEqual(['kubelet'])
    // The same request again changes nothing, so nothing is restarted.
    const again = await configure({...body, callback: TOKEN})
    expect(JSON.parse(again.body).services[0]).toMatchObject({changed: false, restarted: false})
    expect(restarts).toEqual(['kubelet'])
    await configure({
      callback: TOKEN,
      service: [{arguments_remove: ['--a', '--b'], arguments_update: [{'--max-pods': '110'}], name: 'kubelet'}],
    })
  })

  it.each([
    [
      'a wrong token',
      {callback: 'b'.repeat(64), service: [{arguments_update: [{'--x': '1'}], name: 'kubelet'}]},
      500,
      'Invalid token',
    ],
    ['no token', {service: [{arguments_update: [{'--x': '1'}], name: 'kubelet'}]}, 500, 'Invalid token'],
    ['malformed JSON', '{"callback": ', 400, 'Invalid JSON'],
    [
      'a newline in a value',
      {callback: TOKEN, service: [{arguments_update: [{'--x': 'a\n--evil=1'}], name: 'kubelet'}]},
      400,
      'newline',
    ],
    [
      'a NUL in a value',
      {callback: TOKEN, service: [{arguments_update: [{'--x': 'a\u0000'}], name: 'kubelet'}]},
      400,
      'newline or NUL',
    ],
    [
      '../ in a service name',
      {callback: TOKEN, service: [{arguments_update: [{'--x': '1'}], name: '../token'}]},
      400,
      'unknown service',
    ],
    [
      'an unknown service',
      {callback: TOKEN, service: [{arguments_update: [{'--x': '1'}], name: 'containerd'}]},
      400,
      'unknown service',
    ],
    [
      'a flag that is not a flag',
      {callback: TOKEN, service: [{arguments_remove: ['x; rm -rf /'], name: 'kubelet'}]},
      400,
      'is not a flag',
    ],
    [
      'a bad entry after a good one',
      {
        callback: TOKEN,
        service: [
          {arguments_update: [{'--ok': '1'}], name: 'kubelet'},
          {arguments_update: [{'--x': '1'}], name: 'nope'},
        ],
      },
      400,
      'unknown service',
    ],
  ])('rejects %s and leaves the files untouched', async (_, body, status, message) => {
    const before = kubelet()
    const reply = await configure(body)
    expect(reply.status).toBe(status)
    expect(JSON.parse(reply.body).error).toContain(message)
    expect(kubelet()).toBe(before)
  })

  it('refuses an oversized body without reading it all', async () => {
    const reply = await configure({callback: TOKEN, padding: 'x'.repeat(MAX_BODY_BYTES + 1)})
    expect(reply.status).toBe(413)
  })

  it('answers a wrong method with an empty 404 and an unknown path with Not found, as the Go agent', async () => {
    expect(await post('/cluster/api/v1.0/configure', '', 'GET')).toEqual({body: '', status: 404})
    const unknown = await post('/nope', '{}')
    expect([unknown.status, JSON.parse(unknown.body)]).toEqual([404, {error: 'Not found'}])
  })

  it('reports a failed restart with its output', async () => {
    failRestart = true
    try {
      const reply = await configure({callback: TOKEN, service: [{name: 'kubelet', restart: true}]})
      expect(reply.status).toBe(500)
      expect(JSON.parse(reply.body).error).toBe('Failed to restart service "kubelet": unit not found')
    } finally {
      failRestart = false
    }
  })

  it("reads a service's arguments for a caller with the token only", async () => {
    const reply = await post('/mk8s/api/v1.0/arguments', {callback: TOKEN, service: 'kubelet'})
    expect(JSON.parse(reply.body).arguments).toEqual([
      {flag: '--cluster-domain', value: 'cluster.local'},
      {flag: '--max-pods', value: '110'},
    ])
    expect((await post('/mk8s/api/v1.0/arguments', {callback: 'nope', service: 'kubelet'})).status).toBe(500)
  })
})

describe('agent client', () => {
  const node = () => ({address: `127.0.0.1:${port}`, name: 'n'})

  it('verifies the certificate against the given CA and talks to the agent', async () => {
    const client = new HttpsAgentClient({ca, timeoutMs: 5000, token: TOKEN})
    expect(await client.health(node())).toMatchObject({status: 'OK'})
    expect((await client.arguments(node(), 'kubelet')).map((a) => a.flag)).toContain('--max-pods')
  })

  it('refuses an agent whose certificate another CA signed', async () => {
    const other = await servingCertificate({hosts: ['127.0.0.1'], stateDir: tempDir('mk8s-other-')})
    const client = new HttpsAgentClient({ca: other.cert, timeoutMs: 5000, token: TOKEN})
    await expect(client.health(node())).rejects.toThrow(/certificate is not trusted/)
  })

  it('says the token is wrong in one line', async () => {
    const client = new HttpsAgentClient({ca, timeoutMs: 5000, token: 'wrong'})
    await expect(client.configure(node(), configureBody('kubelet', {update: {'--x': '1'}}))).rejects.toThrow(
      'HTTP 500: Invalid token',
    )
  })
})

describe('mk8s agent start-up', () => {
  it('reads the same flags in its lean path as the oclif command declares', async () => {
    const {AGENT_FLAGS} = await import('../../src/agent/options.js')
    const {default: AgentCommand} = await import('../../src/commands/agent.js')
    expect(Object.keys(AgentCommand.flags).sort()).toEqual(Object.keys(AGENT_FLAGS).sort())
    for (const [name, spec] of Object.entries(AGENT_FLAGS)) {
      expect([name, AgentCommand.flags[name as keyof typeof AgentCommand.flags].default]).toEqual([
        name,
        'default' in spec ? spec.default : undefined,
      ])
    }
  })

  it('exits 2 with one line on a bad flag, and answers --help through oclif', async () => {
    const {runMk8s} = await import('../helpers/cli.js')
    const bad = await runMk8s(['agent', '--nosuch'])
    expect([bad.code, bad.stderr]).toEqual([2, "Unknown option '--nosuch'\n"])
    const bind = await runMk8s(['agent', '--bind', 'nowhere', '--args-dir', dir, '--token-file', join(dir, 'token')])
    expect([bind.code, bind.stderr]).toEqual([2, '--bind nowhere: expected HOST:PORT, for example 0.0.0.0:25000\n'])
    const help = await runMk8s(['agent', '--help'])
    expect(help.stdout).toContain('--restart-command')
  })
})
