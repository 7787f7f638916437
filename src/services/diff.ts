import {createTwoFilesPatch} from 'diff'

import {KubeError, UserError} from '../errors.js'
import {FIELD_MANAGER, normalizeNamespaces} from '../kube/engine.js'
import {parallel} from '../util/async.js'
import {type KubeClient, type KubeObject, type ObjectRef, describeRef, refKey, refOf} from '../kube/types.js'
import {type DeclarativeAddon, addonId} from '../models/addon.js'
import {dumpYaml} from '../models/yaml-source.js'
import type {ImageOverrides} from '../render/images.js'
import {readValuesFiles} from '../addons/options.js'
import {FactReader} from '../addons/facts.js'
import {type ClusterInput, type PlanInputs, declarativeAddon, inputsOverRecord, planAddon} from '../addons/plan.js'
import type {NodeFleet} from '../nodes/fleet.js'
import {type AddonRecord, addonSetId, readRecord, withMembership} from '../records/applyset.js'
import type {AddonCatalog} from '../addons/catalog.js'
import {compareText} from '../util/text.js'

export interface ObjectDiff {
  change: 'create' | 'prune' | 'update'
  patch?: string
  ref: ObjectRef
}

export interface DiffResult {
  addon: string
  changes: ObjectDiff[]
  notices: string[]
  unchanged: number
}

/** Fields the server owns or rewrites on every write; comparing them would show noise, not changes. */
function comparable(object: KubeObject | undefined): string {
  if (!object) return ''
  const {metadata, status: _status, ...rest} = object
  const {creationTimestamp: _c, generation: _g, managedFields: _m, resourceVersion: _r, uid: _u, ...meta} = metadata
  const {'deployment.kubernetes.io/revision': _revision, ...annotations} = meta.annotations ?? {}
  if (Object.keys(annotations).length > 0) meta.annotations = annotations
  else delete meta.annotations
  return dumpYaml({...rest, metadata: meta})
}

/**
 * What enabling an addon would change: each rendered object is server-side applied as a dry run and compared with
 * the live object; members of the addon's record that it no longer renders would be pruned.
 */
export async function diffAddon(options: {
  catalog: AddonCatalog
  client: KubeClient
  cluster: {arch: string; version: string}
  /** The nodes' agents, for facts an addon reads from them (dns: the kubelet's --resolv-conf). */
  fleet?: () => Promise<NodeFleet | undefined>
  imageOverrides?: ImageOverrides
  set?: string[]
  tokens: string[]
  valuesFiles?: string[]
}): Promise<DiffResult> {
  const {catalog, client, cluster} = options
  const {notices, requests} = catalog.parse(options.tokens)
  if (requests.length !== 1) throw new UserError(`diff takes one addon; got ${requests.map((r) => r.name).join(', ')}`)
  const addon = await declarativeAddon(catalog, requests[0], cluster.arch)
  const values = await readValuesFiles(options.valuesFiles)
  const record = await readRecord(client, addon.entry)
  const inputs = inputsOverRecord(record, {
    args: requests[0].args,
    imageOverrides: options.imageOverrides,
    set: options.set,
    values,
  })
  const facts = await new FactReader(client, options.fleet ?? (async () => undefined)).facts(addon, cluster)
  const {changes, unchanged} = await diffObjects(client, addon, inputs, facts, record)
  return {addon: addonId(addon.entry), changes, notices: [...catalog.warnings, ...notices], unchanged}
}

/** The rendered objects of `addon` with `inputs` against the live ones, and what its record lists that would go. */
export async function diffObjects(
  client: KubeClient,
  addon: DeclarativeAddon,
  inputs: PlanInputs,
  cluster: ClusterInput,
  record: AddonRecord | undefined,
): Promise<{changes: ObjectDiff[]; unchanged: number}> {
  const plan = await planAddon(addon, inputs, cluster)
  const id = addonSetId(addon.entry)
  const objects = await normalizeNamespaces(
    client,
    plan.objects.map(({object}) => withMembership(object, id)),
  )
  const changes: ObjectDiff[] = []
  let unchanged = 0
  await parallel(objects, 16, async (object) => {
    const ref = refOf(object)
    const live = await client.get(ref)
    // A dry run cannot create an object in a namespace that does not exist yet: the object as rendered is the diff.
    const desired = await client.apply(object, {dryRun: true, fieldManager: FIELD_MANAGER}).catch((error: unknown) => {
      if (!live && error instanceof KubeError && error.code === 404) return object
      throw error
    })
    const before = comparable(live)
    const after = comparable(desired)
    if (before === after) unchanged++
    else
      changes.push({
        change: live ? 'update' : 'create',
        patch: createTwoFilesPatch(`live/${describeRef(ref)}`, `mk8s/${describeRef(ref)}`, before, after, '', '', {
          context: 3,
        }),
        ref,
      })
  })
  const rendered = new Set(objects.map((o) => refKey(refOf(o))))
  for (const ref of record?.objects ?? []) if (!rendered.has(refKey(ref))) changes.push({change: 'prune', ref})
  changes.sort((a, b) => compareText(describeRef(a.ref), describeRef(b.ref)))
  return {changes, unchanged}
}
