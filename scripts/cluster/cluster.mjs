#!/usr/bin/env node
// The test control plane: etcd, kube-apiserver (started from node-1's MicroK8s-style args
// file, as kubelite does), kube-controller-manager, kube-scheduler and kwok with three fake
// nodes on 127.0.0.2-4, each with an mk8s agent on its IP, port 25000. State lives in .cluster/; `down` stops exactly the processes `up`
// started, by PID, and removes the state.
//
//   node scripts/cluster/cluster.mjs up | down | restart-apiserver | status
import {execFileSync, spawn} from 'node:child_process'
import {existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {randomBytes} from 'node:crypto'
import {request} from 'node:https'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {parseArgsFile} from './args-file.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const defaultClusterDir = process.env.MK8S_CLUSTER_DIR ?? join(root, '.cluster')
// Our own MicroK8s-format args files: the harness must start in a clone with nothing beside it.
const fixtureArgs = join(root, 'test', 'fixtures', 'microk8s', 'default-args')

export const NODES = [
  {ip: '127.0.0.2', name: 'node-1'},
  {ip: '127.0.0.3', name: 'node-2'},
  {ip: '127.0.0.4', name: 'node-3'},
]
const SERVICES = ['kube-apiserver', 'kubelet', 'kube-proxy', 'kube-controller-manager', 'kube-scheduler']
const PORTS = {controllerManager: 20257, etcdClient: 23790, etcdPeer: 23800, kwok: 20247, scheduler: 20259}

const log = (message) => console.error(`[cluster] ${message}`)
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

function binDir() {
  if (process.env.MK8S_CLUSTER_BIN) return process.env.MK8S_CLUSTER_BIN
  return execFileSync('bash', [join(root, 'scripts/cluster/build.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim()
}

function openssl(cwd, ...args) {
  execFileSync('openssl', args, {cwd, stdio: ['ignore', 'ignore', 'pipe']})
}

/** A CA, the serving and client certificates MicroK8s keeps in ${SNAP_DATA}/certs, and the front-proxy pair. */
function makePki(certs) {
  mkdirSync(certs, {recursive: true})
  const sign = (name, subject, ext, ca = 'ca') => {
    openssl(
      certs,
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      subject,
    )
    writeFileSync(join(certs, `${name}.ext`), ext)
    openssl(
      certs,
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${ca}.crt`,
      '-CAkey',
      `${ca}.key`,
      '-CAcreateserial',
      '-days',
      '3650',
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.crt`,
    )
  }

  for (const ca of ['ca', 'front-proxy-ca']) {
    openssl(
      certs,
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${ca}.key`,
      '-out',
      `${ca}.crt`,
      '-days',
      '3650',
      '-subj',
      `/CN=mk8s-test-${ca}`,
    )
  }

  sign(
    'server',
    '/CN=kube-apiserver',
    'subjectAltName=IP:127.0.0.1,IP:10.152.183.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth\n',
  )
  sign('admin', '/O=system:masters/CN=admin', 'extendedKeyUsage=clientAuth\n')
  sign(
    'apiserver-kubelet-client',
    '/O=system:masters/CN=kube-apiserver-kubelet-client',
    'extendedKeyUsage=clientAuth\n',
  )
  sign('front-proxy-client', '/CN=front-proxy-client', 'extendedKeyUsage=clientAuth\n', 'front-proxy-ca')
  openssl(certs, 'genrsa', '-out', 'serviceaccount.key', '2048')
}

/**
 * Seeds a node's args folder from MicroK8s-format defaults (test/fixtures/microk8s/default-args). ${SNAP_DATA} stays in the files (it is expanded
 * when the file is read, with SNAP_DATA set to the node folder); only the datastore endpoint changes, and the
 * flags a loopback-only API server needs are added at the end.
 */
function seedArgs(nodeDir) {
  const args = join(nodeDir, 'args')
  mkdirSync(args, {recursive: true})
  for (const service of SERVICES) {
    let text = readFileSync(join(fixtureArgs, service), 'utf8')
    if (service === 'kube-apiserver') {
      text = text.replace(/^--etcd-servers=.*$/m, `--etcd-servers=http://127.0.0.1:${PORTS.etcdClient}`)
      text += [
        '',
        '# mk8s test harness: loopback only, no kubelets behind the nodes',
        '--bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
        '--endpoint-reconciler-type=none',
        '--enable-priority-and-fairness=false',
        '# writes by mk8s are audited: tests check that a run with nothing to change writes nothing',
        '--audit-policy-file=${SNAP_DATA}/args/audit-policy.yaml',
        '--audit-log-path=${SNAP_DATA}/audit.log',
        '',
      ].join('\n')
    }

    writeFileSync(join(args, service), text)
  }

  // Writes only (reads are most requests), and not the ones the controllers and kwok make all the time: status
  // updates, leases other than mk8s's lock, and events.
  writeFileSync(
    join(args, 'audit-policy.yaml'),
    [
      'apiVersion: audit.k8s.io/v1',
      'kind: Policy',
      'omitStages: [RequestReceived, ResponseStarted]',
      'rules:',
      '  - level: None',
      '    verbs: [get, list, watch]',
      '  - level: Metadata',
      '    resources: [{group: coordination.k8s.io, resources: [leases], resourceNames: [mk8s-addons]}]',
      '  - level: None',
      '    resources:',
      '      - {group: coordination.k8s.io, resources: [leases]}',
      '      - {group: "", resources: [events, "*/status"]}',
      '      - {group: apps, resources: ["*/status"]}',
      '      - {group: events.k8s.io, resources: [events]}',
      '  - level: Metadata',
      '',
    ].join('\n'),
  )

  // The EventRateLimit admission plugin the upstream file enables reads this file.
  writeFileSync(
    join(args, 'admission-control-config-file.yaml'),
    [
      'apiVersion: apiserver.config.k8s.io/v1',
      'kind: AdmissionConfiguration',
      'plugins:',
      '  - name: EventRateLimit',
      '    configuration:',
      '      apiVersion: eventratelimit.admission.k8s.io/v1alpha1',
      '      kind: Configuration',
      '      limits:',
      '        - {type: Server, qps: 5000, burst: 20000}',
      '',
    ].join('\n'),
  )
}

function kubeconfig(dir, server) {
  const certs = join(dir, 'nodes', 'node-1', 'certs')
  return [
    'apiVersion: v1',
    'kind: Config',
    `clusters: [{name: mk8s-test, cluster: {server: "${server}", certificate-authority: "${join(certs, 'ca.crt')}"}}]`,
    `users: [{name: admin, user: {client-certificate: "${join(certs, 'admin.crt')}", client-key: "${join(certs, 'admin.key')}"}}]`,
    'contexts: [{name: mk8s-test, context: {cluster: mk8s-test, user: admin}}]',
    'current-context: mk8s-test',
    '',
  ].join('\n')
}

function start(dir, name, command, args, env = {}) {
  const logFile = openSync(join(dir, 'logs', `${name}.log`), 'a')
  const child = spawn(command, args, {
    detached: true,
    env: {...process.env, ...env},
    stdio: ['ignore', logFile, logFile],
  })
  child.unref()
  writeFileSync(pidFile(dir, name), `${child.pid}\n`)
  return child.pid
}

/** True when `pid` is alive and is the program we started (a reused PID is left alone). */
function isOurs(pid, command) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] === command
  } catch {
    return false
  }
}

const pidFile = (dir, name) => join(dir, 'pids', `${name}.pid`)

/** The PID a component's pid file records, or undefined. */
function recordedPid(dir, name) {
  const file = pidFile(dir, name)
  return existsSync(file) ? Number(readFileSync(file, 'utf8')) : undefined
}

/** The program a component runs as: the agents are mk8s on this Node, the rest are the cluster's binaries. */
const programOf = (bin, name) => (name.startsWith('agent-') ? process.execPath : join(bin, name))

/** The PID of a component still running as we started it, or undefined. */
function runningPid(dir, bin, name) {
  const pid = recordedPid(dir, name)
  return pid !== undefined && isOurs(pid, programOf(bin, name)) ? pid : undefined
}

// kube-apiserver stops listening at once on SIGTERM but lingers for seconds after; nothing is lost by not waiting.
// `bin`: the cluster's binaries (an agent runs on this Node and needs none).
async function stop(dir, name, {bin, graceMs = 5000} = {}) {
  const pid = recordedPid(dir, name)
  if (pid === undefined) return
  const command = programOf(bin, name)
  if (isOurs(pid, command)) {
    process.kill(pid, 'SIGTERM')
    for (let i = 0; i < graceMs / 100 && isOurs(pid, command); i++) await sleep(100)
    if (isOurs(pid, command)) process.kill(pid, 'SIGKILL')
    for (let i = 0; i < 50 && isOurs(pid, command); i++) await sleep(100)
  }

  rmSync(pidFile(dir, name), {force: true})
}

/** `selfSigned`: the controller manager and the scheduler serve certificates they made themselves. */
function get(dir, port, path, selfSigned = false) {
  const certs = join(dir, 'nodes', 'node-1', 'certs')
  return new Promise((resolve) => {
    const req = request(
      {
        ...(selfSigned ? {rejectUnauthorized: false} : {ca: readFileSync(join(certs, 'ca.crt'))}),
        cert: readFileSync(join(certs, 'admin.crt')),
        host: '127.0.0.1',
        key: readFileSync(join(certs, 'admin.key')),
        path,
        port,
        timeout: 2000,
      },
      (res) => {
        let body = ''
        res.on('data', (chunk) => (body += chunk))
        res.on('end', () => resolve({body, status: res.statusCode}))
      },
    )
    req.on('error', () => resolve({body: '', status: 0}))
    req.on('timeout', () => req.destroy())
    req.end()
  })
}

async function waitFor(what, check, timeoutMs, logName, dir) {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await check()) return
    await sleep(250)
  }

  const tail = logName
    ? readFileSync(join(dir, 'logs', `${logName}.log`), 'utf8')
        .split('\n')
        .slice(-15)
        .join('\n')
    : ''
  throw new Error(`timed out waiting for ${what}${tail ? `\n--- last lines of ${logName}.log ---\n${tail}` : ''}`)
}

