import {type ChildProcess, execFile, spawn} from 'node:child_process'
import {join} from 'node:path'
import {promisify} from 'node:util'

import {repoRoot} from '../helpers/repos.js'
import {kubeconfig} from './cluster.js'

const run = promisify(execFile)

export interface CliResult {
  code: number
  stderr: string
  stdout: string
}

export function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {...process.env, KUBECONFIG: kubeconfig, ...extra}
}

/** Runs the built mk8s against the test cluster; never throws. */
export async function mk8s(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  try {
    const {stderr, stdout} = await run(join(repoRoot, 'bin/run.js'), args, {env: cliEnv(env)})
    return {code: 0, stderr, stdout}
  } catch (error) {
    const failed = error as {code: number; stderr: string; stdout: string}
    return {code: failed.code, stderr: failed.stderr, stdout: failed.stdout}
  }
}

export function startMk8s(args: string[], env: Record<string, string> = {}): {child: ChildProcess; done: Promise<CliResult>} {
  const child = spawn(join(repoRoot, 'bin/run.js'), args, {env: cliEnv(env)})
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (chunk) => (stdout += chunk))
  child.stderr!.on('data', (chunk) => (stderr += chunk))
  const done = new Promise<CliResult>((resolve) => child.on('close', (code, signal) => resolve({code: code ?? (signal ? 128 : 1), stderr, stdout})))
  return {child, done}
}
