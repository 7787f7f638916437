import {describe, expect, it} from 'vitest'

import {type AddonLookup, resolveRequires} from '../../src/addons/graph.js'
import {AddonCatalog} from '../../src/addons/catalog.js'
import {UserError} from '../../src/errors.js'
import {RepoService} from '../../src/services/repos.js'
import {declarativeRepoFiles, gitRepo, minimalAddon, tempDir} from '../helpers/repos.js'
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

  it('reports an unknown requirement through the real catalog, naming the addon that requires it', async () => {
    const home = tempDir('mk8s-home-')
    const files = declarativeRepoFiles({'addon.yaml': `${minimalAddon['addon.yaml']}requires: [ghost]\n`})
    await new RepoService({env: {...process.env, MK8S_HOME: home}}).add({name: 't', source: gitRepo(files)})
    const catalog = await AddonCatalog.load({arch: 'amd64', env: {MK8S_HOME: home}})
    await expect(resolveRequires([catalog.entry({name: 'demo', repository: 't'})], catalog)).rejects.toThrow(
      'Addon t/demo requires ghost, which is not in any repository',
    )
  })
})