function readState(dir) {
  const file = join(dir, 'state.json')
  if (!existsSync(file)) throw new Error(`no cluster state in ${dir}: run npm run cluster:up first`)
  return JSON.parse(readFileSync(file, 'utf8'))
}

function apiserverArgs(dir) {
  const node = join(dir, 'nodes', 'node-1')
  return parseArgsFile(readFileSync(join(node, 'args', 'kube-apiserver'), 'utf8'), {SNAP_DATA: node, SNAP_COMMON: node})
}

function apiserverPort(args) {
  const flag = args.find((arg) => arg.startsWith('--secure-port='))
  return flag ? Number(flag.split('=')[1]) : 6443
}

async function startApiserver(dir, bin) {
  const args = apiserverArgs(dir)
  const port = apiserverPort(args)
  start(dir, 'kube-apiserver', join(bin, 'kube-apiserver'), args)
  await waitFor(
    'kube-apiserver /readyz',
    async () => (await get(dir, port, '/readyz')).status === 200,
    90_000,
    'kube-apiserver',
    dir,
  )
  return port
}

/** The controller manager, the scheduler and kwok (the kubelets): what kubelite restarts with the API server. */
function startControllers(dir, bin) {
  const certs = join(dir, 'nodes', 'node-1', 'certs')
  const kc = join(dir, 'kubeconfig')
  // The controller manager and the scheduler talk to the API server as admin and serve only on loopback.
  const asAdmin = (port) => [
    `--kubeconfig=${kc}`,
    `--authentication-kubeconfig=${kc}`,
    `--authorization-kubeconfig=${kc}`,
    '--leader-elect=false',
    '--bind-address=127.0.0.1',
    `--secure-port=${port}`,
  ]
  start(dir, 'kube-controller-manager', join(bin, 'kube-controller-manager'), [
    ...asAdmin(PORTS.controllerManager),
    `--service-account-private-key-file=${join(certs, 'serviceaccount.key')}`,
    `--root-ca-file=${join(certs, 'ca.crt')}`,
    `--cluster-signing-cert-file=${join(certs, 'ca.crt')}`,
    `--cluster-signing-key-file=${join(certs, 'ca.key')}`,
    '--authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics',
    '--concurrent-deployment-syncs=10',
    '--concurrent-replicaset-syncs=10',
  ])
  start(dir, 'kube-scheduler', join(bin, 'kube-scheduler'), asAdmin(PORTS.scheduler))
  start(
    dir,
    'kwok',
    join(bin, 'kwok'),
    [
      `--kubeconfig=${kc}`,
      '--manage-all-nodes=false',
      '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake',
      `--server-address=127.0.0.1:${PORTS.kwok}`,
      '--cidr=10.1.0.0/16',
      `--config=${join(root, 'scripts/cluster/kwok-stages.yaml')}`,
    ],
    {KWOK_WORKDIR: join(dir, 'kwok')},
  )
}

