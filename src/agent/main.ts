import {join} from 'node:path'

import {UsageError} from '../errors.js'
import {mk8sHome} from '../paths.js'
import {
  DEFAULT_SERVICES,
  MICROK8S_SNAP_DATA,
  parseBind,
  parseRestartCommands,
  restarter,
  servingCertificate,
} from './config.js'
import {AGENT_FLAGS, type AgentFlagValues} from './options.js'
import {Agent} from './server.js'

/**
 * Starts the agent from its flags and serves until SIGTERM or SIGINT. `notice` says where it listens and which
 * certificate it serves.
 */
export async function serveAgent(
  flags: AgentFlagValues,
  options: {notice: (line: string) => void; version: string},
): Promise<{address: string; fingerprint: string}> {
  const snapData = process.env.SNAP_DATA ?? MICROK8S_SNAP_DATA
  const microk8s = flags.microk8s ? {snapData} : undefined
  const argsDir = flags['args-dir'] ?? (microk8s && join(snapData, 'args'))
  const tokenFile = flags['token-file'] ?? (microk8s && join(snapData, 'credentials', 'callback-token.txt'))
  if (!argsDir) throw new UsageError('--args-dir is required (or --microk8s)')
  if (!tokenFile) throw new UsageError('--token-file is required (or --microk8s)')
  const timeoutSeconds = Number(flags.timeout)
  if (!Number.isInteger(timeoutSeconds) || timeoutSeconds <= 0)
    throw new UsageError(`--timeout ${flags.timeout}: expected seconds`)
  const {host, port} = parseBind(flags.bind)
  const certificate = await servingCertificate({
    cert: flags.cert ?? (microk8s && join(snapData, 'certs', 'server.crt')),
    hosts: [host],
    key: flags.key ?? (microk8s && join(snapData, 'certs', 'server.key')),
    stateDir: join(mk8sHome(), 'agent'),
  })
  const {commands, fallback} = parseRestartCommands(flags['restart-command'] ?? [])
  const agent = new Agent({
    async addon(action, name) {
      const {runProcess} = await import('../host/exec.js')
      // The agent checked the name (letters, digits, dashes): it is safe in a shell command.
      const command = flags['addon-command']?.replaceAll('{action}', action).replaceAll('{addon}', name)
      if (command) await runProcess('sh', ['-c', command], {timeoutMs: timeoutSeconds * 1000})
      else if (microk8s)
        await runProcess(join(process.env.SNAP ?? '/snap/microk8s/current', `microk8s-${action}.wrapper`), [name])
      else await runProcess(process.execPath, [process.argv[1], action, name], {timeoutMs: timeoutSeconds * 1000})
    },
    argsDir,
    cert: certificate.cert,
    key: certificate.key,
    restart: restarter({commands, fallback, microk8s}),
    services: flags.services
      ? flags.services
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : DEFAULT_SERVICES,
    timeoutMs: timeoutSeconds * 1000,
    tokenFile,
    version: options.version,
  })
  const address = await agent.listen(host, port)
  const where = `${address.address}:${address.port}`
  options.notice(`mk8s agent listening on https://${where} (args ${argsDir})`)
  options.notice(
    `certificate SHA-256 fingerprint ${certificate.fingerprint}${certificate.generated ? ' (self-signed, generated)' : ''}`,
  )
  await new Promise<void>((resolve) => {
    const stop = () => void agent.close().then(resolve)
    process.once('SIGTERM', stop)
    process.once('SIGINT', stop)
  })
  return {address: where, fingerprint: certificate.fingerprint}
}

/**
 * The lean start of `mk8s agent` (bin/run.js): flags read with node:util from AGENT_FLAGS, errors as one line on
 * stderr with the exit codes of the CLI. Help and --json go through oclif instead.
 */
export async function runAgentLean(argv: string[], version: string): Promise<void> {
  const {parseArgs} = await import('node:util')
  try {
    const {values} = parseArgs({args: argv, options: AGENT_FLAGS as never, strict: true})
    await serveAgent(values as unknown as AgentFlagValues, {
      notice: (line) => process.stderr.write(`${line}\n`),
      version,
    })
  } catch (error) {
    const usage = error instanceof UsageError || (error as {code?: string}).code?.startsWith('ERR_PARSE_ARGS')
    process.stderr.write(`${(error as Error).message}\n`)
    process.exitCode = usage ? 2 : 1
  }
}
