import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../base-command.js'
import {formatProblem, UserError} from '../../errors.js'

export default class AddonsLint extends BaseCommand {
  static override args = {
    path: Args.string({description: 'repository directory (holds addons.yaml)', required: true}),
  }

  static override description = `Validate an addon repository and render every addon with its default options.

Checks addons.yaml, each addon.yaml, hook permissions, templates, options and images; every problem names the file, the field and the line.`

  static override examples = ['<%= config.bin %> <%= command.id %> addons/core', '<%= config.bin %> <%= command.id %> .']

  static override flags = {
    'kube-version': Flags.string({description: 'Kubernetes version to render for', helpValue: 'VERSION'}),
  }

  public async run(): Promise<void> {
    const {args, flags} = await this.parse(AddonsLint)
    const {lintRepository} = await import('../../core/authoring.js')
    const {addons, problems} = await lintRepository(args.path, flags['kube-version'])
    for (const addon of addons) {
      this.log(`ok  ${addon.id} (${addon.kind}${addon.objects === undefined ? '' : `, ${addon.objects} objects`})`)
    }

    if (problems.length > 0) {
      throw new UserError([`${problems.length} problem${problems.length === 1 ? '' : 's'} in ${args.path}:`, ...problems.map((p) => `  ${formatProblem(p)}`)].join('\n'))
    }

    this.log(`${args.path}: ${addons.length} addon${addons.length === 1 ? '' : 's'}, no problems`)
  }
}
