import {OPTION_TYPES} from '../models/option-types.js'
import {NAME_PATTERN} from '../util/text.js'

export const ARCHITECTURES = ['amd64', 'arm64', 's390x', 'ppc64le'] as const

/** The MicroK8s addons.yaml schema: upstream files must pass it unchanged, so extra fields are allowed. */
export const addonsFileSchema = {
  properties: {
    'microk8s-addons': {
      properties: {
        addons: {
          items: {
            properties: {
              // mk8s's own field: other names of the same addon. MicroK8s ignores fields it does not know.
              aliases: {items: {maxLength: 63, pattern: NAME_PATTERN.source, type: 'string'}, type: 'array'},
              check_status: {type: 'string'},
              confinement: {type: 'string'},
              description: {type: 'string'},
              // A plain name, as MicroK8s's addons are: it becomes a folder name, so never a path.
              name: {maxLength: 63, pattern: NAME_PATTERN.source, type: 'string'},
              supported_architectures: {items: {enum: [...ARCHITECTURES]}, type: 'array'},
              version: {type: 'string'},
            },
            required: ['name', 'description', 'version', 'check_status', 'supported_architectures'],
            type: 'object',
          },
          type: 'array',
        },
        description: {type: 'string'},
      },
      required: ['addons'],
      type: 'object',
    },
  },
  required: ['microk8s-addons'],
  type: 'object',
} as const

/** Names of JavaScript objects' own members: an option so named would shadow one in the render context. */
export const OBJECT_BUILT_INS = [
  '__proto__',
  'constructor',
  'hasOwnProperty',
  'isPrototypeOf',
  'propertyIsEnumerable',
  'prototype',
  'toLocaleString',
  'toString',
  'valueOf',
]

const scalar = {type: ['string', 'number', 'boolean']}

const optionSchema = {
  additionalProperties: false,
  properties: {
    default: {},
    description: {type: 'string'},
    // A value lint renders a required option with, and help shows.
    example: {},
    items: {enum: OPTION_TYPES.filter((t) => t !== 'list')},
    max: {type: 'number'},
    // A number; for quantity options, a quantity such as 20Gi.
    min: {type: ['number', 'string']},
    position: {minimum: 0, type: 'integer'},
    required: {type: 'boolean'},
    type: {enum: [...OPTION_TYPES]},
    values: {items: scalar, minItems: 1, type: 'array'},
  },
  required: ['type', 'description'],
  type: 'object',
}

const flagName = '^--[A-Za-z0-9][-A-Za-z0-9_.]*$'

/** The declarative addon format (ours), strict so that typos are caught at lint time. */
export const addonSchema = {
  additionalProperties: false,
  properties: {
    architectures: {items: {enum: [...ARCHITECTURES]}, minItems: 1, type: 'array'},
    description: {type: 'string'},
    disable: {
      additionalProperties: false,
      properties: {
        manifests: {items: {minLength: 1, type: 'string'}, minItems: 1, type: 'array'},
        options: {
          additionalProperties: optionSchema,
          propertyNames: {pattern: '^[a-zA-Z][a-zA-Z0-9]*$'},
          type: 'object',
        },
      },
      required: ['manifests'],
      type: 'object',
    },
    images: {additionalProperties: {minLength: 1, type: 'string'}, type: 'object'},
    kubernetes: {type: 'string'},
    manifests: {items: {minLength: 1, type: 'string'}, type: 'array'},
    message: {type: 'string'},
    name: {maxLength: 63, pattern: NAME_PATTERN.source, type: 'string'},
    nodeArgs: {
      additionalProperties: {
        additionalProperties: false,
        properties: {
          remove: {items: {pattern: flagName, type: 'string'}, type: 'array'},
          restart: {type: 'boolean'},
          set: {additionalProperties: scalar, propertyNames: {pattern: flagName}, type: 'object'},
        },
        type: 'object',
      },
      propertyNames: {pattern: '^[a-z][-a-z0-9]*$'},
      type: 'object',
    },
    options: {
      additionalProperties: optionSchema,
      propertyNames: {pattern: '^[a-zA-Z][a-zA-Z0-9]*$'},
      type: 'object',
    },
    probes: {items: {minLength: 1, type: 'string'}, type: 'array'},
    ready: {
      items: {
        additionalProperties: false,
        properties: {kind: {type: 'string'}, name: {type: 'string'}, namespace: {type: 'string'}},
        required: ['kind', 'name'],
        type: 'object',
      },
      type: 'array',
    },
    requires: {items: {pattern: '^([a-z0-9][-a-z0-9]*/)?[a-z0-9][-a-z0-9]*$', type: 'string'}, type: 'array'},
    requiresUnless: {additionalProperties: {pattern: '^[a-zA-Z][a-zA-Z0-9]*$', type: 'string'}, type: 'object'},
    version: {type: 'string'},
  },
  required: ['name', 'description', 'version'],
  type: 'object',
} as const

