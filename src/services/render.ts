import {UserError} from '../errors.js'
import {addonId} from '../models/addon.js'
import {dumpYaml} from '../models/yaml-source.js'
import {type ImageOverrides} from '../render/images.js'
import {readValuesFiles} from '../addons/options.js'
import {type AddonPlan, DEFAULT_KUBE_VERSION, declarativeAddon, planAddon} from '../addons/plan.js'
import {AddonCatalog} from '../addons/catalog.js'

export interface RenderOptions {
  arch?: string
  imageOverrides?: ImageOverrides
  kubeVersion?: string
  set?: string[]
  tokens: string[]
  valuesFiles?: string[]
}

export interface RenderResult {
  notices: string[]
  plan: AddonPlan
}

/** Renders one addon offline, with no cluster: the addon grammar, typed options and image overrides all apply. */
export async function renderOffline(options: RenderOptions): Promise<RenderResult> {
  const catalog = await AddonCatalog.load({arch: options.arch})
  const arch = options.arch ?? catalog.arch
  const {notices, requests} = catalog.parse(options.tokens, arch)
  if (requests.length !== 1)
    throw new UserError(`render takes one addon; got ${requests.map((r) => r.name).join(', ')}`)
  const addon = await declarativeAddon(catalog, requests[0], arch)
  const values = await readValuesFiles(options.valuesFiles)
  const plan = await planAddon(
    addon,
    {args: requests[0].args, imageOverrides: options.imageOverrides, set: options.set, values},
    {arch, version: options.kubeVersion ?? DEFAULT_KUBE_VERSION},
  )
  return {notices: [...catalog.warnings, ...notices], plan}
}

/** Multi-document YAML with a `# Source:` line per object, as `helm template` prints. */
export function formatManifests(plan: AddonPlan): string {
  const id = addonId(plan.addon.entry)
  return plan.objects.map(({object, template}) => `---\n# Source: ${id}/${template}\n${dumpYaml(object)}`).join('')
}