const CONTROLLERS = ['kwok', 'kube-scheduler', 'kube-controller-manager']

/**
 * Re-reads node-1's kube-apiserver args file and restarts the API server, then the controllers, as MicroK8s's
 * kubelite restarts them all together: controllers left running reconnect their watches only after a back-off, which
 * left Deployments unavailable for a minute after a restart. Returns once all of them serve again.
 */
export async function restartApiserver(dir = defaultClusterDir) {
  const state = readState(dir)
  await Promise.all(CONTROLLERS.map((name) => stop(dir, name, {bin: state.bin, graceMs: 1000})))
  await stop(dir, 'kube-apiserver', {bin: state.bin, graceMs: 1000})
  const port = await startApiserver(dir, state.bin)
  writeFileSync(join(dir, 'state.json'), JSON.stringify({...state, apiserverPort: port}, null, 2))
  startControllers(dir, state.bin)
  for (const [name, port] of [
    ['kube-controller-manager', PORTS.controllerManager],
    ['kube-scheduler', PORTS.scheduler],
  ]) {
    await waitFor(
      `${name} /healthz`,
      async () => (await get(dir, port, '/healthz', true)).status === 200,
      60_000,
      name,
      dir,
    )
  }

  log(`kube-apiserver restarted on 127.0.0.1:${port}, with the controllers`)
}

