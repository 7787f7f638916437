import {join} from 'node:path'

import {UserError} from '../errors.js'
import {pathExists} from '../host/fs.js'
import {AddonCatalog} from './catalog.js'
import {ADDON_FILE} from './repository.js'

export interface AddonListing {
  architectures: string[]
  description: string
  kind: 'declarative' | 'hook'
  name: string
  repository: string
  version: string
}

/** The available addons with their kind, without parsing every addon.yaml. */
export async function listAddons(options: {repository?: string} = {}): Promise<{addons: AddonListing[]; warnings: string[]}> {
  const catalog = await AddonCatalog.load()
  if (options.repository && !catalog.repository(options.repository)) {
    throw new UserError(`Error: repository '${options.repository}' does not exist`)
  }

  const entries = catalog.available().filter((e) => !options.repository || e.repository === options.repository)
  const addons = await Promise.all(
    entries.map(async (entry) => {
      const dir = join(catalog.repository(entry.repository)!.dir, 'addons', entry.name)
      const declarative = await pathExists(join(dir, ADDON_FILE))
      return {
        architectures: entry.architectures,
        description: entry.description,
        kind: declarative ? ('declarative' as const) : ('hook' as const),
        name: entry.name,
        repository: entry.repository,
        version: entry.version,
      }
    }),
  )
  return {addons, warnings: catalog.warnings}
}
