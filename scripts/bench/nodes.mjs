// `npm run bench:nodes`: one service-argument change fanned out to 100 agents on loopback addresses
// (127.0.1.1-100), measured as a user meets it: the whole `mk8s nodes args set` process, against one process that
// POSTs to each agent in turn as MicroK8s's distributed_op.py does. Also the resident memory of a real `mk8s agent`
// process after 200 requests. Prints medians, the ratio and whether each target is met. Needs a build (npm run build).
import {execFileSync, spawn} from 'node:child_process'
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const NODES = 100
const RUNS = 5
// A configure with restart waits for the service to restart (snapctl restart takes seconds for kubelet on a real
// node). The agents here restart nothing, so each restart is modelled as this long: on loopback, with no network and
// no restart, the comparison would measure only this machine's TLS handshakes.
const RESTART_MS = 250
const ips = Array.from({length: NODES}, (_, i) => `127.0.1.${i + 1}`)
const work = mkdtempSync(join(tmpdir(), 'mk8s-bench-nodes-'))
const children = []
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

function cleanup() {
  for (const child of children) child.kill('SIGTERM')
  rmSync(work, {force: true, recursive: true})
}

process.on('exit', cleanup)

// A CA and one serving certificate whose SANs are every agent address.
const openssl = (...args) => execFileSync('openssl', args, {cwd: work, stdio: 'ignore'})
openssl(
  'req',
  '-x509',
  '-newkey',
  'ec',
  '-pkeyopt',
  'ec_paramgen_curve:P-256',
  '-nodes',
  '-keyout',
  'ca.key',
  '-out',
  'ca.crt',
  '-days',
  '1',
  '-subj',
  '/CN=bench-ca',
)
openssl(
  'req',
  '-newkey',
  'ec',
  '-pkeyopt',
  'ec_paramgen_curve:P-256',
  '-nodes',
  '-keyout',
  'agent.key',
  '-out',
  'agent.csr',
  '-subj',
  '/CN=bench-agent',
)
writeFileSync(join(work, 'agent.ext'), `subjectAltName=${[...ips, '127.0.2.1'].map((ip) => `IP:${ip}`).join(',')}\n`)
openssl(
  'x509',
  '-req',
  '-in',
  'agent.csr',
  '-CA',
  'ca.crt',
  '-CAkey',
  'ca.key',
  '-CAcreateserial',
  '-days',
  '1',
  '-extfile',
  'agent.ext',
  '-out',
  'agent.crt',
)
const token = 'b'.repeat(64)
writeFileSync(join(work, 'token'), `${token}\n`)
for (const ip of ips) {
  mkdirSync(join(work, ip), {recursive: true})
  writeFileSync(join(work, ip, 'kubelet'), readFileSync(join(root, 'test/fixtures/microk8s/default-args/kubelet')))
}

// The 100 agents run in one helper process (100 mk8s processes would measure this machine, not the fan-out).
const host = `
  const {Agent} = await import(${JSON.stringify(join(root, 'dist/agent/server.js'))})
  const {readFileSync} = await import('node:fs')
  const ips = ${JSON.stringify(ips)}
  for (const ip of ips) {
    const agent = new Agent({argsDir: ${JSON.stringify(work)} + '/' + ip, cert: readFileSync(${JSON.stringify(join(work, 'agent.crt'))}),
      key: readFileSync(${JSON.stringify(join(work, 'agent.key'))}), restart: () => new Promise((r) => setTimeout(r, ${RESTART_MS})), services: ['kubelet'],
      timeoutMs: 30000, tokenFile: ${JSON.stringify(join(work, 'token'))}, version: 'bench'})
    await agent.listen(ip, 25000)
  }
  console.log('ready')
`
const agents = spawn(process.execPath, ['--input-type=module', '-e', host], {stdio: ['ignore', 'pipe', 'inherit']})
children.push(agents)
await new Promise((resolve, reject) => {
  agents.stdout.on('data', (chunk) => String(chunk).includes('ready') && resolve())
  agents.on('exit', (code) => reject(new Error(`the agents exited with ${code}`)))
})

const time = (command, args) => {
  const start = process.hrtime.bigint()
  execFileSync(command, args, {stdio: ['ignore', 'ignore', 'inherit']})
  return Number(process.hrtime.bigint() - start) / 1e6
}

