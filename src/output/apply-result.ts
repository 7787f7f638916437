import {OperationFailedError} from '../errors.js'
import {type ApplyResult, describeStep} from '../services/apply.js'
import {plural} from '../util/text.js'

/** After the plan (printed as it is made): each step's outcome, then one line saying where the cluster stands. */
export function printApplyResult(result: ApplyResult, files: string[], log: (line: string) => void): void {
  const source = files.join(', ')
  const steps = result.steps
  if (steps.length === 0) {
    log(`Nothing to change: the cluster matches ${source}`)
    return
  }

  if (result.dryRun) {
    log(`Dry run: ${plural(steps.length, 'change')} planned, nothing applied`)
    return
  }

  for (const step of steps) log(describeStep(step))
  const failed = steps.filter((step) => step.status === 'failed' || step.status === 'skipped').length
  log(
    failed === 0
      ? `Applied ${plural(steps.length, 'change')}: the cluster matches ${source}`
      : `Applied ${steps.length - failed} of ${plural(steps.length, 'change')}; ${failed} not applied (apply again once fixed)`,
  )
}

/** The error a run with a failed step ends with (exit code 1); the whole result rides along for --json. */
export function applyFailure(result: ApplyResult): OperationFailedError | undefined {
  const failed = result.steps.filter((step) => step.status === 'failed' || step.status === 'skipped')
  if (failed.length === 0) return undefined
  return new OperationFailedError(
    [`${plural(failed.length, 'step')} of apply failed:`, ...failed.map((step) => `  ${describeStep(step)}`)].join(
      '\n',
    ),
    result,
    failed.map((step) => ({field: step.target, message: step.message ?? step.status})),
  )
}
