/**
 * The one error taxonomy of mk8s. Anything that is not a UserError is a bug and keeps its stack trace; a UserError
 * prints one clear message (and its problems) and exits with its exit code.
 */

/** The exit codes of every command but `diff` (see the README's table). */
export const EXIT = {failed: 1, ok: 0, usage: 2} as const

export interface Problem {
  field?: string
  file?: string
  line?: number
  message: string
  /** The node an agent problem is about (address or name). */
  node?: string
}

export class UserError extends Error {
  readonly exitCode: number
  /** Each thing that was wrong, where more than one can be: fields of a file, nodes of a fan-out. */
  readonly problems: Problem[]
  /** The partial result of an operation that failed part-way, for the --json envelope. */
  readonly result?: unknown
  readonly suggestions: string[]

  constructor(
    message: string,
    options: {exitCode?: number; problems?: Problem[]; result?: unknown; suggestions?: string[]} = {},
  ) {
    super(message)
    this.name = 'UserError'
    this.exitCode = options.exitCode ?? EXIT.failed
    this.problems = options.problems ?? []
    this.result = options.result
    this.suggestions = options.suggestions ?? []
  }
}

/** The command line itself is wrong: a missing argument, an unknown flag, a value of the wrong form. */
export class UsageError extends UserError {
  constructor(message: string, options: {suggestions?: string[]} = {}) {
    super(message, {...options, exitCode: EXIT.usage})
    this.name = 'UsageError'
  }
}

/** Bad content in a file a user or repository author wrote: names the file, the field path and the line. */
export class ValidationError extends UserError {
  constructor(summary: string, problems: Problem[], options: {exitCode?: number} = {}) {
    super([summary, ...problems.map((p) => `  ${formatProblem(p)}`)].join('\n'), {exitCode: options.exitCode, problems})
    this.name = 'ValidationError'
  }
}

export function formatProblem(problem: Problem): string {
  const where = problem.file ? `${problem.file}${problem.line ? `:${problem.line}` : ''}` : (problem.node ?? '')
  const field = problem.field ? `${problem.field}: ` : ''
  return `${where ? `${where}: ` : ''}${field}${problem.message}`
}

/** A host command (git, an addon hook, a restart command) failed. */
export class ExternalError extends UserError {
  readonly command: string

  constructor(command: string, message: string, exitCode: number = EXIT.failed) {
    super(message, {exitCode})
    this.name = 'ExternalError'
    this.command = command
  }
}

/** The Kubernetes API refused or could not be reached; message is already short. */
export class KubeError extends UserError {
  readonly code?: number

  constructor(message: string, code?: number) {
    super(message)
    this.name = 'KubeError'
    this.code = code
  }
}

/** An operation ran and part of it failed: the result says what succeeded, the message what did not. */
export class OperationFailedError extends UserError {
  constructor(message: string, result: unknown, problems: Problem[] = [], exitCode: number = EXIT.failed) {
    super(message, {exitCode, problems, result})
    this.name = 'OperationFailedError'
  }
}

export function isUserError(error: unknown): error is UserError {
  return error instanceof UserError
}
