import {pathExists} from '../host/fs.js'
import type {KubeClient, KubeObject} from '../kube/types.js'
import {type AddonEntry, addonId} from '../models/addon.js'
import {expandVariables} from '../util/text.js'

/** What `kubectl get all,ingress,ingressclass -A` and `kubectl get clusterroles --show-kind` name, as MicroK8s greps them. */
const CHECK_STATUS_KINDS: [string, string, string][] = [
  ['v1', 'Pod', 'pod'],
  ['v1', 'Service', 'service'],
  ['apps/v1', 'DaemonSet', 'daemonset.apps'],
  ['apps/v1', 'Deployment', 'deployment.apps'],
  ['apps/v1', 'ReplicaSet', 'replicaset.apps'],
  ['apps/v1', 'StatefulSet', 'statefulset.apps'],
  ['batch/v1', 'Job', 'job.batch'],
  ['batch/v1', 'CronJob', 'cronjob.batch'],
  ['networking.k8s.io/v1', 'Ingress', 'ingress.networking.k8s.io'],
  ['networking.k8s.io/v1', 'IngressClass', 'ingressclass.networking.k8s.io'],
  ['rbac.authorization.k8s.io/v1', 'ClusterRole', 'clusterrole.rbac.authorization.k8s.io'],
]

/** Where `${SNAP}` and the others point on a MicroK8s node, for file check_status values outside a hook. */
const MICROK8S_PATHS = {
  SNAP: '/snap/microk8s/current',
  SNAP_COMMON: '/var/snap/microk8s/common',
  SNAP_DATA: '/var/snap/microk8s/current',
}

/**
 * The names each object answers to, `kind.group/name` as kubectl prints them. A pod also answers to its workload's
 * name (`pod/coredns` for the pods of Deployment coredns, through its ReplicaSet; `pod/speaker` for DaemonSet
 * speaker's): MicroK8s finds those with a substring, which also matched `portainer-agent` for `portainer` and every
 * `gateway-…` for `gateway`. Whole names do not.
 */
function namesOf(listed: Map<string, KubeObject[]>): Set<string> {
  const names = new Set<string>()
  const owners = new Map<string, string>()
  for (const rs of listed.get('replicaset.apps') ?? []) {
    const owner = rs.metadata.ownerReferences?.find((o) => o.controller)
    if (owner) owners.set(`${rs.metadata.namespace}/${rs.metadata.name}`, owner.name)
  }

  for (const [prefix, objects] of listed) {
    for (const object of objects) {
      names.add(`${prefix}/${object.metadata.name}`)
      if (prefix !== 'pod') continue
      const owner = object.metadata.ownerReferences?.find((o) => o.controller)
      if (!owner) continue
      const workload =
        owner.kind === 'ReplicaSet'
          ? (owners.get(`${object.metadata.namespace}/${owner.name}`) ?? owner.name)
          : owner.name
      names.add(`pod/${workload}`)
    }
  }

  return names
}

/** True when `check` (trimmed: portainer's has a trailing space) is one of the names, bare names matching any kind. */
export function matchesCheckStatus(check: string, names: Set<string>): boolean {
  const wanted = check.trim()
  if (!wanted) return false
  if (wanted.includes('/')) return names.has(wanted)
  for (const name of names) if (name.slice(name.indexOf('/') + 1) === wanted) return true
  return false
}

/** A check_status that names a file (`${SNAP_DATA}/var/lock/ha-cluster`), not an object. */
const namesFile = (check: string) => check.startsWith('/') || check.startsWith('$')

/** A check_status of the `kind.group/name` form: one object that should exist while the addon is enabled. */
export const namesObject = (check: string): boolean => check.trim().includes('/') && !namesFile(check.trim())

/**
 * The kinds the check_status values can match, so that status lists only those: `deployment.apps/x` needs
 * Deployments, `pod/x` Pods and the ReplicaSets that name their workloads, a bare name every kind, a file none.
 */
function kindsNamed(checks: string[]): Set<string> {
  const kinds = new Set<string>()
  for (const check of checks.map((c) => c.trim())) {
    if (!check || namesFile(check)) continue
    if (!check.includes('/')) return new Set(CHECK_STATUS_KINDS.map(([, , prefix]) => prefix))
    const prefix = check.slice(0, check.indexOf('/'))
    kinds.add(prefix)
    if (prefix === 'pod') kinds.add('replicaset.apps')
  }

  return kinds
}

/**
 * The hook addons whose `check_status` says they are enabled: one of the cluster's objects has that whole name, or
 * the value names a file (with ${VAR}s expanded) that exists. Lists each kind once, only when a value can name it.
 */
export async function enabledByCheckStatus(
  client: KubeClient,
  entries: AddonEntry[],
  env: NodeJS.ProcessEnv,
): Promise<Set<string>> {
  const enabled = new Set<string>()
  const wanted = kindsNamed(entries.map((entry) => entry.checkStatus))
  const listed = new Map(
    await Promise.all(
      CHECK_STATUS_KINDS.filter(([, , prefix]) => wanted.has(prefix)).map(
        async ([apiVersion, kind, prefix]) => [prefix, await client.list(apiVersion, kind).catch(() => [])] as const,
      ),
    ),
  )
  const names = namesOf(listed)
  for (const entry of entries) {
    if (matchesCheckStatus(entry.checkStatus, names)) enabled.add(addonId(entry))
    else {
      const file = expandVariables(entry.checkStatus.trim(), {...MICROK8S_PATHS, ...env})
      if (file.startsWith('/') && (await pathExists(file))) enabled.add(addonId(entry))
    }
  }

  return enabled
}
