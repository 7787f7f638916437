import {createHash} from 'node:crypto'

import type {OptionValue} from '../models/option-types.js'
import {FIELD_MANAGER} from '../kube/engine.js'
import {type KubeClient, type KubeObject, type ObjectRef, groupOf} from '../kube/types.js'

/**
 * The record of an enabled addon, kept in the cluster as an ApplySet parent (KEP-3659): a ConfigMap labelled
 * with the set's id, whose members carry the part-of label. Status, disable and prune read it.
 */
export const RECORD_NAMESPACE = 'kube-system'
export const APPLYSET_ID = 'applyset.kubernetes.io/id'
export const PART_OF = 'applyset.kubernetes.io/part-of'
export const RECORD_LABEL = 'mk8s.io/addon-record'
export const TOOLING = 'mk8s/v1'

/** What an addon changed in one service's arguments on one node, and what was there before. */
export interface NodeArgsRecord {
  address: string
  /** False when the node could not be changed: nothing of it is to be restored. */
  applied: boolean
  error?: string
  node: string
  /** Each changed flag's value before mk8s first changed it; null where the flag was not set. */
  previous: Record<string, null | string>
  removed: string[]
  restart: boolean
  service: string
  set: Record<string, string>
}

/** What a MicroK8s hook addon's record adds: the arguments its hook ran with, and how the last run ended. */
export interface HookRecord {
  args: string[]
  /** The hook that failed (state `failed`), its exit code and what mk8s said. */
  failed?: {action: 'disable' | 'enable'; exitCode: number; message: string}
}

export interface AddonRecord {
  addon: string
  /** Set for a MicroK8s hook addon: it has no objects of its own in the record (its hook applied them). */
  hook?: HookRecord
  images: Record<string, string>
  /** Service arguments the addon changed, node by node (addon.yaml nodeArgs). */
  nodeArgs?: NodeArgsRecord[]
  objects: ObjectRef[]
  options: Record<string, OptionValue>
  /** --image and --registry-mirror given when enabling: reused when the addon is enabled again. */
  overrides?: {images?: Record<string, string>; registryMirrors?: Record<string, string>}
  repository: string
  /**
   * `applying` while an enable runs: a record left so was interrupted and is finished by enabling again.
   * `disabling`: a disable deleted the objects but could not restore every node's arguments; disable again finishes.
   * `failed`: a hook addon's enable or disable hook exited non-zero (`hook.failed` says which and how).
   */
  state: 'applying' | 'disabling' | 'enabled' | 'failed'
  updatedAt: string
  version: string
}

export const recordName = (repository: string, addon: string) => `mk8s.${repository}.${addon}`

interface AddonName {
  name: string
  repository: string
}

export const recordRef = (addon: AddonName): ObjectRef => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  name: recordName(addon.repository, addon.name),
  namespace: RECORD_NAMESPACE,
})

/** `repo/name` of a record, as addonId names catalog entries. */
export const recordId = (record: AddonRecord) => `${record.repository}/${record.addon}`

/** The ApplySet id an addon's members are labelled with. */
export const addonSetId = (addon: AddonName) => applySetId(recordName(addon.repository, addon.name))

/** The addon's record; one being deleted (a disable just finished) counts as absent. */
export async function readRecord(client: KubeClient, addon: AddonName): Promise<AddonRecord | undefined> {
  const object = await client.get(recordRef(addon))
  return object && !object.metadata.deletionTimestamp ? parseRecord(object) : undefined
}

/** Writes the addon's record, taking its fields over from any other writer. */
export async function writeRecord(client: KubeClient, record: AddonRecord): Promise<void> {
  await client.apply(recordObject(record), {fieldManager: FIELD_MANAGER, force: true})
}

/** Removes the addon's record once a disable is done; its members are already gone. */
export async function deleteRecord(client: KubeClient, addon: AddonName): Promise<void> {
  await client.delete(recordRef(addon), {propagation: 'Background'})
}

