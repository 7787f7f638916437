import {join} from 'node:path'

import {UserError, ValidationError} from '../errors.js'
import {type DeclarativeAddon, type ReadyTarget, addonId, disableTemplates, probeTemplates} from '../models/addon.js'
import type {OptionValue} from '../models/option-types.js'
import {type ImageOverrides, resolveImages} from '../render/images.js'
import {
  type RenderedNodeArgs,
  type RenderedObject,
  renderAddon,
  renderMessage,
  renderNodeArgs,
} from '../render/renderer.js'
import type {AddonRequest} from './grammar.js'
import type {AddonRecord} from '../records/applyset.js'
import {checkKubernetesVersion} from './graph.js'
import {resolveOptions} from './options.js'
import type {AddonCatalog} from './catalog.js'
import {type ClusterFacts, OFFLINE_FACTS} from './facts.js'

/** The Kubernetes version offline rendering assumes when none is given. */
export const DEFAULT_KUBE_VERSION = '1.34.0'

/** The cluster as rendering sees it: version and architecture, and any facts read for the addon (facts.ts). */
export type ClusterInput = Partial<ClusterFacts> & {arch: string; version: string}

export interface AddonPlan {
  addon: DeclarativeAddon
  images: Record<string, string>
  /** What enable prints when done (addon.yaml `message`, rendered). */
  message?: string
  /** Service arguments to change on every node (addon.yaml nodeArgs), rendered. */
  nodeArgs: RenderedNodeArgs[]
  objects: RenderedObject[]
  options: Record<string, OptionValue>
  /** Objects only the addon's served webhooks accept, for `--wait=full` (addon.yaml `probes`), rendered. */
  probes: RenderedObject[]
  /** The objects whose readiness decides the addon's (addon.yaml `ready`); undefined: every object mk8s can wait for. */
  readyTargets?: ReadyTarget[]
}

export interface PlanInputs {
  args?: string[]
  previous?: Record<string, unknown>
  imageOverrides?: ImageOverrides
  set?: string[]
  values?: Record<string, unknown>[]
}

/**
 * The inputs enabling an addon again uses: the arguments given, or the options it was enabled with when none are
 * given; image overrides given now win over the recorded ones, which are kept.
 */
export function inputsOverRecord(
  record: AddonRecord | undefined,
  given: {args?: string[]; imageOverrides?: ImageOverrides; set?: string[]; values?: Record<string, unknown>[]},
): PlanInputs & {imageOverrides: ImageOverrides} {
  const explicit = (given.args?.length ?? 0) > 0 || (given.set?.length ?? 0) > 0 || (given.values?.length ?? 0) > 0
  return {
    ...given,
    imageOverrides: {
      images: {...record?.overrides?.images, ...given.imageOverrides?.images},
      registryMirrors: {...record?.overrides?.registryMirrors, ...given.imageOverrides?.registryMirrors},
    },
    previous: record && !explicit ? record.options : undefined,
  }
}

/** Options resolved, images resolved, version checked, manifests rendered: everything short of the cluster. */
export async function planAddon(
  addon: DeclarativeAddon,
  inputs: PlanInputs,
  input: ClusterInput,
): Promise<AddonPlan> {
  const cluster: ClusterFacts = {...OFFLINE_FACTS, ...input}
  checkKubernetesVersion(addon, cluster.version)
  const options = resolveOptions(addon, {
    args: inputs.args,
    previous: inputs.previous,
    set: inputs.set,
    values: inputs.values,
  })
  const images = resolveImages(addonId(addon.entry), addon.definition.images ?? {}, inputs.imageOverrides ?? {})
  const objects = await renderAddon(addon, {cluster, images, options})
  const nodeArgs = await renderNodeArgs(addon, {cluster, images, options})
  const message = await renderMessage(addon, {cluster, images, options})
  const probes = addon.definition.probes ? await renderAddon(probeTemplates(addon), {cluster, images, options}) : []
  const readyTargets = addon.definition.ready
  const missing = (readyTargets ?? [])
    .map((target, i) => ({i, target}))
    .filter(({target}) => !objects.some(({object}) => matchesTarget(target, object)))
  if (missing.length > 0) {
    throw new ValidationError(
      `Invalid ready targets of ${addonId(addon.entry)}`,
      missing.map(({i, target}) => ({
        field: `ready[${i}]`,
        file: join(addon.dir, 'addon.yaml'),
        message: `no rendered ${target.kind} ${target.namespace ? `${target.namespace}/` : ''}${target.name}`,
      })),
    )
  }

  return {addon, images, message, nodeArgs, objects, options, probes, readyTargets}
}

export interface CleanupPlan {
  objects: RenderedObject[]
  options: Record<string, OptionValue>
}

/**
 * What disable runs after the addon's objects are gone (addon.yaml `disable`): its templates rendered with the options
 * the addon was enabled with and the disable options given now. No templates, or none rendering an object: nothing.
 */
export async function planCleanup(
  addon: DeclarativeAddon,
  inputs: {args?: string[]; enabled?: {images?: Record<string, string>; options?: Record<string, unknown>}},
  input: ClusterInput,
): Promise<CleanupPlan> {
  const disableOptions = resolveOptions(addon, {args: inputs.args}, addon.definition.disable?.options ?? {})
  if (!addon.definition.disable) return {objects: [], options: disableOptions}
  const cluster: ClusterFacts = {...OFFLINE_FACTS, ...input}
  const options = {...resolveOptions(addon, {previous: inputs.enabled?.options}), ...disableOptions}
  const images = {
    ...resolveImages(addonId(addon.entry), addon.definition.images ?? {}, {}),
    ...inputs.enabled?.images,
  }
  const objects = await renderAddon(disableTemplates(addon), {cluster, images, options})
  return {objects, options}
}

export function matchesTarget(
  target: ReadyTarget,
  object: {kind: string; metadata?: {name: string; namespace?: string}; name?: string; namespace?: string},
): boolean {
  const name = object.metadata?.name ?? object.name
  const namespace = object.metadata?.namespace ?? object.namespace
  return target.kind === object.kind && target.name === name && (!target.namespace || target.namespace === namespace)
}

/** Loads the one declarative addon a request names; hook addons have no manifests to render. */
export async function declarativeAddon(
  catalog: AddonCatalog,
  request: AddonRequest,
  arch: string,
): Promise<DeclarativeAddon> {
  const addon = await catalog.load(catalog.entry(request, arch))
  if (addon.kind !== 'declarative') {
    throw new UserError(`Addon ${addonId(addon.entry)} is a MicroK8s hook addon: it has no manifests to render`)
  }

  return addon
}
