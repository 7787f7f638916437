import {type IncomingMessage, type ServerResponse, createServer} from 'node:http'
import type {AddressInfo} from 'node:net'
import {join} from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'

import {HttpKubeClient} from '../../src/kube/http-client.js'
import {tempDir, writeTree} from '../helpers/repos.js'

/** What a 1.34 API server answers for discovery, by path; aggregated lists only to a client that asks for them. */
const GROUPS: Record<string, {kind: string; plural: string; scope: 'Cluster' | 'Namespaced'}[]> = {
  'apps/v1': [{kind: 'Deployment', plural: 'deployments', scope: 'Namespaced'}],
  'rbac.authorization.k8s.io/v1': [{kind: 'ClusterRole', plural: 'clusterroles', scope: 'Cluster'}],
  v1: [
    {kind: 'ConfigMap', plural: 'configmaps', scope: 'Namespaced'},
    {kind: 'Namespace', plural: 'namespaces', scope: 'Cluster'},
  ],
}

function aggregated(core: boolean, stale: Set<string>) {
  const versions = Object.keys(GROUPS).filter((gv) => gv.includes('/') !== core)
  return {
    apiVersion: 'apidiscovery.k8s.io/v2',
    items: versions.map((gv) => ({
      metadata: {name: core ? '' : gv.split('/')[0]},
      versions: [
        {
          freshness: stale.has(gv) ? 'Stale' : 'Current',
          resources: GROUPS[gv].map((r) => ({
            resource: r.plural,
            responseKind: {group: '', kind: r.kind, version: ''},
            scope: r.scope,
          })),
          version: gv.split('/').at(-1),
        },
      ],
    })),
    kind: 'APIGroupDiscoveryList',
  }
}

function groupList(gv: string) {
  return {
    groupVersion: gv,
    kind: 'APIResourceList',
    resources: GROUPS[gv].map((r) => ({kind: r.kind, name: r.plural, namespaced: r.scope === 'Namespaced'})),
  }
}

let close = () => {}

/** A client of a plain-HTTP server on loopback, with no credentials (mk8s sends none over plain HTTP). */
function loopbackClient(port: number, timeoutMs?: number): Promise<HttpKubeClient> {
  const dir = writeTree(tempDir(), {
    config: `apiVersion: v1\nclusters: [{name: c, cluster: {server: "http://127.0.0.1:${port}"}}]\nusers: [{name: u, user: {}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n`,
  })
  return HttpKubeClient.connect({kubeconfig: join(dir, 'config'), timeoutMs})
}
afterEach(() => close())

