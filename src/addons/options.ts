
import {UsageError, UserError, ValidationError} from '../errors.js'
import {MAX_INPUT_FILE_BYTES, readBounded} from '../host/fs.js'
import {type DeclarativeAddon, addonId} from '../models/addon.js'
import {type OptionSpec, type OptionValue, OptionValueError, convertOption} from '../models/option-types.js'
import {parseYamlSource} from '../models/yaml-source.js'
import {kebabCase} from '../util/text.js'

export interface OptionInputs {
  /** The options the addon was last enabled with, kept when it is enabled again without options. */
  previous?: Record<string, unknown>
  /** Tokens from the addon grammar: positionals, `name=value`, `--name value`, `--name=value`, `--flag`. */
  args?: string[]
  /** `--set key=value`, highest precedence. */
  set?: string[]
  /** Already-parsed values files (`-f`), in order; later files win. */
  values?: Record<string, unknown>[]
}

function findOption(options: Record<string, OptionSpec>, key: string): [string, OptionSpec] | undefined {
  const match = Object.entries(options).find(([name]) => name === key || kebabCase(name) === key)
  return match
}

const ADDRESS_TYPES = new Set(['cidr', 'ip', 'ipRange', 'ipv6'])

/**
 * `metallb:10.0.0.1-10.0.0.9,fd00::/120` splits the IPv6 part on its colons. When the last positional option holds
 * addresses and there are more positional parts than options, the extra parts are that option's value, rejoined
 * (MicroK8s would pass the pieces and lose the address).
 */
function rejoinAddresses(args: string[], positional: OptionSpec[]): string[] {
  const last = positional.at(-1)
  if (!last || !(ADDRESS_TYPES.has(last.type) || ADDRESS_TYPES.has(last.items ?? ''))) return args
  if (args.length <= positional.length || args.some((arg) => arg.startsWith('-') || arg.includes('='))) return args
  return [...args.slice(0, positional.length - 1), args.slice(positional.length - 1).join(':')]
}

/**
 * Resolves an addon's options: defaults, then values files, then the grammar's arguments, then --set.
 * Every value is converted to its declared type; errors say which option, what was wrong and where it came from.
 */