/** kubectl of the harness against the cluster in `dir`; `input` is fed to its standard input. */
function kubectl(dir, bin, args, input = '') {
  return execFileSync(join(bin, 'kubectl'), ['--kubeconfig', join(dir, 'kubeconfig'), ...args], {
    encoding: 'utf8',
    input,
    stdio: ['pipe', 'pipe', 'pipe'],
  })
}

/** Whether any process a cluster in dir started is still alive (its state may outlive them: a reboot, a kill -9). */
function anyRunning(dir) {
  let bin
  try {
    bin = readState(dir).bin
  } catch {
    return false
  }

  const pids = join(dir, 'pids')
  if (!existsSync(pids)) return false
  return readdirSync(pids).some((file) => runningPid(dir, bin, file.replace(/\.pid$/, '')) !== undefined)
}

/**
 * Starts the control plane in dir. A cluster already running there is left alone (an error says so); the state of one
 * whose processes are all gone is stopped and replaced. On any other failure what was started is stopped again.
 */
export async function up(dir = defaultClusterDir) {
  if (existsSync(join(dir, 'state.json'))) {
    if (anyRunning(dir)) throw new Error(`a cluster is already up in ${dir}: run npm run cluster:down first`)
    log(`the cluster recorded in ${dir} is no longer running: starting a new one`)
    await down(dir)
  }

  try {
    await startCluster(dir)
  } catch (error) {
    await down(dir).catch(() => {})
    throw error
  }
}

