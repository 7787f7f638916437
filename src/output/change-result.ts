import {OperationFailedError} from '../errors.js'
import {dumpYaml} from '../models/yaml-source.js'
import {type ChangeResult, describeResult} from '../services/addon-service.js'

/** Prints what an enable or disable did, addon by addon; failures are left to `changeFailure`. */
export function printChangeResult(result: ChangeResult, log: (line: string) => void): void {
  for (const addon of result.addons) {
    if (addon.status === 'planned' && addon.rendered)
      log(addon.rendered.map((object) => `---\n${dumpYaml(object)}`).join(''))
    if (['already-disabled', 'already-enabled', 'failed', 'not-found'].includes(addon.status)) continue
    log(describeResult(addon))
  }
}

/** The error an enable or disable with a failed addon ends with; the result rides along for --json. */
export function changeFailure(result: ChangeResult): OperationFailedError | undefined {
  const failed = result.addons.filter((addon) => addon.status === 'failed')
  if (failed.length === 0) return undefined
  const message = failed
    .map((addon) => `Failed to ${addon.action} ${addon.addon}:\n${addon.message ?? 'unknown failure'}`)
    .join('\n')
  // A failed hook's exit code becomes mk8s's, as `microk8s enable` exits with its hook's.
  const exitCode = failed.find((addon) => addon.hook?.exitCode)?.hook?.exitCode
  return new OperationFailedError(
    message,
    result,
    failed.map((addon) => ({field: addon.addon, message: addon.message ?? 'failed'})),
    exitCode,
  )
}
