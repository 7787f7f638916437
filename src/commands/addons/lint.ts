import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import {type Problem, ValidationError} from '../../errors.js'
import type {LintedAddon} from '../../services/authoring.js'
import {plural} from '../../util/text.js'

export default class AddonsLint extends BaseCommand {
  static override args = {
    path: Args.string({description: 'repository directories (each holds addons.yaml)', required: true}),
  }

  static override description = `Validate an addon repository and render every addon with its default options.

Checks addons.yaml, each addon.yaml, hook permissions, templates, options and images; every problem names the file, the field and the line.`

  static override examples = [
    '<%= config.bin %> <%= command.id %> addons/core addons/community',
    '<%= config.bin %> <%= command.id %> .',
    '<%= config.bin %> <%= command.id %> . --json',
  ]

  static override flags = {
    'kube-version': Flags.string({description: 'Kubernetes version to render for', helpValue: 'VERSION'}),
  }

  static override strict = false

  public async run(): Promise<{addons: LintedAddon[]}> {
    const {argv, flags} = await this.parse(AddonsLint)
    const {lintRepository} = await import('../../services/authoring.js')
    const paths = argv as string[]
    const all: LintedAddon[] = []
    const found: Problem[] = []
    // Every repository is linted, and every problem of all of them reported, before the command fails.
    for (const path of paths) {
      const {addons, problems} = await lintRepository({kubeVersion: flags['kube-version'], path})
      for (const addon of addons) {
        this.log(`ok  ${addon.id} (${addon.kind}${addon.objects === undefined ? '' : `, ${addon.objects} objects`})`)
      }

      if (problems.length === 0) this.log(`${path}: ${plural(addons.length, 'addon')}, no problems`)
      all.push(...addons)
      found.push(...problems)
    }

    if (found.length > 0) throw new ValidationError(`${plural(found.length, 'problem')} in ${paths.join(', ')}:`, found)
    return {addons: all}
  }
}
