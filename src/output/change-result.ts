import {dumpYaml} from '../models/yaml-source.js'

import {type ChangeResult, describeResult} from '../core/addon-service.js'

/** Prints the outcome of an enable or disable and returns the exit code: 0, or 1 when an addon failed. */
export function printChangeResult(
  result: ChangeResult,
  out: {json: boolean; log: (line: string) => void; logError: (line: string) => void},
): number {
  if (out.json) {
    const addons = result.addons.map(({rendered, ...rest}) => rest)
    out.log(JSON.stringify({addons, status: result.ok ? 'ok' : 'failed'}, null, 2))
    return result.ok ? 0 : 1
  }

  for (const addon of result.addons) {
    if (addon.status === 'planned' && addon.rendered) {
      out.log(addon.rendered.map((object) => `---\n${dumpYaml(object)}`).join(''))
    }

    if (['already-disabled', 'already-enabled', 'not-found'].includes(addon.status)) continue
    if (addon.status === 'failed') out.logError(`Failed to ${addon.action} ${addon.addon}:\n${addon.message}`)
    else out.log(describeResult(addon))
  }

  return result.ok ? 0 : 1
}
