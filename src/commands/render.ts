import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../base-command.js'
import {renderFlags} from '../flags.js'
import type {KubeObject} from '../kube/types.js'

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
    '<%= config.bin %> <%= command.id %> dns --json',
  ]

  static override flags = {
    ...renderFlags,
    arch: Flags.string({description: 'architecture to render for (amd64, arm64, s390x, ppc64le)'}),
    'kube-version': Flags.string({
      description: 'Kubernetes version to render for and check against',
      helpValue: 'VERSION',
    }),
  }

  static override strict = false

  public async run(): Promise<{addon: string; objects: {object: KubeObject; template: string}[]} | {help: string}> {
    const {argv, flags} = await this.parse(Render, this.addonArgv())
    const help = await this.addonHelp(argv as string[])
    if (help) return help
    const [{formatManifests, renderOffline}, {parseImageFlags}, {addonId}] = await Promise.all([
      import('../services/render.js'),
      import('../render/images.js'),
      import('../models/addon.js'),
    ])
    const {notices, plan} = await renderOffline({
      arch: flags.arch,
      imageOverrides: parseImageFlags(flags.image, flags['registry-mirror']),
      kubeVersion: flags['kube-version'],
      set: flags.set,
      tokens: argv as string[],
      valuesFiles: flags.values,
    })
    for (const notice of notices) this.notice(notice)
    if (!this.jsonEnabled()) process.stdout.write(formatManifests(plan))
    return {addon: addonId(plan.addon.entry), objects: plan.objects.map(({object, template}) => ({object, template}))}
  }
}
