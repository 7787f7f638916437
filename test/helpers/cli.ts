import {type ChildProcess, execFile, spawn} from 'node:child_process'
import {join} from 'node:path'
import {promisify} from 'node:util'

import {repoRoot} from './repos.js'

const run = promisify(execFile)
const bin = join(repoRoot, 'bin/run.js')

export interface CliResult {
  code: number
  stderr: string
  stdout: string
}

/** Runs the built CLI as a user would, with extra environment; never throws. */
export async function runMk8s(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  try {
    const {stderr, stdout} = await run(bin, args, {env: {...process.env, ...env}})
    return {code: 0, stderr, stdout}
  } catch (error) {
    const failed = error as {code: number; stderr: string; stdout: string}
    return {code: failed.code, stderr: failed.stderr, stdout: failed.stdout}
  }
}

/** Starts the CLI in the background; `done` settles with its exit code and output. */
export function spawnMk8s(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): {child: ChildProcess; done: Promise<CliResult>} {
  const child = spawn(bin, args, {env: {...process.env, ...env}})
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (chunk) => (stdout += chunk))
  child.stderr!.on('data', (chunk) => (stderr += chunk))
  const done = new Promise<CliResult>((resolve) =>
    child.on('close', (code, signal) => resolve({code: code ?? (signal ? 128 : 1), stderr, stdout})),
  )
  return {child, done}
}
