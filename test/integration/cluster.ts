import {execFileSync} from 'node:child_process'
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {defaultClusterDir, restartApiserver} from '../../scripts/cluster/cluster.mjs'

export const clusterDir = defaultClusterDir
export const kubeconfig = join(clusterDir, 'kubeconfig')
const state = () => JSON.parse(readFileSync(join(clusterDir, 'state.json'), 'utf8')) as {bin: string}

/** kubectl of the harness against the test cluster; throws with kubectl's stderr on failure. */
export function kubectl(args: string[], input?: string): string {
  return execFileSync(join(state().bin, 'kubectl'), ['--kubeconfig', kubeconfig, ...args], {
    encoding: 'utf8',
    input,
    stdio: ['pipe', 'pipe', 'pipe'],
  })
}

export function kubectlJson<T = {items: Record<string, unknown>[]}>(args: string[]): T {
  return JSON.parse(kubectl([...args, '-o', 'json'])) as T
}

export const apiserverArgsFile = join(clusterDir, 'nodes', 'node-1', 'args', 'kube-apiserver')

/** Edits node-1's kube-apiserver args file and restarts the API server from it, as the agent will. */
export async function editApiserverArgs(edit: (text: string) => string): Promise<void> {
  writeFileSync(apiserverArgsFile, edit(readFileSync(apiserverArgsFile, 'utf8')))
  await restartApiserver(clusterDir)
}

export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  while (Date.now() < deadline) {
    try {
      return await check()
    } catch (error) {
      last = error
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
  }

  throw last
}
