/**
 * The one error taxonomy of mk8s. Anything that is not one of these is a bug
 * and keeps its stack trace; these print one clear line and exit non-zero.
 */
export class UserError extends Error {
  readonly exitCode: number
  readonly suggestions: string[]

  constructor(message: string, options: {exitCode?: number; suggestions?: string[]} = {}) {
    super(message)
    this.name = 'UserError'
    this.exitCode = options.exitCode ?? 1
    this.suggestions = options.suggestions ?? []
  }
}

/** Bad content in a file a user or repository author wrote: names the file, the field path and the line. */
export class ValidationError extends UserError {
  readonly problems: Problem[]

  constructor(summary: string, problems: Problem[]) {
    super([summary, ...problems.map((p) => `  ${formatProblem(p)}`)].join('\n'))
    this.name = 'ValidationError'
    this.problems = problems
  }
}

export interface Problem {
  file?: string
  line?: number
  field?: string
  message: string
}

export function formatProblem(problem: Problem): string {
  const where = problem.file ? `${problem.file}${problem.line ? `:${problem.line}` : ''}` : ''
  const field = problem.field ? `${problem.field}: ` : ''
  return `${where ? `${where}: ` : ''}${field}${problem.message}`
}

/** A host command (git, an addon hook) failed. */
export class ExternalError extends UserError {
  readonly command: string

  constructor(command: string, message: string, exitCode = 1) {
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

export function isUserError(error: unknown): error is UserError {
  return error instanceof UserError
}