/** Every addon record of the cluster, with one LIST. */
export async function listRecords(client: KubeClient): Promise<AddonRecord[]> {
  const objects = await client.list('v1', 'ConfigMap', {
    labelSelector: `${RECORD_LABEL}=true`,
    namespace: RECORD_NAMESPACE,
  })
  return objects
    .filter((object) => !object.metadata.deletionTimestamp)
    .map(parseRecord)
    .filter((record): record is AddonRecord => record !== undefined)
}

/** The ApplySet id of a parent: base64url(sha256(name.namespace.kind.group)), as KEP-3659 defines it. */
export function applySetId(name: string, namespace = RECORD_NAMESPACE): string {
  const hash = createHash('sha256').update(`${name}.${namespace}.ConfigMap.`).digest('base64url')
  return `applyset-${hash}-v1`
}

export function recordObject(record: AddonRecord): KubeObject {
  const name = recordName(record.repository, record.addon)
  const groupKinds = [
    ...new Set(record.objects.map((o) => (groupOf(o.apiVersion) ? `${o.kind}.${groupOf(o.apiVersion)}` : o.kind))),
  ].sort()
  const namespaces = [
    ...new Set(record.objects.map((o) => o.namespace).filter((ns): ns is string => !!ns && ns !== RECORD_NAMESPACE)),
  ].sort()
  return {
    apiVersion: 'v1',
    data: {
      addon: record.addon,
      ...(record.hook ? {hook: JSON.stringify(record.hook)} : {}),
      images: JSON.stringify(record.images),
      nodeArgs: JSON.stringify(record.nodeArgs ?? []),
      objects: JSON.stringify(record.objects),
      options: JSON.stringify(record.options),
      overrides: JSON.stringify(record.overrides ?? {}),
      repository: record.repository,
      state: record.state,
      updatedAt: record.updatedAt,
      version: record.version,
    },
    kind: 'ConfigMap',
    metadata: {
      annotations: {
        'applyset.kubernetes.io/additional-namespaces': namespaces.join(','),
        'applyset.kubernetes.io/contains-group-kinds': groupKinds.join(','),
        'applyset.kubernetes.io/tooling': TOOLING,
      },
      labels: {[APPLYSET_ID]: applySetId(name), [RECORD_LABEL]: 'true'},
      name,
      namespace: RECORD_NAMESPACE,
    },
  }
}

export function parseRecord(object: KubeObject): AddonRecord | undefined {
  const data = (object.data ?? {}) as Record<string, string>
  try {
    return {
      addon: data.addon,
      ...(data.hook ? {hook: JSON.parse(data.hook) as HookRecord} : {}),
      images: JSON.parse(data.images ?? '{}'),
      nodeArgs: JSON.parse(data.nodeArgs ?? '[]'),
      objects: JSON.parse(data.objects ?? '[]'),
      options: JSON.parse(data.options ?? '{}'),
      overrides: JSON.parse(data.overrides ?? '{}'),
      repository: data.repository,
      state: (['enabled', 'disabling', 'failed'] as const).find((state) => state === data.state) ?? 'applying',
      updatedAt: data.updatedAt,
      version: data.version,
    }
  } catch {
    return undefined
  }
}

/** Marks an object as a member of the addon's ApplySet. */
export function withMembership(object: KubeObject, id: string): KubeObject {
  return {...object, metadata: {...object.metadata, labels: {...object.metadata.labels, [PART_OF]: id}}}
}

/** A record's node arguments with a later run's changes: the first value each flag had is the one kept. */
export function mergeNodeArgs(recorded: NodeArgsRecord[] = [], changes: NodeArgsRecord[]): NodeArgsRecord[] {
  const merged = recorded.map((entry) => ({...entry}))
  for (const change of changes) {
    const entry = merged.find((e) => e.address === change.address && e.service === change.service)
    if (!entry) {
      merged.push(change)
      continue
    }

    entry.previous = {...change.previous, ...entry.previous}
    entry.set = Object.fromEntries(
      Object.entries({...entry.set, ...change.set}).filter(([f]) => !change.removed.includes(f)),
    )
    entry.removed = [...new Set([...entry.removed.filter((f) => !(f in change.set)), ...change.removed])]
    entry.restart ||= change.restart
  }

  return merged
}