const nodeFlags = ips.flatMap((ip) => ['--node', `${ip}:25000`])
const mk8sRun = (i) =>
  time(join(root, 'bin/run.js'), [
    'nodes',
    'args',
    'set',
    'kubelet',
    ...nodeFlags,
    '--agent-ca',
    join(work, 'ca.crt'),
    '--agent-token-file',
    join(work, 'token'),
    '--',
    `--cluster-dns=10.152.183.${i}`,
  ])

// MicroK8s's way: one process, one node after the other, a new connection each (requests.post(verify=False)).
const sequential = `
  const https = await import('node:https')
  const [value] = process.argv.slice(-1)
  for (const ip of ${JSON.stringify(ips)}) {
    await new Promise((resolve, reject) => {
      const body = JSON.stringify({callback: ${JSON.stringify(token)}, service: [{name: 'kubelet', arguments_update: [{'--cluster-dns': value}], restart: true}]})
      const req = https.request({host: ip, port: 25000, method: 'POST', path: '/cluster/api/v1.0/configure', rejectUnauthorized: false, agent: false}, (res) => { res.resume(); res.on('end', resolve) })
      req.on('error', reject)
      req.end(body)
    })
  }
`
const sequentialRun = (i) => time(process.execPath, ['--input-type=module', '-e', sequential, `10.152.184.${i}`])

const mk8sTimes = []
const sequentialTimes = []
for (let i = 1; i <= RUNS; i++) {
  mk8sTimes.push(mk8sRun(i))
  sequentialTimes.push(sequentialRun(i))
}

// A real agent process: its resident memory after 200 configure requests.
mkdirSync(join(work, 'single'))
writeFileSync(join(work, 'single', 'kubelet'), '--a=1\n')
const agent = spawn(
  process.execPath,
  // As the README's systemd unit runs it: V8 in lite mode with a small young generation, for a long-running server.
  [
    '--lite-mode',
    '--max-semi-space-size=1',
    join(root, 'bin/run.js'),
    'agent',
    '--bind',
    '127.0.2.1:25000',
    '--args-dir',
    join(work, 'single'),
    '--token-file',
    join(work, 'token'),
    '--cert',
    join(work, 'agent.crt'),
    '--key',
    join(work, 'agent.key'),
    '--restart-command',
    'true',
  ],
  {stdio: 'ignore'},
)
children.push(agent)
await sleep(1500)
const hammer = `
  const https = await import('node:https')
  let next = 0
  const one = (i) => new Promise((resolve, reject) => {
    const body = JSON.stringify({callback: ${JSON.stringify(token)}, service: [{name: 'kubelet', arguments_update: [{['--f' + (i % 20)]: String(i)}], restart: true}]})
    const req = https.request({host: '127.0.2.1', port: 25000, method: 'POST', path: '/cluster/api/v1.0/configure', rejectUnauthorized: false, agent: false}, (res) => { res.resume(); res.on('end', resolve) })
    req.on('error', reject)
    req.end(body)
  })
  // 200 requests, 20 at a time: many clients at once, each a new TLS connection.
  await Promise.all(Array.from({length: 20}, async () => { while (next < 200) await one(next++) }))
`
execFileSync(process.execPath, ['--input-type=module', '-e', hammer])
const status = readFileSync(`/proc/${agent.pid}/status`, 'utf8')
const kib = (field) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0)
const rssMb = kib('VmRSS') / 1024
const peakMb = kib('VmHWM') / 1024

const mk8sMedian = median(mk8sTimes)
const sequentialMedian = median(sequentialTimes)
const ratio = sequentialMedian / mk8sMedian
const check = (ok) => (ok ? 'met' : 'NOT met')
console.log(
  `\nOne kubelet flag with restart on ${NODES} agents (loopback, each restart modelled as ${RESTART_MS} ms), medians of ${RUNS} whole-process runs:`,
)
console.log('| work | time | target |')
console.log('|---|---|---|')
console.log(
  `| mk8s nodes args set (parallel fan-out) | ${mk8sMedian.toFixed(0)} ms | under 2000 ms: ${check(mk8sMedian < 2000)} |`,
)
console.log(`| sequential POSTs, one node after another (MicroK8s's way) | ${sequentialMedian.toFixed(0)} ms | |`)
console.log(`| ratio | ${ratio.toFixed(1)}x faster | at least 10x: ${check(ratio >= 10)} |`)
console.log(
  `| mk8s agent resident memory, 200 requests 20 at a time | ${rssMb.toFixed(1)} MB (peak ${peakMb.toFixed(1)} MB) | under 60 MB: ${check(peakMb < 60)} |`,
)
process.exit(0)
