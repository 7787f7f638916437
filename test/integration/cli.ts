import {type CliResult, runMk8s, spawnMk8s} from '../helpers/cli.js'
import {kubeconfig} from './cluster.js'

/** mk8s against the test cluster. */
export const mk8s = (args: string[], env: Record<string, string> = {}): Promise<CliResult> =>
  runMk8s(args, {KUBECONFIG: kubeconfig, ...env})

export const startMk8s = (args: string[], env: Record<string, string> = {}) =>
  spawnMk8s(args, {KUBECONFIG: kubeconfig, ...env})