const addonRefPattern = '^([a-z0-9]([-a-z0-9]*[a-z0-9])?/)?[a-z0-9]([-a-z0-9]*[a-z0-9])?$'
/** A service's flags: a value sets the flag (numbers and booleans as written), null removes it. */
const serviceArgs = {
  additionalProperties: {type: ['string', 'number', 'boolean', 'null']},
  propertyNames: {pattern: flagName.replace('^--', '^--?')},
  type: 'object',
}

/** The mk8s cluster file (`mk8s apply -f`): strict, so that a typo is an error and not an addon silently missed. */
export const clusterAddonsSchema = {
  additionalProperties: false,
  properties: {
    addons: {
      items: {
        additionalProperties: false,
        properties: {
          // The addon's arguments as the command line gives them (name:a:b): what a MicroK8s hook addon takes.
          args: {items: {type: ['string', 'number']}, type: 'array'},
          disabled: {type: 'boolean'},
          images: {additionalProperties: {minLength: 1, type: 'string'}, type: 'object'},
          name: {pattern: addonRefPattern, type: 'string'},
          options: {type: 'object'},
        },
        required: ['name'],
        type: 'object',
      },
      type: 'array',
    },
    apiVersion: {const: 'mk8s.io/v1'},
    kind: {const: 'ClusterAddons'},
    nodeArgs: {
      additionalProperties: serviceArgs,
      propertyNames: {pattern: '^[a-z][-a-z0-9]*$'},
      type: 'object',
    },
    registryMirrors: {additionalProperties: {minLength: 1, type: 'string'}, type: 'object'},
    repositories: {
      items: {
        additionalProperties: false,
        properties: {
          name: {maxLength: 63, pattern: NAME_PATTERN.source, type: 'string'},
          reference: {minLength: 1, type: ['string', 'number']},
          source: {minLength: 1, type: 'string'},
        },
        required: ['name', 'source'],
        type: 'object',
      },
      type: 'array',
    },
  },
  required: ['apiVersion', 'kind'],
  type: 'object',
} as const

/**
 * A MicroK8s launch configuration (cluster-agent pkg/k8sinit): unknown fields are accepted, as the Go agent accepts
 * them; the fields mk8s reads are checked.
 */
export const launchConfigurationSchema = {
  properties: {
    addonRepositories: {
      items: {
        properties: {
          name: {maxLength: 63, pattern: NAME_PATTERN.source, type: 'string'},
          reference: {type: ['string', 'number']},
          url: {minLength: 1, type: 'string'},
        },
        required: ['name', 'url'],
        type: 'object',
      },
      type: 'array',
    },
    addons: {
      items: {
        properties: {
          args: {items: {type: ['string', 'number', 'boolean']}, type: 'array'},
          disable: {type: 'boolean'},
          name: {pattern: addonRefPattern, type: 'string'},
        },
        required: ['name'],
        type: 'object',
      },
      type: 'array',
    },
    extraKubeAPIServerArgs: serviceArgs,
    extraKubeControllerManagerArgs: serviceArgs,
    extraKubeletArgs: serviceArgs,
    extraKubeProxyArgs: serviceArgs,
    extraKubeSchedulerArgs: serviceArgs,
    version: {type: ['string', 'number']},
  },
  required: ['version'],
  type: 'object',
} as const

/** Every schema mk8s validates with, by id; the build publishes each as dist/schemas/<id>.schema.json. */
export const PUBLISHED_SCHEMAS = {
  addon: addonSchema,
  'addons-file': addonsFileSchema,
  'cluster-addons': clusterAddonsSchema,
  'launch-configuration': launchConfigurationSchema,
} as const

export type SchemaId = keyof typeof PUBLISHED_SCHEMAS

/** The name of a schema's generated validator: `addons-file` → `addonsFile`. */
export const validatorName = (id: string): string => id.replaceAll(/-([a-z])/g, (_, c: string) => c.toUpperCase())
