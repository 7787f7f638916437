import {X509Certificate} from 'node:crypto'
import {existsSync} from 'node:fs'
import {mkdir, readFile} from 'node:fs/promises'
import {join} from 'node:path'

import {UsageError, UserError} from '../errors.js'
import {type Runner, runProcess} from '../host/exec.js'

/** The services an agent manages unless told otherwise: MicroK8s's args files that hold service flags. */
export const DEFAULT_SERVICES = [
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'kube-proxy',
  'kubelet',
  'kubelite',
  'containerd',
  'k8s-dqlite',
  'etcd',
  'flanneld',
]

export const MICROK8S_SNAP_DATA = '/var/snap/microk8s/current'
const RESTART_TIMEOUT_MS = 120_000

/**
 * `--restart-command` values: `SERVICE=COMMAND` for one service, or a bare `COMMAND` for every other one; `{service}`
 * in a command is replaced by the service's name. Commands are the operator's own configuration and run with sh -c.
 */
export function parseRestartCommands(values: string[]): {commands: Map<string, string>; fallback?: string} {
  const commands = new Map<string, string>()
  let fallback: string | undefined
  for (const value of values) {
    const match = /^([a-z][-a-z0-9]*)=(.+)$/s.exec(value)
    if (match) commands.set(match[1], match[2])
    else fallback = value
  }

  return {commands, fallback}
}

/** MicroK8s's unit of a service (the Go agent's snapctlServiceName): kubelite when the node runs in lite mode. */
export function microk8sUnit(service: string, snapData: string): string {
  let unit = service.replace(/^kube-(apiserver|proxy|scheduler|controller-manager)$/, '$1')
  if (
    existsSync(join(snapData, 'var', 'lock', 'lite.lock')) &&
    /^(apiserver|proxy|kubelet|scheduler|controller-manager)$/.test(unit)
  ) {
    unit = 'kubelite'
  }

  return unit.startsWith('microk8s.daemon-') ? unit : `microk8s.daemon-${unit}`
}

export function restarter(options: {
  commands: Map<string, string>
  fallback?: string
  microk8s?: {snapData: string}
  runner?: Runner
}): (service: string) => Promise<void> {
  const run = options.runner ?? runProcess
  return async (service) => {
    const template = options.commands.get(service) ?? options.fallback
    if (template) {
      await run('sh', ['-c', template.replaceAll('{service}', service)], {timeoutMs: RESTART_TIMEOUT_MS})
      return
    }

    if (options.microk8s) {
      await run('snapctl', ['restart', microk8sUnit(service, options.microk8s.snapData)], {
        timeoutMs: RESTART_TIMEOUT_MS,
      })
      return
    }

    throw new UserError(`no restart command for ${service}: start the agent with --restart-command '${service}=…'`)
  }
}

/**
 * The serving certificate: the files given, or a self-signed pair generated once into `stateDir` (with openssl) for
 * the addresses the agent serves. Returns the PEMs and the SHA-256 fingerprint a client can pin.
 */
export async function servingCertificate(options: {
  cert?: string
  hosts: string[]
  key?: string
  runner?: Runner
  stateDir: string
}): Promise<{cert: Buffer; fingerprint: string; generated: boolean; key: Buffer}> {
  let {cert, key} = options
  let generated = false
  if ((cert === undefined) !== (key === undefined)) throw new UsageError('--cert and --key go together')
  if (!cert || !key) {
    cert = join(options.stateDir, 'agent.crt')
    key = join(options.stateDir, 'agent.key')
    if (!existsSync(cert) || !existsSync(key)) {
      await mkdir(options.stateDir, {mode: 0o700, recursive: true})
      const sans = [...new Set(['127.0.0.1', ...options.hosts])]
        .map((host) => (/^[\d.]+$|:/.test(host) ? `IP:${host}` : `DNS:${host}`))
        .join(',')
      const run = options.runner ?? runProcess
      await run(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-keyout',
          key,
          '-out',
          cert,
          '-days',
          '3650',
          '-subj',
          '/CN=mk8s-agent',
          '-addext',
          `subjectAltName=${sans}`,
        ],
        {timeoutMs: 60_000},
      )
      generated = true
    }
  }

  const [certPem, keyPem] = await Promise.all([readFile(cert), readFile(key)]).catch((error: Error) => {
    throw new UserError(`Cannot read the agent's certificate or key: ${error.message}`)
  })
  let fingerprint: string
  try {
    fingerprint = new X509Certificate(certPem).fingerprint256
  } catch {
    throw new UserError(`${cert} is not a PEM certificate`)
  }

  return {cert: certPem, fingerprint, generated, key: keyPem}
}

/** `HOST:PORT`, `[v6]:PORT` or `:PORT`. */
export function parseBind(bind: string): {host: string; port: number} {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(bind)
  const port = match ? Number(match[3]) : Number.NaN
  if (!match || port > 65_535) throw new UsageError(`--bind ${bind}: expected HOST:PORT, for example 0.0.0.0:25000`)
  return {host: match[1] ?? (match[2] || '0.0.0.0'), port}
}