export function resolveOptions(
  addon: DeclarativeAddon,
  inputs: OptionInputs,
  specs: Record<string, OptionSpec> = addon.definition.options ?? {},
): Record<string, OptionValue> {
  const id = addonId(addon.entry)
  const raw = new Map<string, {from: string; value: unknown}>()
  const unknown = (key: string, from: string): never => {
    const names = Object.keys(specs).map(kebabCase)
    throw new UsageError(
      `${from}: ${id} has no option "${key}"${names.length > 0 ? ` (options: ${names.join(', ')})` : ' (it takes no options)'}`,
    )
  }

  const put = (key: string, value: unknown, from: string) => {
    const match = findOption(specs, key) ?? unknown(key, from)
    raw.set(match[0], {from, value})
  }

  for (const [key, value] of Object.entries(inputs.previous ?? {})) {
    // An option the new version no longer has is dropped, not an error.
    if (findOption(specs, key)) put(key, value, 'the options it was enabled with')
  }

  for (const [i, values] of (inputs.values ?? []).entries()) {
    for (const [key, value] of Object.entries(values)) put(key, value, `values file ${i + 1}`)
  }

  const positional = Object.entries(specs)
    .filter(([, spec]) => spec.position !== undefined)
    .sort(([, a], [, b]) => a.position! - b.position!)
  const args = rejoinAddresses(inputs.args ?? [], positional.map(([, spec]) => spec))
  let position = 0
  for (let i = 0; i < args.length; i++) {
    const token = args[i]
    if (token.startsWith('--')) {
      const body = token.slice(2)
      const eq = body.indexOf('=')
      const key = eq === -1 ? body : body.slice(0, eq)
      const negated = key.startsWith('no-') && !findOption(specs, key) ? findOption(specs, key.slice(3)) : undefined
      if (negated?.[1].type === 'boolean' && eq === -1) {
        put(key.slice(3), false, token)
        continue
      }

      const [name, spec] = findOption(specs, key) ?? unknown(key, token)
      if (eq !== -1) put(name, body.slice(eq + 1), token)
      else if (spec.type === 'boolean' && (i + 1 >= args.length || args[i + 1].startsWith('--'))) put(name, true, token)
      else if (i + 1 < args.length) put(name, args[++i], token)
      else throw new UsageError(`${token}: ${id} option needs a value`)
      continue
    }

    const eq = token.indexOf('=')
    if (eq > 0 && findOption(specs, token.slice(0, eq))) {
      put(token.slice(0, eq), token.slice(eq + 1), token)
      continue
    }

    // A boolean option named as a word sets it (`hostpath-storage:destroy-storage`), as MicroK8s hooks read such words.
    const word = findOption(specs, token)
    if (word?.[1].type === 'boolean') {
      put(word[0], true, token)
      continue
    }

    // An empty positional (`dns::10.0.0.1`) keeps the default, as an empty $1 does in MicroK8s hooks.
    if (token === '') {
      position++
      continue
    }

    if (position >= positional.length) {
      // `dns:2001:db8::1` splits an IPv6 address on its colons.
      const ipv6 = positional.some(([, spec]) => ['ip', 'ipv6'].includes(spec.type) || ['ip', 'ipv6'].includes(spec.items ?? ''))
      if (ipv6 && args.every((arg) => /^[0-9a-fA-F]{0,4}$/.test(arg))) {
        throw new UsageError(
          `${id}: an IPv6 address has ':' in it, which the addon:arg:arg form splits; give it in the space form: mk8s enable ${addon.entry.name} ${args.join(':')}`,
        )
      }

      throw new UsageError(
        `${id} takes ${positional.length === 0 ? 'no' : `at most ${positional.length}`} positional argument${positional.length === 1 ? '' : 's'}; "${token}" is one too many`,
      )
    }

    const [name] = positional[position++]
    put(name, token, `argument ${position} ("${token}")`)
  }

  for (const assignment of inputs.set ?? []) {
    const eq = assignment.indexOf('=')
    if (eq <= 0) throw new UsageError(`--set ${assignment}: expected key=value`)
    put(assignment.slice(0, eq).trim(), assignment.slice(eq + 1), `--set ${assignment}`)
  }

  const resolved: Record<string, OptionValue> = {}
  const problems = []
  for (const [name, spec] of Object.entries(specs)) {
    const given = raw.get(name)
    try {
      resolved[name] = convertOption(spec, given ? given.value : spec.default)
      if (spec.required && resolved[name] === null) problems.push({field: kebabCase(name), message: 'is required'})
    } catch (error) {
      if (!(error instanceof OptionValueError)) throw error
      problems.push({
        field: kebabCase(name),
        message: `${error.message}${given ? ` (from ${given.from})` : ' (default)'}`,
      })
    }
  }

  if (problems.length > 0) throw new ValidationError(`Invalid options for ${id}`, problems)
  return resolved
}

/** Reads `-f values.yaml` files: each must be a mapping of option names to values. */
export async function readValuesFiles(files: string[] = []): Promise<Record<string, unknown>[]> {
  return Promise.all(
    files.map(async (file) => {
      let text: string
      try {
        text = await readBounded(file, MAX_INPUT_FILE_BYTES)
      } catch (error) {
        if (error instanceof UserError) throw error
        throw new UserError(`Cannot read values file ${file}`)
      }

      const source = parseYamlSource(file, text)
      const data = source.data ?? {}
      if (typeof data !== 'object' || Array.isArray(data)) {
        throw new ValidationError('Invalid values file', [
          {file, line: 1, message: 'must be a mapping of option names to values'},
        ])
      }

      return data as Record<string, unknown>
    }),
  )
}
