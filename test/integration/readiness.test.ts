import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {HttpKubeClient} from '../../src/kube/http-client.js'
import {readinessOf} from '../../src/kube/readiness.js'
import {sleep} from '../../src/util/async.js'
import {gitRepo, labelGatedAddon, tempDir} from '../helpers/repos.js'
import {eventually, kubeconfig, kubectl} from './cluster.js'
import {mk8s, startMk8s} from './cli.js'

const env = {MK8S_HOME: tempDir('mk8s-it-ready-home-')}

// Its pod needs a node labelled mk8s-prompt=ready: the test decides when it can become ready.
const repository = {
  'addons.yaml': `microk8s-addons:
  description: readiness test
  addons:
    - {name: prompt, description: Prompt, version: "1.0.0", check_status: deployment.apps/prompt, supported_architectures: [amd64, arm64]}
`,
  ...labelGatedAddon('prompt', {label: 'mk8s-prompt'}),
}

beforeAll(async () => {
  expect((await mk8s(['addons', 'repo', 'add', 'rt', gitRepo(repository)], env)).code).toBe(0)
})

afterAll(async () => {
  kubectl(['label', 'node', 'node-2', 'mk8s-prompt-'])
  await mk8s(['disable', 'rt/prompt'], env)
})

describe('waiting for readiness', () => {
  it('returns promptly once the last object is ready: it watches, it does not poll', async () => {
    const enable = startMk8s(['enable', 'rt/prompt', '--timeout', '60s'], env)
    const client = await HttpKubeClient.connect({kubeconfig})
    try {
      // The enable is waiting: its Deployment exists and cannot become ready yet.
      await eventually(async () => {
        const deployment = await client.get({
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          name: 'prompt',
          namespace: 'default',
        })
        expect(deployment).toBeDefined()
      })
      await sleep(1000)
      kubectl(['label', 'node', 'node-2', 'mk8s-prompt=ready', '--overwrite'])
      // When the Deployment becomes ready, as a 20 ms poll sees it.
      let readyAt = 0
      let exitedAt = 0
      void enable.done.then(() => (exitedAt = Date.now()))
      while (!readyAt) {
        const deployment = await client.get({
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          name: 'prompt',
          namespace: 'default',
        })
        if (deployment && readinessOf(deployment).state === 'ready') readyAt = Date.now()
        else await sleep(20)
      }

      const result = await enable.done
      expect(result.code, result.stderr).toBe(0)
      // The record is written and the process exits in well under 300 ms; a 500 ms poll would often miss this.
      expect(exitedAt - readyAt).toBeLessThan(300)
    } finally {
      client.close()
    }
  })
})
