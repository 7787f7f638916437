import {dumpYaml} from '../models/yaml-source.js'

import type {AddonState, ClusterStatus} from '../services/status.js'

const NOT_RUNNING = 'cluster is not running'

/** MicroK8s's pretty shape: enabled and disabled addons, one `{:>3} {:<20} # ({}) {}` line each. */
export function formatPretty(status: ClusterStatus): string {
  const line = (a: AddonState) =>
    `    ${a.name.padEnd(20)} # (${a.repository}) ${a.description}${a.health && a.health !== 'ready' ? ` [${a.health}]` : ''}`
  const enabled = status.addons.filter((a) => a.status === 'enabled')
  const disabled = status.addons.filter((a) => a.status === 'disabled')
  const issues = enabled.flatMap((a) => (a.issues ?? []).map((issue) => `  ${a.repository}/${a.name}: ${issue}`))
  return [
    'cluster is running',
    `  server: ${status.server} (${status.serverVersion})`,
    'addons:',
    '  enabled:',
    ...enabled.map(line),
    '  disabled:',
    ...disabled.map(line),
    ...(issues.length > 0 ? ['issues:', ...issues] : []),
  ].join('\n')
}

export function formatShort(status: ClusterStatus): string {
  const lines = (state: 'disabled' | 'enabled') =>
    status.addons.filter((a) => a.status === state).map((a) => `${a.repository}/${a.name}: ${state}`)
  return ['cluster is running', 'addons:', ...lines('enabled'), ...lines('disabled')].join('\n')
}

/** MicroK8s's yaml shape, with `cluster` for `microk8s` and health added for enabled addons. */
export function formatYaml(status: ClusterStatus): string {
  return dumpYaml({
    addons: status.addons.map((a) => ({
      description: a.description,
      ...(a.health ? {health: a.health} : {}),
      name: a.name,
      repository: a.repository,
      status: a.status,
      version: a.version,
    })),
    cluster: {running: true, server: status.server, version: status.serverVersion},
  }).trimEnd()
}

export function formatNotRunning(format: string, reason: string): string {
  if (format === 'json') return JSON.stringify({cluster: {message: reason, running: false}}, null, 2)
  if (format === 'yaml') return dumpYaml({cluster: {message: `${NOT_RUNNING}: ${reason}`, running: false}}).trimEnd()
  return `${NOT_RUNNING}: ${reason}`
}

/** The status in the shape --format names: pretty, short, yaml or json. */
export function formatStatus(status: ClusterStatus, format: string): string {
  if (format === 'json') return JSON.stringify(status, null, 2)
  if (format === 'yaml') return formatYaml(status)
  if (format === 'short') return formatShort(status)
  return formatPretty(status)
}
