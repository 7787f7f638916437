import {describeRef} from '../kube/types.js'
import type {ApplyDiff} from '../services/apply.js'
import {describeStep} from '../services/apply.js'
import type {DiffResult, ObjectDiff} from '../services/diff.js'

/** A unified diff without the `===` banner and the tabs createTwoFilesPatch leaves. */
const patchText = (change: ObjectDiff) => change.patch!.replace(/^=+\n/m, '').replaceAll(/\t$/gm, '').trimEnd()

export function printAddonDiff(result: Omit<DiffResult, 'notices'>, log: (line: string) => void): void {
  for (const change of result.changes) {
    if (change.change === 'prune') log(`- ${describeRef(change.ref)} would be pruned`)
    else log(patchText(change))
  }

  log(`${result.addon}: ${result.changes.length} to change, ${result.unchanged} unchanged`)
}

/** `mk8s diff -f`: each step of the plan with its object diffs, deletions, or node flags as `- old` / `+ new` lines. */
export function printApplyDiff(result: ApplyDiff, log: (line: string) => void): void {
  for (const {changes, note, step} of result.diffs) {
    log(`# ${describeStep(step)}`)
    if (note) log(`#   ${note}`)
    for (const change of changes) {
      if (change.change === 'delete') log(`- ${describeRef(change.ref)} would be deleted`)
      else if (change.change === 'prune') log(`- ${describeRef(change.ref)} would be pruned`)
      else log(patchText(change))
    }

    if (step.flags) {
      log(`--- live/${step.target}`)
      log(`+++ mk8s/${step.target}`)
      for (const {flag, from, to} of step.flags) {
        if (from === undefined) log(`? ${flag} (current value not readable)`)
        else if (from !== null) log(`- ${flag}=${from}`)
        if (to !== null) log(`+ ${flag}=${to}`)
      }
    }
  }

  log(
    result.diffs.length === 0
      ? 'No changes: the cluster matches the files'
      : `${result.diffs.length} step${result.diffs.length === 1 ? '' : 's'} to apply`,
  )
}
