import {UsageError, UserError} from '../errors.js'

const POD_TEMPLATE_PATHS: Record<string, string[]> = {
  CronJob: ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
  DaemonSet: ['spec', 'template', 'spec'],
  Deployment: ['spec', 'template', 'spec'],
  Job: ['spec', 'template', 'spec'],
  Pod: ['spec'],
  ReplicaSet: ['spec', 'template', 'spec'],
  StatefulSet: ['spec', 'template', 'spec'],
}

/** Every container image of an object that carries a pod spec. */
export function podSpecImages(object: {kind: string}): string[] {
  const path = POD_TEMPLATE_PATHS[object.kind]
  if (!path) return []
  let spec: unknown = object
  for (const key of path) spec = (spec as Record<string, unknown> | undefined)?.[key]
  const podSpec = spec as {containers?: {image?: string}[]; initContainers?: {image?: string}[]} | undefined
  return [...(podSpec?.initContainers ?? []), ...(podSpec?.containers ?? [])]
    .map((container) => container.image)
    .filter((image): image is string => typeof image === 'string')
}

/** The registry host of an image reference, with Docker Hub's implied default made explicit. */
export function registryOf(image: string): {path: string; registry: string} {
  const slash = image.indexOf('/')
  const first = slash === -1 ? '' : image.slice(0, slash)
  if (first && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    return {path: image.slice(slash + 1), registry: first}
  }

  return {path: slash === -1 ? `library/${image}` : image, registry: 'docker.io'}
}

function pairs(values: string[], flag: string, example: string): [string, string][] {
  return values.map((value) => {
    const at = value.indexOf('=')
    if (at <= 0 || at === value.length - 1) throw new UserError(`${flag} ${value}: expected ${example}`)
    return [value.slice(0, at).trim(), value.slice(at + 1).trim()]
  })
}

export interface ImageOverrides {
  images?: Record<string, string>
  registryMirrors?: Record<string, string>
}

/** A container image reference: [registry[:port]/]path[:tag][@digest], lowercase path, as the distribution spec says. */
const IMAGE_REFERENCE =
  /^(?:[a-zA-Z0-9.-]+(?::\d+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@[a-z0-9]+:[a-fA-F0-9]{32,})?$/
const REGISTRY = /^[a-zA-Z0-9.-]+(?::\d+)?(?:\/[a-z0-9._-]+)*$/

export function isImageReference(value: string): boolean {
  return value.length <= 512 && IMAGE_REFERENCE.test(value)
}

export function parseImageFlags(images: string[] = [], mirrors: string[] = []): ImageOverrides {
  for (const [key, ref] of pairs(images, '--image', 'key=image-reference')) {
    if (!isImageReference(ref)) throw new UsageError(`--image ${key}=${ref.slice(0, 120)}: not an image reference`)
  }

  for (const [from, to] of pairs(mirrors, '--registry-mirror', 'registry=mirror')) {
    for (const host of [from, to]) {
      if (!REGISTRY.test(host))
        throw new UsageError(`--registry-mirror ${from}=${to}: "${host.slice(0, 120)}" is not a registry (host[:port])`)
    }
  }

  return {
    images: Object.fromEntries(pairs(images, '--image', 'key=image-reference')),
    registryMirrors: Object.fromEntries(
      pairs(mirrors, '--registry-mirror', 'registry=mirror (for example docker.io=mirror.local:5000)'),
    ),
  }
}

/** The addon's images after `--image key=ref` overrides and `--registry-mirror from=to` rewrites. */
export function resolveImages(
  addonId: string,
  defaults: Record<string, string>,
  overrides: ImageOverrides,
): Record<string, string> {
  const resolved = {...defaults}
  for (const [key, ref] of Object.entries(overrides.images ?? {})) {
    if (!(key in defaults)) {
      const known = Object.keys(defaults)
      throw new UserError(
        `--image ${key}=${ref}: ${addonId} has no image key "${key}"${known.length > 0 ? ` (keys: ${known.join(', ')})` : ''}`,
      )
    }

    resolved[key] = ref
  }

  const mirrors = overrides.registryMirrors ?? {}
  for (const [key, ref] of Object.entries(resolved)) {
    const {path, registry} = registryOf(ref)
    const mirror = mirrors[registry]
    if (mirror) resolved[key] = `${mirror.replace(/\/+$/, '')}/${path}`
  }

  return resolved
}
