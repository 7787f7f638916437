import {agentTokenFile} from '../../scripts/cluster/cluster.mjs'
import {type CliResult, runMk8s, spawnMk8s} from '../helpers/cli.js'
import {clusterDir, kubeconfig} from './cluster.js'

/** What `.cluster/env` exports: the test cluster's kubeconfig and its agents' token. */
const clusterEnv = () => ({KUBECONFIG: kubeconfig, MK8S_AGENT_TOKEN_FILE: agentTokenFile(clusterDir)})

/** mk8s against the test cluster. */
export const mk8s = (args: string[], env: Record<string, string> = {}): Promise<CliResult> =>
  runMk8s(args, {...clusterEnv(), ...env})

export const startMk8s = (args: string[], env: Record<string, string> = {}) =>
  spawnMk8s(args, {...clusterEnv(), ...env})
