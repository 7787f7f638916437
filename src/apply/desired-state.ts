import {readdir, stat} from 'node:fs/promises'
import {extname, join} from 'node:path'

import {EXIT, type Problem, UserError, ValidationError} from '../errors.js'
import {MAX_INPUT_FILE_BYTES, readBounded} from '../host/fs.js'
import {schemaProblems} from '../models/schema-validation.js'
import {
  type FieldPath,
  type YamlDocumentSource,
  formatFieldPath,
  parseYamlDocumentSources,
} from '../models/yaml-source.js'
import {isImageReference} from '../render/images.js'

/** Where a declaration was written, for plans and errors: `cluster.yaml:12`. */
export interface Origin {
  file: string
  line?: number
}

export interface DesiredRepository {
  at: Origin
  name: string
  reference?: string
  source: string
}

export interface DesiredAddon {
  /** Arguments as MicroK8s passes them to `enable` (launch configurations). */
  args: string[]
  at: Origin
  disabled: boolean
  images?: Record<string, string>
  /** `name` or `repo/name`, as written. */
  name: string
  /** Option values (mk8s files); the addon's defaults fill the rest. */
  options?: Record<string, unknown>
}

export interface DesiredServiceArgs {
  at: Origin
  /** Flags to remove (given as null). */
  remove: string[]
  service: string
  update: Record<string, string>
}

/** One document of an apply file: applied in order, as MicroK8s applies the parts of a launch configuration. */
export interface DesiredPart {
  addons: DesiredAddon[]
  at: Origin
  format: 'launch-configuration' | 'mk8s'
  nodeArgs: DesiredServiceArgs[]
  /** Fields only a MicroK8s node can apply to itself (certificates, containerd, dqlite, join): reported, not applied. */
  notApplied: {at: Origin; field: string}[]
  registryMirrors?: Record<string, string>
  repositories: DesiredRepository[]
  /** Fields no version of the format knows, accepted as the MicroK8s agent accepts them. */
  unknown: {at: Origin; field: string}[]
}

/** The range of launch-configuration versions MicroK8s's cluster agent accepts. */
const LAUNCH_VERSIONS = {maximum: [0, 2, 0], minimum: [0, 1, 0]} as const

/** Launch-configuration service args: the field, and the service whose args file it edits on every node. */
export const LAUNCH_SERVICE_FIELDS: Record<string, string> = {
  extraKubeAPIServerArgs: 'kube-apiserver',
  extraKubeControllerManagerArgs: 'kube-controller-manager',
  extraKubeletArgs: 'kubelet',
  extraKubeProxyArgs: 'kube-proxy',
  extraKubeSchedulerArgs: 'kube-scheduler',
}

/** Launch-configuration fields that only the MicroK8s node reading the file can apply to itself. */
export const LAUNCH_LOCAL_FIELDS = [
  'containerdRegistryConfigs',
  'extraCNIEnv',
  'extraConfigFiles',
  'extraContainerdArgs',
  'extraContainerdEnv',
  'extraDqliteArgs',
  'extraDqliteEnv',
  'extraEtcdArgs',
  'extraFIPSEnv',
  'extraFlanneldArgs',
  'extraMicroK8sAPIServerProxyArgs',
  'extraMicroK8sClusterAgentArgs',
  'extraSANs',
  'join',
  'persistentClusterToken',
]

/** The listed fields, and every `extra…Env` map (a service's environment on the node itself). */
const isLocalField = (field: string) => LAUNCH_LOCAL_FIELDS.includes(field) || /^extra\w+Env$/.test(field)

const LAUNCH_KNOWN_FIELDS = new Set(['addonRepositories', 'addons', 'version', ...Object.keys(LAUNCH_SERVICE_FIELDS)])

const YAML_EXTENSIONS = new Set(['.yaml', '.yml'])

/** At most this many files in a folder given to -f: a folder of thousands is a mistake, not a cluster. */
const MAX_FILES = 100

/** The files `-f` names: a file, every YAML file of a folder (sorted, not recursive), or `-` for standard input. */
async function readInputs(inputs: string[], readStdin: () => Promise<string>): Promise<{file: string; text: string}[]> {
  const files: {file: string; text: string}[] = []
  for (const input of inputs) {
    if (input === '-') {
      files.push({file: '(stdin)', text: await readStdin()})
      continue
    }

    const info = await stat(input).catch(() => {
      throw new UserError(`${input}: no such file or folder`, {exitCode: EXIT.usage})
    })
    if (info.isDirectory()) {
      const names = (await readdir(input)).filter((name) => YAML_EXTENSIONS.has(extname(name))).sort()
      if (names.length === 0)
        throw new UserError(`${input}: no .yaml or .yml file in the folder`, {exitCode: EXIT.usage})
      if (names.length > MAX_FILES) {
        throw new UserError(`${input}: more than ${MAX_FILES} YAML files in the folder`, {exitCode: EXIT.usage})
      }

      for (const name of names) {
        const file = join(input, name)
        files.push({file, text: await readBounded(file, MAX_INPUT_FILE_BYTES)})
      }
    } else {
      files.push({file: input, text: await readBounded(input, MAX_INPUT_FILE_BYTES)})
    }
  }

  return files
}