/** A discovery-only API server on loopback; `requests` lists the paths asked for, in order. */
async function discoveryServer(options: {aggregated: boolean; stale?: string[]}) {
  const requests: string[] = []
  const stale = new Set(options.stale ?? [])
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = req.url ?? ''
    requests.push(path)
    const wantsAggregated = options.aggregated && (req.headers.accept ?? '').includes('as=APIGroupDiscoveryList')
    let body: unknown
    if (path === '/api') body = wantsAggregated ? aggregated(true, stale) : {kind: 'APIVersions', versions: ['v1']}
    else if (path === '/apis') body = wantsAggregated ? aggregated(false, stale) : {groups: [], kind: 'APIGroupList'}
    else if (path.startsWith('/api/') || path.startsWith('/apis/')) {
      const gv = path.replace(/^\/apis?\//, '')
      if (GROUPS[gv]) body = groupList(gv)
    }

    res.writeHead(body ? 200 : 404, {'Content-Type': 'application/json'})
    res.end(JSON.stringify(body ?? {code: 404, kind: 'Status', message: 'not found'}))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  close = () => server.close()
  const port = (server.address() as AddressInfo).port
  const client = await loopbackClient(port)
  return {client, requests}
}

const LOOKUPS = [
  ['v1', 'ConfigMap'],
  ['v1', 'Namespace'],
  ['apps/v1', 'Deployment'],
  ['rbac.authorization.k8s.io/v1', 'ClusterRole'],
] as const

describe('discovery', () => {
  it('reads every group with the two aggregated requests when prefetched, however many groups are looked up', async () => {
    const {client, requests} = await discoveryServer({aggregated: true})
    client.prefetchDiscovery()
    const scoped = await Promise.all(LOOKUPS.map(([apiVersion, kind]) => client.isNamespaced(apiVersion, kind)))
    client.close()
    expect(scoped).toEqual([true, false, true, false])
    expect(requests.sort()).toEqual(['/api', '/apis'])
  })

  it('asks group by group when the server answers plain lists, or a group version is stale', async () => {
    const plain = await discoveryServer({aggregated: false})
    plain.client.prefetchDiscovery()
    expect(await Promise.all(LOOKUPS.map(([v, k]) => plain.client.isNamespaced(v, k)))).toEqual([
      true,
      false,
      true,
      false,
    ])
    plain.client.close()
    expect(plain.requests.slice(2).sort()).toEqual(['/api/v1', '/apis/apps/v1', '/apis/rbac.authorization.k8s.io/v1'])
    close()

    const stale = await discoveryServer({aggregated: true, stale: ['apps/v1']})
    stale.client.prefetchDiscovery()
    expect(await stale.client.isNamespaced('apps/v1', 'Deployment')).toBe(true)
    expect(await stale.client.isNamespaced('v1', 'ConfigMap')).toBe(true)
    stale.client.close()
    expect(stale.requests.sort()).toEqual(['/api', '/apis', '/apis/apps/v1'])
  })

  it('asks the group again for a kind its prefetched list did not have (a CRD applied since)', async () => {
    const {client, requests} = await discoveryServer({aggregated: true})
    client.prefetchDiscovery()
    expect(await client.isNamespaced('v1', 'ConfigMap')).toBe(true)
    GROUPS['apps/v1'].push({kind: 'StatefulSet', plural: 'statefulsets', scope: 'Namespaced'})
    try {
      expect(await client.isNamespaced('apps/v1', 'StatefulSet')).toBe(true)
    } finally {
      GROUPS['apps/v1'].pop()
    }

    client.close()
    expect(requests.sort()).toEqual(['/api', '/apis', '/apis/apps/v1'])
  })
})

describe('bounded reads', () => {
  it('refuses an answer larger than 128 MiB, naming the request, and stops reading it', async () => {
    let sent = 0
    const server = createServer((_req, res) => {
      res.writeHead(200, {'Content-Type': 'application/json'})
      const chunk = Buffer.alloc(1024 * 1024, 32)
      // Endless: only the client's limit ends it.
      const write = () => {
        while (!res.destroyed && res.write(chunk)) sent += chunk.length
        if (!res.destroyed) res.once('drain', write)
      }

      write()
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    close = () => {
      server.closeAllConnections()
      server.close()
    }

    const port = (server.address() as AddressInfo).port
    const client = await loopbackClient(port)
    await expect(client.serverVersion()).rejects.toThrow(/answered GET \/version with more than 128 MiB/)
    client.close()
    expect(sent).toBeLessThan(160 * 1024 * 1024)
  }, 20_000)
})

describe('turned-away requests', () => {
  /** A /version server whose first answers are `refusals` (status and Retry-After), then 200; counts requests. */
  async function refusingServer(refusals: {code: number; retryAfter?: string}[], timeoutMs?: number) {
    let requests = 0
    const server = createServer((_req, res) => {
      const refusal = refusals[requests++]
      if (refusal) {
        const headers = {
          'Content-Type': 'application/json',
          ...(refusal.retryAfter ? {'Retry-After': refusal.retryAfter} : {}),
        }
        res.writeHead(refusal.code, headers)
        res.end(JSON.stringify({code: refusal.code, kind: 'Status', message: `refused with ${refusal.code}`}))
        return
      }

      res.writeHead(200, {'Content-Type': 'application/json'})
      res.end(JSON.stringify({gitVersion: 'v1.34.4'}))
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    close = () => server.close()
    const client = await loopbackClient((server.address() as AddressInfo).port, timeoutMs)
    return {client, requests: () => requests}
  }

  it('sends a request the server throttled (429) again after the Retry-After it gives', async () => {
    const {client, requests} = await refusingServer([
      {code: 429, retryAfter: '1'},
      {code: 429, retryAfter: '0'},
    ])
    const started = Date.now()
    expect(await client.serverVersion()).toBe('v1.34.4')
    client.close()
    expect(requests()).toBe(3)
    expect(Date.now() - started).toBeGreaterThanOrEqual(950)
  })

  it('sends again a 5xx only when it says Retry-After, and gives up after 10 tries', async () => {
    const unavailable = await refusingServer([{code: 503, retryAfter: '0'}, {code: 500}])
    await expect(unavailable.client.serverVersion()).rejects.toThrow('refused with 500 (sent 2 times)')
    unavailable.client.close()
    expect(unavailable.requests()).toBe(2)
    close()

    const throttled = await refusingServer(Array.from({length: 20}, () => ({code: 429, retryAfter: '0'})))
    await expect(throttled.client.serverVersion()).rejects.toThrow('refused with 429 (sent 10 times)')
    throttled.client.close()
    expect(throttled.requests()).toBe(10)
  })

  it('reports the refusal at once when the wait asked for would outlast the command', async () => {
    const {client, requests} = await refusingServer([{code: 429, retryAfter: '5'}], 2000)
    const started = Date.now()
    await expect(client.serverVersion()).rejects.toThrow(/^refused with 429$/)
    client.close()
    expect(requests()).toBe(1)
    expect(Date.now() - started).toBeLessThan(1000)
  })
})