async function startCluster(dir) {
  const bin = binDir()
  rmSync(dir, {force: true, recursive: true})
  for (const sub of ['logs', 'pids', 'etcd']) mkdirSync(join(dir, sub), {recursive: true})
  for (const node of NODES) seedArgs(join(dir, 'nodes', node.name))
  // Every node shares the cluster's PKI, as MicroK8s nodes of one cluster share the CA.
  makePki(join(dir, 'nodes', 'node-1', 'certs'))
  for (const node of NODES.slice(1))
    execFileSync('cp', ['-r', join(dir, 'nodes', 'node-1', 'certs'), join(dir, 'nodes', node.name, 'certs')])
  writeFileSync(join(dir, 'state.json'), JSON.stringify({bin, ports: PORTS}, null, 2))

  start(dir, 'etcd', join(bin, 'etcd'), [
    '--name=mk8s-test',
    `--data-dir=${join(dir, 'etcd')}`,
    `--listen-client-urls=http://127.0.0.1:${PORTS.etcdClient}`,
    `--advertise-client-urls=http://127.0.0.1:${PORTS.etcdClient}`,
    `--listen-peer-urls=http://127.0.0.1:${PORTS.etcdPeer}`,
    `--initial-advertise-peer-urls=http://127.0.0.1:${PORTS.etcdPeer}`,
    `--initial-cluster=mk8s-test=http://127.0.0.1:${PORTS.etcdPeer}`,
    '--unsafe-no-fsync',
    '--log-level=warn',
  ])
  const port = await startApiserver(dir, bin)
  const server = `https://127.0.0.1:${port}`
  writeFileSync(join(dir, 'kubeconfig'), kubeconfig(dir, server))
  writeFileSync(join(dir, 'state.json'), JSON.stringify({apiserverPort: port, bin, ports: PORTS}, null, 2))

  startControllers(dir, bin)

  const nodes = NODES.map((node) =>
    [
      'apiVersion: v1',
      'kind: Node',
      'metadata:',
      `  name: ${node.name}`,
      '  annotations: {kwok.x-k8s.io/node: fake}',
      `  labels: {kubernetes.io/hostname: ${node.name}, kubernetes.io/os: linux, kubernetes.io/arch: amd64, type: kwok}`,
      'spec: {}',
    ].join('\n'),
  )
  kubectl(dir, bin, ['apply', '-f', '-'], nodes.join('\n---\n'))
  for (const node of NODES) {
    // kwok keeps the addresses a node already has, so the InternalIP is set before it initialises the node.
    const status = {
      status: {
        addresses: [
          {address: node.ip, type: 'InternalIP'},
          {address: node.name, type: 'Hostname'},
        ],
        allocatable: {cpu: '32', memory: '256Gi', pods: '110'},
        capacity: {cpu: '32', memory: '256Gi', pods: '110'},
      },
    }
    kubectl(dir, bin, [
      'patch',
      'node',
      node.name,
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify(status),
    ])
  }

  await waitFor(
    'nodes to become Ready',
    async () => {
      const {items} = JSON.parse(kubectl(dir, bin, ['get', 'nodes', '-o', 'json']))
      return (
        items.length === NODES.length &&
        items.every((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))
      )
    },
    60_000,
    'kwok',
    dir,
  )
  await waitFor(
    'the default service account',
    async () => {
      try {
        kubectl(dir, bin, ['get', 'serviceaccount', 'default', '-n', 'default'])
        return true
      } catch {
        return false
      }
    },
    60_000,
    'kube-controller-manager',
    dir,
  )

  writeFileSync(agentTokenFile(dir), `${randomBytes(32).toString('hex')}\n`, {mode: 0o600})
  for (const node of NODES) agentCertificate(dir, node)
  await Promise.all(NODES.map((node) => startAgent(dir, node.name)))

  writeFileSync(
    join(dir, 'env'),
    [
      `export KUBECONFIG=${JSON.stringify(join(dir, 'kubeconfig'))}`,
      `export MK8S_AGENT_TOKEN_FILE=${JSON.stringify(agentTokenFile(dir))}`,
      `export MK8S_CLUSTER_DIR=${JSON.stringify(dir)}`,
      `export MK8S_CLUSTER_NODES=${JSON.stringify(NODES.map((n) => `${n.name}=${n.ip}`).join(' '))}`,
      `export PATH=${JSON.stringify(bin)}:"$PATH"`,
      '',
    ].join('\n'),
  )
  log(`up: ${server}, nodes ${NODES.map((n) => `${n.name} (${n.ip}, agent :${AGENT_PORT})`).join(', ')}`)
  log(`use it with: source ${join(dir, 'env')}`)
}

export const AGENT_PORT = 25000
export const agentTokenFile = (dir = defaultClusterDir) => join(dir, 'callback-token.txt')
export const nodeDir = (dir, node) => join(dir, 'nodes', node)
/** Each agent appends the addons it is asked to enable or disable (nodes_addon) to this file. */
export const addonLog = (dir, node) => join(nodeDir(dir, node), 'addons.log')

/** Each agent appends the service it restarts to this file, so tests can tell what was restarted. */
export const restartLog = (dir, node) => join(nodeDir(dir, node), 'restarts.log')

/** A serving certificate for a node's agent, signed by the cluster CA, with the node's IP as SAN (as MicroK8s's). */
function agentCertificate(dir, node) {
  const certs = join(nodeDir(dir, 'node-1'), 'certs')
  const out = join(nodeDir(dir, node.name), 'agent')
  mkdirSync(out, {recursive: true})
  openssl(
    out,
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
    '-subj',
    `/CN=${node.name}`,
  )
  writeFileSync(join(out, 'server.ext'), `subjectAltName=IP:${node.ip}\nextendedKeyUsage=serverAuth\n`)
  openssl(
    out,
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    join(certs, 'ca.crt'),
    '-CAkey',
    join(certs, 'ca.key'),
    '-CAcreateserial',
    '-days',
    '3650',
    '-extfile',
    'server.ext',
    '-out',
    'server.crt',
  )
}

