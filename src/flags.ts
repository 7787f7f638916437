import {Flags} from '@oclif/core'

/** Flags shared by every command that renders addons: options, values files and image overrides. */
export const renderFlags = {
  image: Flags.string({
    description: 'override an addon image by its key (key=image-reference)',
    helpValue: 'KEY=REF',
    multiple: true,
  }),
  'registry-mirror': Flags.string({
    description: 'pull images of a registry from a mirror (registry=mirror)',
    helpValue: 'FROM=TO',
    multiple: true,
  }),
  set: Flags.string({description: 'set an addon option (key=value)', helpValue: 'KEY=VALUE', multiple: true}),
  values: Flags.string({char: 'f', description: 'read addon options from a YAML file', helpValue: 'FILE', multiple: true}),
}

export const formatFlag = (options: readonly string[], defaultValue: string) =>
  Flags.string({default: defaultValue, description: 'output format', options: [...options]})
