import {UserError} from '../errors.js'
import {AddonCatalog} from '../addons/catalog.js'

export interface AddonListing {
  architectures: string[]
  description: string
  kind: 'declarative' | 'hook'
  name: string
  repository: string
  version: string
}

/** The available addons with their kind, without parsing every addon.yaml. */
export async function listAddons(
  options: {repository?: string} = {},
): Promise<{addons: AddonListing[]; warnings: string[]}> {
  const catalog = await AddonCatalog.load()
  if (options.repository && !catalog.repository(options.repository)) {
    throw new UserError(`Error: repository '${options.repository}' does not exist`)
  }

  const entries = catalog.available().filter((e) => !options.repository || e.repository === options.repository)
  const addons = await Promise.all(
    entries.map(async (entry) => {
      return {
        architectures: entry.architectures,
        description: entry.description,
        kind: await catalog.kindOf(entry),
        name: entry.name,
        repository: entry.repository,
        version: entry.version,
      }
    }),
  )
  return {addons, warnings: catalog.warnings}
}
