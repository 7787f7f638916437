import {enabledByCheckStatus, namesObject} from '../hooks/check-status.js'
import {sleep} from '../util/async.js'
import {readinessMap} from '../kube/engine.js'
import type {KubeClient} from '../kube/types.js'
import {describeRef, refKey} from '../kube/types.js'
import {type AddonEntry, addonId} from '../models/addon.js'
import {type AddonRecord, PART_OF, addonSetId, listRecords, recordId} from '../records/applyset.js'
import type {AddonCatalog} from '../addons/catalog.js'
import {compareText} from '../util/text.js'

export type Health = 'degraded' | 'progressing' | 'ready'

export interface AddonState {
  /** Other names of the addon (`storage`): shown once, under its own name. */
  aliases?: string[]
  description: string
  health?: Health
  /** Why an enabled addon is not ready: missing or unready members. */
  issues?: string[]
  name: string
  repository: string
  status: 'disabled' | 'enabled'
  version: string
}

export interface ClusterStatus {
  addons: AddonState[]
  running: boolean
  server: string
  serverVersion?: string
}

/** Addon states from the records (one LIST), health from the live members (one LIST per kind). */
export async function clusterStatus(options: {
  catalog: AddonCatalog
  client: KubeClient
  env?: NodeJS.ProcessEnv
}): Promise<ClusterStatus> {
  const {catalog, client, env = process.env} = options
  const serverVersion = await client.serverVersion()
  const records = await listRecords(client)
  const available = catalog.available()
  const kinds = await Promise.all(available.map((entry) => catalog.kindOf(entry)))
  const hookEntries = available.filter((_, i) => kinds[i] === 'hook')
  const [health, hooksEnabled] = await Promise.all([
    membersHealth(client, records),
    enabledByCheckStatus(client, hookEntries, env),
  ])
  const byId = new Map(records.map((r) => [recordId(r), r]))
  const entries = new Map<string, AddonEntry | AddonRecord>(available.map((e) => [addonId(e), e]))
  // An addon enabled from a repository that is gone since is still enabled.
  for (const record of records) if (!entries.has(recordId(record))) entries.set(recordId(record), record)
  const addons = [...entries.entries()].map(([id, entry]): AddonState => {
    const record = byId.get(id)
    const name = 'name' in entry ? entry.name : entry.addon
    const base = {
      ...('aliases' in entry && entry.aliases?.length ? {aliases: entry.aliases} : {}),
      description: 'description' in entry ? entry.description : '',
      name,
      repository: entry.repository,
      version: record?.version ?? entry.version,
    }
    if (!record) return {...base, status: hooksEnabled.has(id) ? 'enabled' : 'disabled'}
    const state = health.get(id)!
    // A hook addon's objects are its hook's, not recorded: its check_status still says whether they are there.
    const checkStatus = 'checkStatus' in entry ? entry.checkStatus.trim() : ''
    if (record.hook && record.state === 'enabled' && namesObject(checkStatus) && !hooksEnabled.has(id)) {
      return {
        ...base,
        health: 'degraded',
        issues: [...state.issues, `${checkStatus} (its check_status) is missing`],
        status: 'enabled',
      }
    }

    return {...base, ...state, status: 'enabled'}
  })
  addons.sort((a, b) => compareText(a.repository, b.repository) || compareText(a.name, b.name))
  return {addons, running: true, server: client.server, serverVersion}
}

async function membersHealth(
  client: KubeClient,
  records: AddonRecord[],
): Promise<Map<string, {health: Health; issues: string[]}>> {
  const ids = records.map((r) => addonSetId({name: r.addon, repository: r.repository}))
  const live = await readinessMap(
    client,
    records.flatMap((r) => r.objects),
    {labelSelector: `${PART_OF} in (${ids.join(',')})`, skipUnlistable: true},
  )
  const result = new Map<string, {health: Health; issues: string[]}>()
  for (const record of records) {
    const issues: string[] = []
    let health: Health =
      record.state === 'applying' ? 'progressing' : record.state === 'disabling' ? 'degraded' : 'ready'
    if (record.state === 'applying') issues.push('an enable has not finished: enable it again to complete it')
    if (record.state === 'disabling') issues.push('a disable has not finished: disable it again to complete it')
    if (record.state === 'failed') {
      health = 'degraded'
      const failed = record.hook?.failed
      issues.push(`${failed?.message ?? 'its hook failed'}: ${failed?.action ?? 'enable'} it again, or disable it`)
    }
    for (const entry of record.nodeArgs ?? []) {
      if (entry.error) issues.push(`node arguments of ${entry.service} on ${entry.node}: ${entry.error}`)
    }
    for (const ref of record.objects) {
      const {object, readiness} = live.get(refKey(ref))!
      if (!object) {
        health = 'degraded'
        issues.push(`${describeRef(ref)} is missing`)
        continue
      }

      if (readiness.state === 'failed') health = 'degraded'
      if (readiness.state === 'pending' && health === 'ready') health = 'progressing'
      if (readiness.state !== 'ready') issues.push(`${describeRef(ref)}: ${readiness.reason}`)
    }

    result.set(recordId(record), {health, issues})
  }

  return result
}

/** Waits until the API server answers and at least one node is Ready; 0 waits forever, as MicroK8s does. */
export async function waitClusterReady(options: {client: KubeClient; timeoutMs: number}): Promise<boolean> {
  const {client, timeoutMs} = options
  const deadline = timeoutMs > 0 ? Date.now() + timeoutMs : Number.POSITIVE_INFINITY
  for (;;) {
    try {
      const nodes = await client.list('v1', 'Node')
      const ready = nodes.some((n) =>
        ((n.status as {conditions?: {status: string; type: string}[]})?.conditions ?? []).some(
          (c) => c.type === 'Ready' && c.status === 'True',
        ),
      )
      if (ready) return true
    } catch {
      // Not reachable yet: waiting for it is the point.
    }

    if (Date.now() >= deadline) return false
    await sleep(2000)
  }
}
