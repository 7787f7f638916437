import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../base-command.js'
import {renderFlags} from '../flags.js'

export default class Render extends BaseCommand {
  static override args = {
    addon: Args.string({description: 'addon to render: name, repo/name, or name:arg1:arg2', required: true}),
  }

  static override description = `Print the manifests an addon would apply, rendered offline with no cluster.

Options take both MicroK8s grammars: "dns:1.1.1.1,8.8.8.8" or "dns 1.1.1.1 --cluster-domain example.local".`

  static override examples = [
    '<%= config.bin %> <%= command.id %> dns',
    '<%= config.bin %> <%= command.id %> dns:1.1.1.1 --kube-version 1.34.0',
    '<%= config.bin %> <%= command.id %> core/dns --set clusterDomain=example.local',
    '<%= config.bin %> <%= command.id %> dns --registry-mirror docker.io=mirror.local:5000',
  ]

  static override flags = {
    ...renderFlags,
    arch: Flags.string({description: 'architecture to render for (amd64, arm64, s390x, ppc64le)'}),
    'kube-version': Flags.string({description: 'Kubernetes version to render for and check against', helpValue: 'VERSION'}),
  }

  static override strict = false

  public async run(): Promise<void> {
    const {argv, flags} = await this.parse(Render)
    if (await this.answeredAddonHelp(argv as string[])) return
    const [{renderOffline, formatManifests}, {parseImageFlags}] = await Promise.all([
      import('../core/render-service.js'),
      import('../render/images.js'),
    ])
    const {notices, plan} = await renderOffline({
      arch: flags.arch,
      imageOverrides: parseImageFlags(flags.image, flags['registry-mirror']),
      kubeVersion: flags['kube-version'],
      set: flags.set,
      tokens: argv as string[],
      valuesFiles: flags.values,
    })
    for (const notice of notices) this.logToStderr(notice)
    process.stdout.write(formatManifests(plan))
  }
}
