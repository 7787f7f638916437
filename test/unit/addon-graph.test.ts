import {describe, expect, it} from 'vitest'

import {type AddonLookup, resolveRequires} from '../../src/addons/graph.js'
import {UserError} from '../../src/errors.js'
import {type Addon, type AddonEntry, addonId} from '../../src/models/addon.js'

function lookup(graph: Record<string, string[]>): AddonLookup {
  const entry = (name: string): AddonEntry => ({
    architectures: ['amd64'],
    checkStatus: '',
    description: name,
    name,
    repository: 'core',
    version: '1',
  })
  return {
    async load(e): Promise<Addon> {
      return {
        definition: {description: '', name: e.name, requires: graph[e.name], version: '1'},
        dir: '',
        entry: e,
        kind: 'declarative',
        manifests: [],
      }
    },
    resolve(ref, from) {
      const name = ref.replace(/^core\//, '')
      if (!(name in graph)) throw new UserError(`Addon ${from} requires ${ref}, which is not in any repository`)
      return entry(name)
    },
  }
}

const order = async (graph: Record<string, string[]>, targets: string[]) => {
  const l = lookup(graph)
  return (
    await resolveRequires(
      targets.map((t) => l.resolve(t, 'test')),
      l,
    )
  ).map((a) => addonId(a.entry))
}

describe('resolveRequires', () => {
  it('enables requirements first, transitively, each once', async () => {
    const graph = {dashboard: ['metrics-server', 'core/dns'], dns: [], 'metrics-server': ['dns'], registry: ['dns']}
    expect(await order(graph, ['dashboard', 'registry'])).toEqual([
      'core/dns',
      'core/metrics-server',
      'core/dashboard',
      'core/registry',
    ])
  })

  it('reports a cycle with its members in order', async () => {
    await expect(order({a: ['b'], b: ['c'], c: ['a']}, ['a'])).rejects.toThrow(
      'Addon requirements form a cycle: core/a -> core/b -> core/c -> core/a',
    )
  })

  it('reports an unknown requirement', async () => {
    await expect(order({a: ['ghost']}, ['a'])).rejects.toThrow(
      'Addon core/a requires ghost, which is not in any repository',
    )
  })
})