/** Standard input, at most MAX_INPUT_FILE_BYTES. */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > MAX_INPUT_FILE_BYTES) throw new UserError(`standard input: larger than ${MAX_INPUT_FILE_BYTES} bytes`)
    chunks.push(chunk)
  }

  return Buffer.concat(chunks).toString('utf8')
}

/**
 * Reads and checks every part of every file `-f` names. Every problem of every file is reported at once, with its
 * file, field and line, as one error (exit code 2): nothing is applied from a file that has one.
 */
export async function loadDesiredState(
  inputs: string[],
  options: {readStdin?: () => Promise<string>} = {},
): Promise<DesiredPart[]> {
  const files = await readInputs(inputs, options.readStdin ?? readStdin)
  const parts: DesiredPart[] = []
  const problems: Problem[] = []
  for (const {file, text} of files) {
    const parsed = await parseYamlDocumentSources(file, text)
    problems.push(...parsed.problems)
    for (const document of parsed.documents) {
      // A header comment before the first `---` is an empty document, as in MicroK8s's own examples.
      if (document.source.data === null || document.source.data === undefined) continue
      const part = await readPart(document, problems)
      if (part) parts.push(part)
    }
  }

  if (problems.length > 0) {
    const files = new Set(problems.map((p) => p.file))
    throw new ValidationError(
      `Invalid apply file${files.size > 1 ? 's' : ''} (${problems.length === 1 ? '1 problem' : `${problems.length} problems`}); nothing was applied`,
      problems,
      {exitCode: EXIT.usage},
    )
  }

  if (parts.length === 0) throw new UserError(`${inputs.join(', ')}: nothing to apply (empty)`, {exitCode: EXIT.usage})
  return parts
}

async function readPart(document: YamlDocumentSource, problems: Problem[]): Promise<DesiredPart | undefined> {
  const {source} = document
  const data = source.data as Record<string, unknown>
  const at = (path: FieldPath): Origin => ({file: source.file, line: source.lineOf(path)})
  const problem = (path: FieldPath, message: string, field = formatFieldPath(path)) =>
    problems.push({field, file: source.file, line: source.lineOf(path), message})
  await source.locate()
  if (typeof data !== 'object' || Array.isArray(data)) {
    problem([], 'must be a mapping: an mk8s file (apiVersion: mk8s.io/v1) or a MicroK8s launch configuration')
    return undefined
  }

  const format =
    'apiVersion' in data || 'kind' in data ? 'cluster-addons' : 'version' in data ? 'launch-configuration' : undefined
  if (format) {
    const found = await schemaProblems(format, source)
    problems.push(...found)
    if (found.length > 0) return undefined
    return format === 'cluster-addons' ? readMk8sPart(document, at, problem) : readLaunchPart(document, at, problem)
  }

  problem(
    [],
    'neither an mk8s file (apiVersion: mk8s.io/v1, kind: ClusterAddons) nor a MicroK8s launch configuration (version: 0.1.0)',
  )
  return undefined
}

type Problems = (path: FieldPath, message: string) => void

/** A service's flags as the agent takes them: values as written, null meaning remove. */
function serviceArgs(
  document: YamlDocumentSource,
  path: FieldPath,
  service: string,
  at: (path: FieldPath) => Origin,
): DesiredServiceArgs {
  const values = document.source.data as Record<string, unknown>
  const flags = path.reduce<unknown>((value, key) => (value as Record<string, unknown>)[key], values) as Record<
    string,
    unknown
  >
  const update: Record<string, string> = {}
  const remove: string[] = []
  for (const [flag, value] of Object.entries(flags ?? {})) {
    if (value === null) remove.push(flag)
    else update[flag] = document.textOf([...path, flag]) ?? String(value)
  }

  return {at: at(path), remove, service, update}
}

