import Handlebars from 'handlebars'
import ipaddr from 'ipaddr.js'
import {readFileSync, readdirSync} from 'node:fs'
import {basename, join} from 'node:path'
import semver from 'semver'

import {dumpYaml} from '../models/yaml-source.js'
import {templatesDir} from '../paths.js'

type HelperOptions = Handlebars.HelperOptions

// Handlebars passes its options object as the last argument of every helper call.
const args = (values: unknown[]): unknown[] => values.slice(0, -1)

function indentText(spaces: number, text: unknown): string {
  const pad = ' '.repeat(spaces)
  return String(text ?? '')
    .split('\n')
    .map((line) => (line ? pad + line : line))
    .join('\n')
}

function compare(check: (a: number) => boolean) {
  return (a: unknown, b: unknown) => {
    if (typeof a === 'number' && typeof b === 'number') return check(a - b)
    return check(String(a).localeCompare(String(b), undefined, {numeric: true}))
  }
}

function addToAddress(address: string, n: number): string {
  if (!ipaddr.isValid(address) || !Number.isSafeInteger(n) || n < 0)
    throw new Error(`ipAdd: cannot add ${n} to "${address}"`)
  const bytes = ipaddr.parse(address).toByteArray()
  let carry = BigInt(n)
  for (let i = bytes.length - 1; i >= 0 && carry > 0n; i--) {
    const sum = BigInt(bytes[i]) + carry
    bytes[i] = Number(sum % 256n)
    carry = sum / 256n
  }

  if (carry > 0n) throw new Error(`ipAdd: ${address} + ${n} is beyond the last address`)
  return ipaddr.fromByteArray(bytes).toString()
}

let environment: typeof Handlebars | undefined

/** One Handlebars environment with mk8s's helpers and the shared partials from templates/partials. */
export function handlebars(): typeof Handlebars {
  if (environment) return environment
  const hb = Handlebars.create()
  // The built-in `log` helper writes through console.log, which would put a template's words into the manifests
  // (or the --json document) on stdout: it goes to stderr instead.
  hb.registerHelper('log', (...values: unknown[]) => {
    process.stderr.write(`${args(values).map(String).join(' ')}\n`)
    return ''
  })
  hb.registerHelper({
    and: (...values: unknown[]) => args(values).every(Boolean),
    // `split "ns/name" "/" 0` → "ns": one part of a value, by position.
    split: (value: unknown, separator: unknown, index: unknown) =>
      String(value ?? '').split(String(separator))[Number(index)] ?? '',
    // `ipAdd cluster.kubernetesServiceIp 9`: an address n after another, in the same family (the tenth of a range).
    ipAdd: (address: unknown, n: unknown) => addToAddress(String(address), Number(n)),
    b64enc: (value: unknown) => Buffer.from(String(value ?? '')).toString('base64'),
    default: (value: unknown, fallback: unknown) =>
      value === undefined || value === null || value === '' || (Array.isArray(value) && value.length === 0)
        ? fallback
        : value,
    eq: (a: unknown, b: unknown) => a === b,
    ge: compare((d) => d >= 0),
    gt: compare((d) => d > 0),
    indent: (spaces: number, text: unknown) => indentText(spaces, text),
    join: (list: unknown, separator: unknown, options?: HelperOptions) =>
      (Array.isArray(list) ? list : [list]).join(options === undefined ? ',' : String(separator)),
    le: compare((d) => d <= 0),
    lt: compare((d) => d < 0),
    ne: (a: unknown, b: unknown) => a !== b,
    nindent: (spaces: number, text: unknown) => '\n' + indentText(spaces, text),
    not: (value: unknown) => !value,
    or: (...values: unknown[]) => args(values).some(Boolean),
    quote: (value: unknown) => JSON.stringify(String(value ?? '')),
    semver: (range: string, version: string) =>
      semver.satisfies(semver.coerce(version) ?? '0.0.0', range, {includePrerelease: true}),
    toYaml: (value: unknown) => dumpYaml(value).trimEnd(),
  })
  const partialsDir = join(templatesDir, 'partials')
  for (const file of readdirSync(partialsDir).filter((name) => name.endsWith('.hbs'))) {
    hb.registerPartial(basename(file, '.hbs'), readFileSync(join(partialsDir, file), 'utf8'))
  }

  environment = hb
  return hb
}
