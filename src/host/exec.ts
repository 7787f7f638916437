import {ExternalError} from '../errors.js'

export interface RunResult {
  stdout: string
}

/** The process-runner port: services call host programs through it, tests can hand in a fake. */
export type Runner = (command: string, args: string[], options?: {cwd?: string}) => Promise<RunResult>

/** Runs a host program with execa; a failure becomes an ExternalError carrying the program's own last words. */
export const runProcess: Runner = async (command, args, options = {}) => {
  const {execa} = await import('execa')
  try {
    const result = await execa(command, args, {cwd: options.cwd, env: {GIT_TERMINAL_PROMPT: '0'}, stdin: 'ignore'})
    return {stdout: result.stdout}
  } catch (error) {
    const failure = error as {code?: string; exitCode?: number; stderr?: string}
    if (failure.code === 'ENOENT') throw new ExternalError(command, `${command} is not installed or not on PATH`)
    const detail = (failure.stderr ?? '').trim().split('\n').filter(Boolean).slice(-2).join(' ')
    throw new ExternalError(command, `${command} ${args[0]} failed${detail ? `: ${detail}` : ''}`, 1)
  }
}
