import {ExternalError} from '../errors.js'

export interface RunOptions {
  cwd?: string
  /** Added to the environment mk8s runs in. */
  env?: NodeJS.ProcessEnv
  /** `inherit` streams the program's output to mk8s's own (hooks); `pipe` captures it (the default). */
  output?: 'inherit' | 'pipe'
  /** Killed after this long; the error says so. */
  timeoutMs?: number
}

export interface RunResult {
  stderr: string
  stdout: string
}

/** The process-runner port: services call host programs through it, tests can hand in a fake. */
export type Runner = (command: string, args: string[], options?: RunOptions) => Promise<RunResult>

/** A program's standard input is closed: one that asks a question gets end of file, never a hang. */
export const runProcess: Runner = async (command, args, options = {}) => {
  const {execa} = await import('execa')
  let timedOut = false
  let timer: NodeJS.Timeout | undefined
  try {
    // A program with a deadline runs in its own process group, so that the whole group is killed when it expires:
    // a shell's children would otherwise keep its output open and the wait would go on.
    const subprocess = execa(command, args, {
      cwd: options.cwd,
      detached: options.timeoutMs !== undefined,
      env: options.env,
      stderr: options.output ?? 'pipe',
      stdin: 'ignore',
      stdout: options.output ?? 'pipe',
    })
    if (options.timeoutMs !== undefined) {
      timer = setTimeout(() => {
        timedOut = true
        try {
          process.kill(-subprocess.pid!, 'SIGKILL')
        } catch {
          // Already gone.
        }
      }, options.timeoutMs)
    }

    const result = await subprocess
    return {
      stderr: typeof result.stderr === 'string' ? result.stderr : '',
      stdout: typeof result.stdout === 'string' ? result.stdout : '',
    }
  } catch (error) {
    const failure = error as {code?: string; stderr?: unknown}
    if (failure.code === 'ENOENT') throw new ExternalError(command, `${command} is not installed or not on PATH`)
    if (timedOut)
      throw new ExternalError(
        command,
        `${command} ${args[0] ?? ''} did not finish within ${Math.round((options.timeoutMs ?? 0) / 1000)}s`,
      )
    const stderr = typeof failure.stderr === 'string' ? failure.stderr : ''
    const detail = stderr.trim().split('\n').filter(Boolean).slice(-2).join(' ')
    throw new ExternalError(command, `${command} ${args[0] ?? ''} failed${detail ? `: ${detail}` : ''}`)
  } finally {
    clearTimeout(timer)
  }
}
