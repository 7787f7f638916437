import {addonId} from '../models/addon.js'
import {kebabCase, matchesAddonRef} from '../util/text.js'
import type {AddonCatalog} from './catalog.js'

/** True when MicroK8s would answer with an addon's help instead of running it: `-h` or `--help` among the addons. */
export function asksForHelp(tokens: string[]): boolean {
  return tokens.some((token) => token === '-h' || token === '--help')
}

/**
 * The help of the first addon named: a declarative addon's options with their types, positions and defaults.
 * MicroK8s has no help for hook addons and says so; so does mk8s. Nothing is enabled or rendered.
 */
export async function addonHelp(catalog: AddonCatalog, tokens: string[]): Promise<string> {
  const first = tokens.find((token) => token !== '-h' && token !== '--help' && token !== '--')
  const generic = (name: string) =>
    `Addon ${name} does not yet have a help message.\nFor more information about it, visit https://microk8s.io/docs/addons`
  if (!first) return 'Name an addon to see its help, for example: mk8s enable dns -- --help'
  const name = first.split(':')[0]
  const entry = catalog.available().find((e) => matchesAddonRef(e, name))
  if (!entry) return generic(name)
  const addon = await catalog.load(entry)
  if (addon.kind !== 'declarative') return generic(addonId(entry))
  const options = Object.entries(addon.definition.options ?? {})
  const lines = [`${addonId(entry)} ${addon.definition.version}: ${addon.definition.description}`, '']
  if (options.length === 0) lines.push('This addon takes no options.')
  else {
    const positional = options
      .filter(([, spec]) => spec.position !== undefined)
      .sort(([, a], [, b]) => a.position! - b.position!)
    if (positional.length > 0)
      lines.push(
        `Usage: ${entry.name}:${positional.map(([key]) => `<${kebabCase(key)}>`).join(':')}  or  ${entry.name} ${positional.map(([key]) => `<${kebabCase(key)}>`).join(' ')}`,
        '',
      )
    lines.push('Options:')
    for (const [key, spec] of options) {
      const type =
        spec.type === 'list'
          ? `list of ${spec.items ?? 'string'}`
          : spec.type === 'enum'
            ? `one of ${(spec.values ?? []).join('|')}`
            : spec.type
      const fallback =
        spec.default === undefined || spec.default === null
          ? ''
          : ` (default: ${Array.isArray(spec.default) ? spec.default.join(',') : String(spec.default)})`
      const show = (value: unknown) => (Array.isArray(value) ? value.join(',') : String(value))
      const example = spec.example === undefined ? '' : ` (example: ${show(spec.example)})`
      lines.push(
        `  --${kebabCase(key)} <${type}>  ${spec.description}${fallback}${spec.required ? ' (required)' : ''}${example}`,
      )
    }
  }

  return lines.join('\n')
}
