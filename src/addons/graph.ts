import semver from 'semver'

import {UserError} from '../errors.js'
import {type Addon, type AddonEntry, addonId} from '../models/addon.js'

export interface AddonLookup {
  /** Finds `repo/name` or a bare name (inferred as the grammar does); throws when unknown or ambiguous. */
  resolve(ref: string, from: string): AddonEntry
  load(entry: AddonEntry): Promise<Addon>
}

/**
 * The addons to enable, dependencies first, each once: `requires` followed transitively, in declaration order.
 * A cycle is reported with its members in order.
 */
export async function resolveRequires(
  targets: AddonEntry[],
  lookup: AddonLookup,
  /** The options each addon is being enabled with, by id: they decide `requiresUnless`. */
  options: Map<string, Record<string, unknown>> = new Map(),
): Promise<Addon[]> {
  const ordered: Addon[] = []
  const done = new Set<string>()
  const visiting: string[] = []

  const visit = async (entry: AddonEntry): Promise<void> => {
    const id = addonId(entry)
    if (done.has(id)) return
    const cycleStart = visiting.indexOf(id)
    if (cycleStart !== -1) {
      throw new UserError(`Addon requirements form a cycle: ${[...visiting.slice(cycleStart), id].join(' -> ')}`)
    }

    visiting.push(id)
    const addon = await lookup.load(entry)
    const requires = addon.kind === 'declarative' ? (addon.definition.requires ?? []) : []
    for (const ref of requires) {
      if (addon.kind === 'declarative' && requirementWaived(addon.definition.requiresUnless?.[ref], options.get(id))) continue
      await visit(lookup.resolve(ref, id))
    }
    visiting.pop()
    done.add(id)
    ordered.push(addon)
  }

  for (const target of targets) await visit(target)
  return ordered
}

/** `requiresUnless: {hostpath-storage: storageClass}`: the requirement is waived when that option has a value. */
function requirementWaived(option: string | undefined, values: Record<string, unknown> | undefined): boolean {
  if (!option) return false
  const value = values?.[option]
  return value !== undefined && value !== null && value !== '' && value !== false
}

/** Refuses an addon whose `kubernetes` range the server version does not satisfy. */
export function checkKubernetesVersion(addon: Addon, serverVersion: string): void {
  if (addon.kind !== 'declarative' || !addon.definition.kubernetes) return
  const version = semver.coerce(serverVersion, {includePrerelease: false})
  if (!version) throw new UserError(`Cannot read Kubernetes version "${serverVersion}"`)
  if (!semver.satisfies(version, addon.definition.kubernetes, {includePrerelease: true})) {
    throw new UserError(
      `Addon ${addonId(addon.entry)} needs Kubernetes ${addon.definition.kubernetes}; the cluster runs ${version.version}`,
    )
  }
}