function readMk8sPart(document: YamlDocumentSource, at: (path: FieldPath) => Origin, problem: Problems): DesiredPart {
  const data = document.source.data as {
    addons?: {
      args?: (number | string)[]
      disabled?: boolean
      images?: Record<string, string>
      name: string
      options?: Record<string, unknown>
    }[]
    nodeArgs?: Record<string, Record<string, unknown>>
    registryMirrors?: Record<string, string>
    repositories?: {name: string; reference?: number | string; source: string}[]
  }
  const addons = (data.addons ?? []).map((addon, i): DesiredAddon => {
    for (const [key, ref] of Object.entries(addon.images ?? {})) {
      if (!isImageReference(ref))
        problem(['addons', i, 'images', key], `"${ref.slice(0, 120)}" is not an image reference`)
    }

    if (addon.disabled && (addon.options || addon.images || addon.args)) {
      problem(['addons', i, 'disabled'], 'a disabled addon takes no options, images or args')
    }

    return {
      args: (addon.args ?? []).map((_, j) => document.textOf(['addons', i, 'args', j]) ?? String(addon.args![j])),
      at: at(['addons', i]),
      disabled: addon.disabled ?? false,
      images: addon.images,
      name: addon.name,
      options: addon.options,
    }
  })
  checkDuplicates(
    addons.map((a) => a.name),
    (i) => ['addons', i, 'name'],
    'addon',
    problem,
  )
  const repositories = (data.repositories ?? []).map((repo, i) => ({
    at: at(['repositories', i]),
    name: repo.name,
    reference: document.textOf(['repositories', i, 'reference']),
    source: repo.source,
  }))
  checkDuplicates(
    repositories.map((r) => r.name),
    (i) => ['repositories', i, 'name'],
    'repository',
    problem,
  )
  return {
    addons,
    at: at([]),
    format: 'mk8s',
    nodeArgs: Object.keys(data.nodeArgs ?? {}).map((service) =>
      serviceArgs(document, ['nodeArgs', service], service, at),
    ),
    notApplied: [],
    registryMirrors: data.registryMirrors,
    repositories,
    unknown: [],
  }
}

function checkDuplicates(names: string[], pathOf: (index: number) => FieldPath, noun: string, problem: Problems): void {
  names.forEach((name, i) => {
    if (names.indexOf(name) !== i) problem(pathOf(i), `${noun} ${name} is listed twice`)
  })
}

/** `0.1.0` → [0, 1, 0]; undefined when not a semantic version. */
function semanticVersion(text: string): number[] | undefined {
  const match = /^v?(\d+)\.(\d+)\.(\d+)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/.exec(text.trim())
  return match ? match.slice(1, 4).map(Number) : undefined
}

const compareVersions = (a: readonly number[], b: readonly number[]) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]

function readLaunchPart(document: YamlDocumentSource, at: (path: FieldPath) => Origin, problem: Problems): DesiredPart {
  const data = document.source.data as Record<string, unknown> & {
    addonRepositories?: {name: string; reference?: number | string; url: string}[]
    addons?: {args?: unknown[]; disable?: boolean; name: string}[]
  }
  const text = document.textOf(['version']) ?? ''
  const version = semanticVersion(text)
  if (!version) problem(['version'], `"${text.slice(0, 40)}" is not a semantic version (for example 0.1.0)`)
  else if (
    compareVersions(version, LAUNCH_VERSIONS.minimum) < 0 ||
    compareVersions(version, LAUNCH_VERSIONS.maximum) > 0
  )
    problem(['version'], `${text} is not supported: launch configurations from 0.1.0 to 0.2.0 are`)

  const addons = (data.addons ?? []).map((addon, i): DesiredAddon => ({
    args: (addon.args ?? []).map((_, j) => document.textOf(['addons', i, 'args', j]) ?? String(addon.args![j])),
    at: at(['addons', i]),
    disabled: addon.disable ?? false,
    name: addon.name,
  }))
  const fields = Object.keys(data)
  return {
    addons,
    at: at([]),
    format: 'launch-configuration',
    nodeArgs: fields
      .filter((field) => field in LAUNCH_SERVICE_FIELDS && data[field])
      .map((field) => serviceArgs(document, [field], LAUNCH_SERVICE_FIELDS[field], at)),
    notApplied: fields.filter((f) => isLocalField(f)).map((field) => ({at: at([field]), field})),
    repositories: (data.addonRepositories ?? []).map((repo, i) => ({
      at: at(['addonRepositories', i]),
      name: repo.name,
      reference: document.textOf(['addonRepositories', i, 'reference']),
      source: repo.url,
    })),
    unknown: fields
      .filter((f) => !LAUNCH_KNOWN_FIELDS.has(f) && !isLocalField(f))
      .map((field) => ({at: at([field]), field})),
  }
}

/** `cluster.yaml:12`. */
export const describeOrigin = (at: Origin): string => `${at.file}${at.line ? `:${at.line}` : ''}`
