import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import {ValidationError} from '../../errors.js'
import type {LintedAddon} from '../../services/authoring.js'
import {plural} from '../../util/text.js'

export default class AddonsLint extends BaseCommand {
  static override args = {
    path: Args.string({description: 'repository directory (holds addons.yaml)', required: true}),
  }

  static override description = `Validate an addon repository and render every addon with its default options.

Checks addons.yaml, each addon.yaml, hook permissions, templates, options and images; every problem names the file, the field and the line.`

  static override examples = [
    '<%= config.bin %> <%= command.id %> addons/core',
    '<%= config.bin %> <%= command.id %> .',
    '<%= config.bin %> <%= command.id %> . --json',
  ]

  static override flags = {
    'kube-version': Flags.string({description: 'Kubernetes version to render for', helpValue: 'VERSION'}),
  }

  public async run(): Promise<{addons: LintedAddon[]}> {
    const {args, flags} = await this.parse(AddonsLint)
    const {lintRepository} = await import('../../services/authoring.js')
    const {addons, problems} = await lintRepository({kubeVersion: flags['kube-version'], path: args.path})
    for (const addon of addons) {
      this.log(`ok  ${addon.id} (${addon.kind}${addon.objects === undefined ? '' : `, ${addon.objects} objects`})`)
    }

    if (problems.length > 0)
      throw new ValidationError(`${plural(problems.length, 'problem')} in ${args.path}:`, problems)
    this.log(`${args.path}: ${plural(addons.length, 'addon')}, no problems`)
    return {addons}
  }
}
