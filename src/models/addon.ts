import type {OptionSpec} from './option-types.js'

/** One entry of a repository's addons.yaml, in MicroK8s terms. */
export interface AddonEntry {
  /** Other names the addon answers to (`storage` for hostpath-storage): one addon, one record, one status entry. */
  aliases?: string[]
  architectures: string[]
  checkStatus: string
  confinement?: string
  description: string
  name: string
  repository: string
  version: string
}

export interface NodeArgsChange {
  remove?: string[]
  restart?: boolean
  set?: Record<string, boolean | number | string>
}

export interface ReadyTarget {
  kind: string
  name: string
  namespace?: string
}

/**
 * What disable does beyond deleting the addon's objects: objects (Jobs, typically) rendered with the options the addon
 * was enabled with plus these disable options, applied once the addon's objects are gone, waited for, then deleted.
 * Nothing runs unless the templates render objects, which they do only when an option asks (destroying data).
 */
export interface DisableSpec {
  manifests: string[]
  options?: Record<string, OptionSpec>
}

/** addon.yaml: a declarative addon. */
export interface AddonDefinition {
  architectures?: string[]
  description: string
  disable?: DisableSpec
  images?: Record<string, string>
  kubernetes?: string
  manifests?: string[]
  message?: string
  name: string
  nodeArgs?: Record<string, NodeArgsChange>
  options?: Record<string, OptionSpec>
  /**
   * Templates of objects that only a served webhook accepts (cert-manager: an Issuer). With `--wait=full`, enable
   * server-side dry-runs them until the API server accepts them: the addon's webhooks answer. Never stored.
   */
  probes?: string[]
  ready?: ReadyTarget[]
  requires?: string[]
  /** A requirement waived when an option has a value: registry needs hostpath-storage unless given a storageClass. */
  requiresUnless?: Record<string, string>
  version: string
}

export interface DeclarativeAddon {
  definition: AddonDefinition
  dir: string
  entry: AddonEntry
  kind: 'declarative'
  /** Manifest template paths relative to dir, in apply order. */
  manifests: string[]
}

export interface HookAddon {
  dir: string
  entry: AddonEntry
  kind: 'hook'
}

export type Addon = DeclarativeAddon | HookAddon

export const addonId = (entry: {name: string; repository: string}): string => `${entry.repository}/${entry.name}`

/** The addon as its probe templates render it. */
export const probeTemplates = (addon: DeclarativeAddon): DeclarativeAddon => ({
  ...addon,
  manifests: addon.definition.probes ?? [],
})

/** The addon as its disable templates render it: the same folder and context, the `disable.manifests` templates. */
export const disableTemplates = (addon: DeclarativeAddon): DeclarativeAddon => ({
  ...addon,
  manifests: addon.definition.disable?.manifests ?? [],
})
