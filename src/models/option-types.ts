import ipaddr from 'ipaddr.js'

export const OPTION_TYPES = [
  'string',
  'integer',
  'boolean',
  'enum',
  'list',
  'ip',
  'ipv4',
  'ipv6',
  'cidr',
  'ipRange',
  'quantity',
  'namespacedName',
  'dnsName',
] as const

export type OptionType = (typeof OPTION_TYPES)[number]
export type OptionValue = boolean | null | number | string | string[]

export interface OptionSpec {
  default?: unknown
  description: string
  /** A value `addons lint` renders a required option with (and help shows); checked like a default. */
  example?: unknown
  items?: Exclude<OptionType, 'list'>
  max?: number
  /** The least value: a number, or for a quantity a quantity (`20Gi`). */
  min?: number | string
  position?: number
  required?: boolean
  type: OptionType
  values?: (boolean | number | string)[]
}

/** Thrown by a converter; the caller adds which option and where the value came from. */
export class OptionValueError extends Error {}

/** A value quoted in a message is cut: a user's megabyte-long value must not become a megabyte-long error. */
const MAX_MESSAGE = 240

const fail = (message: string): never => {
  throw new OptionValueError(message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE)}…` : message)
}

function text(raw: unknown): string {
  if (typeof raw === 'string') return raw.trim()
  if (typeof raw === 'number' || typeof raw === 'boolean') return String(raw)
  return fail(`expected a single value, got ${JSON.stringify(raw)}`)
}

// ipaddr.js also takes the legacy shorthand forms (1.2.3, 0x7f.1); an option value must be a dotted quad or IPv6.
function isAddress(value: string): boolean {
  return ipaddr.IPv4.isValidFourPartDecimal(value) || ipaddr.IPv6.isValid(value)
}

function ip(raw: unknown, family?: 'ipv4' | 'ipv6'): string {
  const value = text(raw)
  if (family === 'ipv4' ? !ipaddr.IPv4.isValidFourPartDecimal(value) : !isAddress(value)) {
    fail(`"${value}" is not a valid ${family === 'ipv4' ? 'IPv4' : family === 'ipv6' ? 'IPv6' : 'IP'} address`)
  }

  const parsed = ipaddr.parse(value)
  if (family === 'ipv6' && parsed.kind() !== 'ipv6') fail(`"${value}" is not an IPv6 address`)
  return parsed.toString()
}

function cidr(raw: unknown): string {
  const value = text(raw)
  try {
    if (!isAddress(value.split('/')[0])) throw new Error('not an address')
    const [address, bits] = ipaddr.parseCIDR(value)
    return `${address.toString()}/${bits}`
  } catch {
    return fail(`"${value}" is not a valid CIDR (address/prefix)`)
  }
}

function ipRange(raw: unknown): string {
  const value = text(raw)
  // A range is `first-last` of one family; a CIDR is accepted too, as MetalLB does.
  if (value.includes('/')) return cidr(value)
  const parts = value.split('-')
  if (parts.length !== 2) fail(`"${value}" is not an IP range (first-last)`)
  const [first, last] = parts.map((part) => {
    if (!isAddress(part.trim())) fail(`"${part.trim()}" in range "${value}" is not a valid IP address`)
    return ipaddr.parse(part.trim())
  })
  if (first.kind() !== last.kind()) fail(`range "${value}" mixes IPv4 and IPv6`)
  const a = first.toByteArray()
  const b = last.toByteArray()
  const order = a.findIndex((byte, i) => byte !== b[i])
  if (order !== -1 && a[order] > b[order]) fail(`range "${value}" ends before it starts`)
  return `${first.toString()}-${last.toString()}`
}

// Kubernetes resource.Quantity: a signed decimal number with an optional binary, decimal or exponent suffix.
const QUANTITY = /^[+-]?(\d+(\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?\d+)?$/
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/

const QUANTITY_SUFFIX: Record<string, number> = {
  '': 1,
  E: 1e18,
  Ei: 2 ** 60,
  G: 1e9,
  Gi: 2 ** 30,
  k: 1e3,
  Ki: 2 ** 10,
  M: 1e6,
  Mi: 2 ** 20,
  P: 1e15,
  Pi: 2 ** 50,
  T: 1e12,
  Ti: 2 ** 40,
  m: 1e-3,
  n: 1e-9,
  u: 1e-6,
}

/** A quantity as a number, for comparing (20Gi against 21474836480); exponents as written (1e3). */
export function quantityValue(quantity: string): number {
  const match = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))([a-zA-Z]*|[eE][+-]?\d+)$/.exec(quantity)
  if (!match) return Number.NaN
  const [, number, suffix] = match
  if (/^[eE]/.test(suffix)) return Number(number + suffix)
  return Number(number) * (QUANTITY_SUFFIX[suffix] ?? Number.NaN)
}

function dnsName(raw: unknown): string {
  const value = text(raw).toLowerCase()
  if (value.length > 253 || !value.split('.').every((label) => DNS_LABEL.test(label))) {
    fail(`"${value}" is not a valid DNS name`)
  }

  return value
}

function scalarOf(type: Exclude<OptionType, 'list'>, raw: unknown, spec: OptionSpec): OptionValue {
  switch (type) {
    case 'boolean': {
      if (typeof raw === 'boolean') return raw
      const value = text(raw).toLowerCase()
      if (['1', 'on', 'true', 'yes'].includes(value)) return true
      if (['0', 'false', 'no', 'off'].includes(value)) return false
      return fail(`"${value}" is not a boolean (true or false)`)
    }

    case 'cidr': {
      return cidr(raw)
    }

    case 'dnsName': {
      return dnsName(raw)
    }

    case 'enum': {
      const value = text(raw)
      const allowed = (spec.values ?? []).map(String)
      if (!allowed.includes(value)) fail(`"${value}" is not one of: ${allowed.join(', ')}`)
      return value
    }

    case 'integer': {
      const value = text(raw)
      if (!/^[+-]?\d+$/.test(value)) fail(`"${value}" is not an integer`)
      const number = Number(value)
      // Beyond 2^53 a number is no longer exact, and would render as 1e+23.
      if (!Number.isSafeInteger(number)) fail(`${value} is beyond the integers a number can hold exactly`)
      if (spec.min !== undefined && number < Number(spec.min)) fail(`${number} is less than the minimum ${spec.min}`)
      if (spec.max !== undefined && number > spec.max) fail(`${number} is more than the maximum ${spec.max}`)
      return number
    }

    case 'ip':
    case 'ipv4':
    case 'ipv6': {
      return ip(raw, type === 'ip' ? undefined : type)
    }

    case 'ipRange': {
      return ipRange(raw)
    }

    case 'namespacedName': {
      const value = text(raw)
      const parts = value.split('/')
      if (parts.length !== 2 || !parts.every((part) => DNS_LABEL.test(part) || /^[a-z0-9][-a-z0-9.]*$/.test(part))) {
        fail(`"${value}" is not namespace/name`)
      }

      return value
    }

    case 'quantity': {
      const value = text(raw)
      if (!QUANTITY.test(value)) fail(`"${value}" is not a Kubernetes quantity (for example 20Gi or 500m)`)
      if (spec.min !== undefined && quantityValue(value) < quantityValue(String(spec.min)))
        fail(`${value} is less than the minimum ${spec.min}`)
      return value
    }

    case 'string': {
      return text(raw)
    }
  }
}

/**
 * Converts a raw value (a command-line string or a YAML value) to the option's type.
 * Lists accept a YAML sequence or a string separated by commas or spaces, as MicroK8s hooks do.
 */
export function convertOption(spec: OptionSpec, raw: unknown): OptionValue {
  if (raw === null || raw === undefined) return null
  if (spec.type !== 'list') return scalarOf(spec.type, raw, spec)
  const items = Array.isArray(raw)
    ? raw
    : text(raw)
        .split(/[\s,]+/)
        .filter(Boolean)
  const itemType = spec.items ?? 'string'
  return items.map((item) => scalarOf(itemType, item, spec) as string)
}
