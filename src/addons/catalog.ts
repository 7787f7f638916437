import {readdir} from 'node:fs/promises'
import {join} from 'node:path'

import {UsageError, UserError} from '../errors.js'
import {pathExists} from '../host/fs.js'
import {type Addon, type AddonEntry, addonId} from '../models/addon.js'
import {bundledAddonsDir, userRepositoriesDir} from '../paths.js'
import {compareText, matchesAddonRef} from '../util/text.js'
import {type AddonRef, parseAddonArgs} from './grammar.js'
import type {AddonLookup} from './graph.js'
import {ADDON_FILE, type RepositoryIndex, loadAddon, loadRepositoryIndex} from './repository.js'

export const BUNDLED_REPOSITORIES = ['core', 'community']

const ARCH_NAMES: Record<string, string> = {arm64: 'arm64', ppc64: 'ppc64le', s390x: 's390x', x64: 'amd64'}

/** The host architecture in MicroK8s's names (amd64, arm64, s390x, ppc64le). */
export function hostArch(): string {
  return ARCH_NAMES[process.arch] ?? process.arch
}

export interface CatalogOptions {
  arch?: string
  /** MicroK8s filters addons by snap confinement; mk8s behaves as a classic snap unless told otherwise. */
  confinement?: 'classic' | 'strict'
  env?: NodeJS.ProcessEnv
}

export interface LoadedRepository extends RepositoryIndex {
  bundled: boolean
}

/** Every repository mk8s knows, bundled and user-added, and the addons available on this architecture. */
export class AddonCatalog implements AddonLookup {
  private readonly loaded = new Map<string, Promise<Addon>>()

  private constructor(
    readonly repositories: LoadedRepository[],
    readonly warnings: string[],
    readonly arch: string,
    private readonly confinement: 'classic' | 'strict',
  ) {}

  static async load(options: CatalogOptions = {}): Promise<AddonCatalog> {
    const env = options.env ?? process.env
    const userDir = userRepositoriesDir(env)
    let userNames: string[] = []
    try {
      userNames = (await readdir(userDir, {withFileTypes: true}))
        .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.'))
        .map((entry) => entry.name)
        .sort()
    } catch {
      // No user repositories folder yet: only the bundled repositories.
    }

    const sources = [
      ...BUNDLED_REPOSITORIES.map((name) => ({bundled: true, dir: join(bundledAddonsDir, name), name})),
      ...userNames.map((name) => ({bundled: false, dir: join(userDir, name), name})),
    ]
    const warnings: string[] = []
    const repositories = (
      await Promise.all(
        sources.map(async ({bundled, dir, name}) => {
          try {
            return {...(await loadRepositoryIndex(dir, name)), bundled}
          } catch (error) {
            if (!(error instanceof UserError)) throw error
            warnings.push(`could not load addons from ${dir}: ${error.message}`)
            return undefined
          }
        }),
      )
    ).filter((repo): repo is LoadedRepository => repo !== undefined)
    const confinement = options.confinement ?? (env.MK8S_CONFINEMENT === 'strict' ? 'strict' : 'classic')
    return new AddonCatalog(repositories, warnings, options.arch ?? env.MK8S_ARCH ?? hostArch(), confinement)
  }

  repository(name: string): LoadedRepository | undefined {
    return this.repositories.find((repo) => repo.name === name)
  }

  /** Addons for this architecture and confinement, sorted by repository and name, as MicroK8s lists them. */
  available(arch = this.arch): AddonEntry[] {
    return this.repositories
      .flatMap((repo) => repo.entries)
      .filter((entry) => entry.architectures.includes(arch))
      .filter((entry) => !entry.confinement || entry.confinement.includes(this.confinement))
      .sort((a, b) => compareText(a.repository, b.repository) || compareText(a.name, b.name))
  }

  /** The addon a `repo/name` names, by its name or one of its aliases. */
  find(ref: AddonRef, arch = this.arch): AddonEntry | undefined {
    return this.available(arch).find(
      (entry) => entry.repository === ref.repository && (entry.name === ref.name || entry.aliases?.includes(ref.name)),
    )
  }

  /** Parses addon tokens with MicroK8s's grammar against the available addons. */
  parse(tokens: string[], arch = this.arch, extra: AddonRef[] = []) {
    const community = this.repository('community')
    const communityNames = new Set(
      (community?.entries ?? []).filter((e) => e.architectures.includes(arch)).map((e) => e.name),
    )
    const entries = this.available(arch)
    const available: AddonRef[] = [
      ...entries,
      ...entries.flatMap((entry) => (entry.aliases ?? []).map((alias) => ({name: alias, repository: entry.repository}))),
    ]
    for (const ref of extra)
      if (!available.some((a) => a.name === ref.name && a.repository === ref.repository)) available.push(ref)
    const parsed = parseAddonArgs(tokens, available, communityNames)
    // An alias is the addon itself from here on: one record, one result, and naming both is naming it twice.
    const requests = parsed.requests.map((request) => {
      const entry = entries.find((e) => e.repository === request.repository && e.aliases?.includes(request.name))
      return entry ? {...request, name: entry.name} : request
    })
    const ids = requests.map((r) => `${r.repository}/${r.name}`)
    const twice = ids.find((id, i) => ids.indexOf(id) !== i)
    if (twice) throw new UsageError(`Addon ${twice} is named twice (once by an alias): name each addon once`)
    return {notices: parsed.notices, requests}
  }

  /** An entry for a `repo/name` the grammar produced; MicroK8s's "not found" message when it is not available. */
  entry(ref: AddonRef, arch = this.arch): AddonEntry {
    const entry = this.find(ref, arch)
    if (!entry) throw new UserError(`Addon ${ref.repository}/${ref.name} not found`)
    return entry
  }

  resolve(ref: string, from: string): AddonEntry {
    const matches = this.available().filter((e) => matchesAddonRef(e, ref))
    if (matches.length === 1) return matches[0]
    if (matches.length === 0) throw new UserError(`Addon ${from} requires ${ref}, which is not in any repository`)
    throw new UserError(
      `Addon ${from} requires ${ref}, which exists in more than one repository: ${matches.map(addonId).join(', ')}`,
    )
  }

  /** declarative when the addon has an addon.yaml, a MicroK8s hook addon otherwise; reads no file but that one's name. */
  async kindOf(entry: AddonEntry): Promise<Addon['kind']> {
    const dir = join(this.repository(entry.repository)!.dir, 'addons', entry.name)
    return (await pathExists(join(dir, ADDON_FILE))) ? 'declarative' : 'hook'
  }

  load(entry: AddonEntry): Promise<Addon> {
    const id = addonId(entry)
    let addon = this.loaded.get(id)
    if (!addon) {
      const repo = this.repository(entry.repository)!
      addon = loadAddon(repo, entry)
      this.loaded.set(id, addon)
    }

    return addon
  }
}
