import {describe, expect, it} from 'vitest'

import {type OptionSpec, OptionValueError, convertOption} from '../../src/models/option-types.js'

const spec = (type: OptionSpec['type'], extra: Partial<OptionSpec> = {}): OptionSpec => ({
  description: 'x',
  type,
  ...extra,
})
const bad = (s: OptionSpec, value: unknown) => () => convertOption(s, value)

describe('convertOption', () => {
  it('converts strings, integers and booleans, with limits', () => {
    expect(convertOption(spec('string'), ' a ')).toBe('a')
    expect(convertOption(spec('integer'), '42')).toBe(42)
    expect(convertOption(spec('boolean'), 'yes')).toBe(true)
    expect(convertOption(spec('boolean'), false)).toBe(false)
    expect(bad(spec('integer'), '4.2')).toThrow('"4.2" is not an integer')
    expect(bad(spec('integer', {min: 1}), '0')).toThrow('less than the minimum 1')
    expect(bad(spec('integer', {max: 3}), 4)).toThrow('more than the maximum 3')
    expect(bad(spec('boolean'), 'maybe')).toThrow(OptionValueError)
  })

  it('accepts only declared enum values', () => {
    const s = spec('enum', {values: ['a', 'b']})
    expect(convertOption(s, 'b')).toBe('b')
    expect(bad(s, 'c')).toThrow('"c" is not one of: a, b')
  })

  it('splits lists on commas and spaces and types each item', () => {
    expect(convertOption(spec('list', {items: 'ip'}), '8.8.8.8,1.1.1.1 ::1')).toEqual(['8.8.8.8', '1.1.1.1', '::1'])
    expect(convertOption(spec('list'), ['a', 'b'])).toEqual(['a', 'b'])
    expect(bad(spec('list', {items: 'ipv4'}), '8.8.8.8,nope')).toThrow('"nope" is not a valid IPv4 address')
  })

  it('validates IPv4 and IPv6 addresses', () => {
    expect(convertOption(spec('ip'), '2001:DB8::1')).toBe('2001:db8::1')
    expect(convertOption(spec('ipv4'), '10.0.0.1')).toBe('10.0.0.1')
    expect(bad(spec('ipv4'), '10.0.0')).toThrow('not a valid IPv4 address')
    expect(bad(spec('ipv4'), '::1')).toThrow('not a valid IPv4 address')
    expect(bad(spec('ipv6'), '10.0.0.1')).toThrow('not an IPv6 address')
    expect(bad(spec('ip'), '256.0.0.1')).toThrow('not a valid IP address')
    expect(bad(spec('ip'), '1.2.3')).toThrow('not a valid IP address')
    expect(bad(spec('cidr'), '10.0/8')).toThrow('not a valid CIDR')
  })

  it('validates CIDRs', () => {
    expect(convertOption(spec('cidr'), '10.152.183.0/24')).toBe('10.152.183.0/24')
    expect(convertOption(spec('cidr'), 'fd00::/64')).toBe('fd00::/64')
    expect(bad(spec('cidr'), '10.0.0.0/33')).toThrow('not a valid CIDR')
    expect(bad(spec('cidr'), '10.0.0.0')).toThrow('not a valid CIDR')
  })

  it('validates IP ranges of one family, in order (IPv4 and IPv6)', () => {
    expect(convertOption(spec('ipRange'), '10.0.0.1-10.0.0.9')).toBe('10.0.0.1-10.0.0.9')
    expect(convertOption(spec('ipRange'), 'fd00::1-fd00::ff')).toBe('fd00::1-fd00::ff')
    expect(convertOption(spec('list', {items: 'ipRange'}), '10.0.0.1-10.0.0.9,fd00::1-fd00::ff')).toHaveLength(2)
    expect(bad(spec('ipRange'), '10.0.0.9-10.0.0.1')).toThrow('ends before it starts')
    expect(bad(spec('ipRange'), '10.0.0.1-fd00::1')).toThrow('mixes IPv4 and IPv6')
    expect(bad(spec('ipRange'), '10.0.0.1')).toThrow('is not an IP range')
    expect(bad(spec('ipRange'), '10.0.0.1-10.0.0.x')).toThrow('"10.0.0.x" in range')
  })

  it('validates Kubernetes quantities', () => {
    for (const q of ['20Gi', '500m', '1', '1.5', '2e3', '100Mi']) expect(convertOption(spec('quantity'), q)).toBe(q)
    expect(bad(spec('quantity'), '20GB')).toThrow('not a Kubernetes quantity')
    expect(bad(spec('quantity'), 'Gi')).toThrow('not a Kubernetes quantity')
  })

  it('validates namespace/name and DNS names', () => {
    expect(convertOption(spec('namespacedName'), 'ingress/tls-cert')).toBe('ingress/tls-cert')
    expect(bad(spec('namespacedName'), 'ingress')).toThrow('is not namespace/name')
    expect(bad(spec('namespacedName'), 'a/b/c')).toThrow('is not namespace/name')
    expect(convertOption(spec('dnsName'), 'Cluster.Local')).toBe('cluster.local')
    expect(bad(spec('dnsName'), 'bad_name.local')).toThrow('not a valid DNS name')
    expect(bad(spec('dnsName'), '-a.local')).toThrow('not a valid DNS name')
  })

  it('leaves null as null (an option without a default)', () => {
    expect(convertOption(spec('ip'), undefined)).toBeNull()
  })
})
