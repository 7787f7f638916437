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

/** addon.yaml: a declarative addon. */
export interface AddonDefinition {
  architectures?: string[]
  description: string
  images?: Record<string, string>
  kubernetes?: string
  manifests?: string[]
  message?: string
  name: string
  nodeArgs?: Record<string, NodeArgsChange>
  options?: Record<string, OptionSpec>
  ready?: ReadyTarget[]
  requires?: string[]
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