function agentHealthy(dir, node) {
  return new Promise((resolve) => {
    const req = request(
      {
        ca: readFileSync(join(nodeDir(dir, 'node-1'), 'certs', 'ca.crt')),
        host: node.ip,
        path: '/health',
        port: AGENT_PORT,
        timeout: 2000,
      },
      (res) => {
        res.resume()
        resolve(res.statusCode === 200)
      },
    )
    req.on('error', () => resolve(false))
    req.on('timeout', () => req.destroy())
    req.end()
  })
}

/**
 * Starts the mk8s agent of one node. Node-1's restarts of kube-apiserver restart the harness's API server; every other
 * restart is only written to the node's restarts.log (kwok nodes have no kubelet to restart).
 */
export async function startAgent(dir = defaultClusterDir, name) {
  const node = NODES.find((n) => n.name === name)
  const here = nodeDir(dir, node.name)
  const logRestart = `echo {service} >> ${JSON.stringify(restartLog(dir, node.name))}`
  const restarts = [`--restart-command=${logRestart}`]
  if (node.name === 'node-1') {
    restarts.push(
      `--restart-command=kube-apiserver=${logRestart.replace('{service}', 'kube-apiserver')} && ${JSON.stringify(process.execPath)} ${JSON.stringify(fileURLToPath(import.meta.url))} restart-apiserver`,
    )
  }

  start(
    dir,
    `agent-${node.name}`,
    process.execPath,
    [
      join(root, 'bin', 'run.js'),
      'agent',
      `--bind=${node.ip}:${AGENT_PORT}`,
      `--args-dir=${join(here, 'args')}`,
      `--token-file=${agentTokenFile(dir)}`,
      `--cert=${join(here, 'agent', 'server.crt')}`,
      `--key=${join(here, 'agent', 'server.key')}`,
      `--addon-command=echo {action} {addon} >> ${JSON.stringify(addonLog(dir, node.name))}`,
      ...restarts,
    ],
    {MK8S_CLUSTER_DIR: dir, MK8S_HOME: join(here, 'mk8s-home')},
  )
  await waitFor(`the agent of ${node.name}`, () => agentHealthy(dir, node), 30_000, `agent-${node.name}`, dir)
}

export async function stopAgent(dir = defaultClusterDir, name) {
  await stop(dir, `agent-${name}`, {graceMs: 3000})
}

export async function down(dir = defaultClusterDir) {
  if (!existsSync(dir)) return
  let bin
  try {
    bin = readState(dir).bin
  } catch {
    // No state: nothing was started, so there is nothing to stop.
  }

  if (bin) {
    for (const node of NODES) await stopAgent(dir, node.name)
    // Reverse start order, so nothing reconnects to a component that is already gone.
    for (const name of ['kwok', 'kube-scheduler', 'kube-controller-manager', 'kube-apiserver', 'etcd'])
      await stop(dir, name, {bin})
  }

  const left = existsSync(join(dir, 'pids')) ? readdirSync(join(dir, 'pids')) : []
  rmSync(dir, {force: true, recursive: true})
  log(left.length > 0 ? `down; pid files without a matching process: ${left.join(', ')}` : 'down')
}

export function status(dir = defaultClusterDir) {
  const {bin} = readState(dir)
  for (const name of ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok']) {
    const pid = runningPid(dir, bin, name)
    console.log(`${name.padEnd(24)} ${pid ? `running (pid ${pid})` : 'stopped'}`)
  }

  for (const node of NODES) {
    const pid = runningPid(dir, bin, `agent-${node.name}`)
    console.log(
      `${`agent ${node.name}`.padEnd(24)} ${pid ? `running (pid ${pid}) on ${node.ip}:${AGENT_PORT}` : 'stopped'}`,
    )
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const command = process.argv[2]
  const actions = {down, 'restart-apiserver': restartApiserver, status, up}
  if (!actions[command]) {
    console.error('usage: cluster.mjs up | down | restart-apiserver | status')
    process.exit(2)
  }

  try {
    await actions[command]()
  } catch (error) {
    console.error(`[cluster] ${command} failed: ${error.message}`)
    process.exit(1)
  }
}
