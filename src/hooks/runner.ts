import {spawn} from 'node:child_process'
import {constants} from 'node:os'

import {ExternalError} from '../errors.js'

export interface HookRun {
  /** The hook's exit code; 128 + the signal's number when a signal ended it. */
  code: number
  timedOut: boolean
}

export interface HookRunOptions {
  cwd: string
  env: NodeJS.ProcessEnv
  /** Where the hook's standard output goes: mk8s's stdout, or its stderr when stdout is one --json document. */
  stdout: 'stderr' | 'stdout'
  /** Standard input: the terminal when mk8s has one, else nothing (end of file: a prompt never hangs). */
  stdin?: 'inherit' | 'none'
  timeoutMs: number
}

/** How long a hook has between SIGTERM and SIGKILL once its time is up. */
const GRACE_MS = 5000

/**
 * Runs a MicroK8s hook as `microk8s enable` does: from the addon's folder, its output streamed through, its exit
 * code returned. It runs in a process group of its own, so that a deadline or an interrupt ends the hook with every
 * process it started (kubectl, helm, a nested mk8s); an interrupt of mk8s is passed on to it.
 */
export async function runHook(file: string, args: string[], options: HookRunOptions): Promise<HookRun> {
  const interactive = options.stdin === 'inherit' || (options.stdin === undefined && process.stdin.isTTY === true)
  const child = spawn(file, args, {
    cwd: options.cwd,
    detached: true,
    env: options.env,
    stdio: [interactive ? 'inherit' : 'ignore', options.stdout === 'stdout' ? 'inherit' : process.stderr, 'inherit'],
  })
  let timedOut = false
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal)
    } catch {
      // Already gone.
    }
  }

  const forward = (signal: NodeJS.Signals) => () => signalGroup(signal)
  const onInterrupt = forward('SIGINT')
  const onTerminate = forward('SIGTERM')
  process.on('SIGINT', onInterrupt)
  process.on('SIGTERM', onTerminate)
  let killTimer: NodeJS.Timeout | undefined
  const deadline = setTimeout(() => {
    timedOut = true
    signalGroup('SIGTERM')
    killTimer = setTimeout(() => signalGroup('SIGKILL'), GRACE_MS)
  }, options.timeoutMs)
  try {
    return await new Promise<HookRun>((resolve, reject) => {
      child.once('error', (error: NodeJS.ErrnoException) => {
        const why =
          error.code === 'EACCES'
            ? 'is not executable'
            : error.code === 'ENOENT'
              ? 'cannot be run (a missing file or interpreter)'
              : error.message
        reject(new ExternalError(file, `${file} ${why}`))
      })
      child.once('exit', (code, signal) =>
        // As a shell reports a process a signal ended: 128 + its number.
        resolve({code: code ?? 128 + (signal ? constants.signals[signal] : 1), timedOut}),
      )
    })
  } finally {
    clearTimeout(deadline)
    clearTimeout(killTimer)
    process.off('SIGINT', onInterrupt)
    process.off('SIGTERM', onTerminate)
  }
}
