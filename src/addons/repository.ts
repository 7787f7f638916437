import {readdir} from 'node:fs/promises'
import {join} from 'node:path'
import semver from 'semver'

import {type Problem, UserError, ValidationError} from '../errors.js'
import {containmentProblem, isExecutable, pathExists, readContained, treeContainmentProblems} from '../host/fs.js'
import {WAITED_KINDS} from '../kube/readiness.js'
import {
  type Addon,
  type AddonDefinition,
  type AddonEntry,
  type DeclarativeAddon,
  addonId,
  disableTemplates,
  probeTemplates,
} from '../models/addon.js'
import {OptionValueError, convertOption} from '../models/option-types.js'
import {schemaProblems} from '../models/schema-validation.js'
import {isImageReference} from '../render/images.js'
import {OBJECT_BUILT_INS} from '../schemas/index.js'
import {type FieldPath, type YamlSource, parseYamlSource} from '../models/yaml-source.js'

export const ADDONS_FILE = 'addons.yaml'
export const ADDON_FILE = 'addon.yaml'

export interface RepositoryIndex {
  description: string
  dir: string
  entries: AddonEntry[]
  name: string
}

/** A file of the repository at `root`, contained and bounded; undefined when it does not exist. */
async function readText(root: string, relative: string): Promise<string | undefined> {
  try {
    return await readContained(root, relative)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
}

async function loadIndexSource(dir: string, name: string): Promise<YamlSource> {
  const file = join(dir, ADDONS_FILE)
  const text = await readText(dir, ADDONS_FILE)
  if (text === undefined) throw new UserError(`Error: repository ${name} does not contain an addons.yaml file`)
  return parseYamlSource(file, text, ADDONS_FILE)
}

function entriesOf(source: YamlSource, repository: string): RepositoryIndex {
  const root = (source.data as {'microk8s-addons': {addons: Record<string, unknown>[]; description?: string}})[
    'microk8s-addons'
  ]
  return {
    description: root.description ?? '',
    dir: '',
    entries: root.addons.map((addon) => ({
      aliases: addon.aliases as string[] | undefined,
      architectures: addon.supported_architectures as string[],
      checkStatus: addon.check_status as string,
      confinement: addon.confinement as string | undefined,
      description: addon.description as string,
      name: addon.name as string,
      repository,
      version: addon.version as string,
    })),
    name: repository,
  }
}

/** Reads and schema-checks a repository's addons.yaml. */
export async function loadRepositoryIndex(dir: string, name: string): Promise<RepositoryIndex> {
  const source = await loadIndexSource(dir, name)
  const problems = await schemaProblems('addons-file', source)
  if (problems.length > 0) throw new ValidationError('Invalid addons.yaml file', problems)
  // An alias is a name too: it may not be another addon's name or alias.
  const addons = (source.data as {'microk8s-addons': {addons: {aliases?: string[]; name: string}[]}})[
    'microk8s-addons'
  ].addons
  const names = addons.flatMap((addon, i) => [
    {name: addon.name, path: ['microk8s-addons', 'addons', i, 'name']},
    ...(addon.aliases ?? []).map((alias, j) => ({name: alias, path: ['microk8s-addons', 'addons', i, 'aliases', j]})),
  ])
  const duplicates = names.filter(({name}, i) => names.findIndex((other) => other.name === name) !== i)
  if (duplicates.length > 0) {
    await source.locate()
    throw new ValidationError(
      'Invalid addons.yaml file',
      duplicates.map(({name, path}) => ({
        field: path.join('.').replace(/\.(\d+)(?=\.|$)/g, '[$1]'),
        file: source.file,
        line: source.lineOf(path),
        message: `"${name}" is listed twice`,
      })),
    )
  }

  return {...entriesOf(source, name), dir}
}

async function defaultManifests(dir: string): Promise<string[]> {
  const names = await readdir(dir)
  return names.filter((name) => /\.ya?ml\.hbs$/.test(name)).sort()
}

/** Loads one addon of a repository: declarative when it has addon.yaml, a MicroK8s hook addon otherwise. */
export async function loadAddon(index: RepositoryIndex, entry: AddonEntry): Promise<Addon> {
  const dir = join(index.dir, 'addons', entry.name)
  const file = join(dir, ADDON_FILE)
  const text = await readText(index.dir, join('addons', entry.name, ADDON_FILE))
  if (text === undefined) return {dir, entry, kind: 'hook'}
  const source = parseYamlSource(file, text, ADDON_FILE)
  const problems = await schemaProblems('addon', source)
  if (problems.length > 0) throw new ValidationError(`Invalid addon.yaml of ${addonId(entry)}`, problems)
  const definition = source.data as AddonDefinition
  const semantic = definitionProblems(definition, entry)
  if (semantic.length > 0) {
    await source.locate()
    throw new ValidationError(
      `Invalid addon.yaml of ${addonId(entry)}`,
      semantic.map(({path, ...problem}) => ({...problem, file: source.file, line: source.lineOf(path)})),
    )
  }

  const manifests = definition.manifests ?? (await defaultManifests(dir))
  return {definition, dir, entry, kind: 'declarative', manifests}
}

/** What JSON Schema cannot say about an addon.yaml. */
function definitionProblems(definition: AddonDefinition, entry: AddonEntry): (Problem & {path: FieldPath})[] {
  const problems: (Problem & {path: FieldPath})[] = []
  const at = (path: FieldPath, field: string, message: string) => problems.push({field, message, path})
  if (definition.name !== entry.name) {
    at(['name'], 'name', `is "${definition.name}" but addons.yaml lists the addon as "${entry.name}"`)
  }

  if (definition.kubernetes !== undefined && semver.validRange(definition.kubernetes) === null) {
    at(['kubernetes'], 'kubernetes', `"${definition.kubernetes}" is not a semver range`)
  }

  for (const [key, image] of Object.entries(definition.images ?? {})) {
    if (!isImageReference(image)) at(['images', key], `images.${key}`, `"${image.slice(0, 120)}" is not an image reference`)
  }

  for (const [prefix, specs] of [
    [['options'], definition.options],
    [['disable', 'options'], definition.disable?.options],
  ] as const) {
    const positions = new Map<number, string>()
    for (const [name, spec] of Object.entries(specs ?? {})) {
      const path = [...prefix, name]
      const field = path.join('.')
      if (OBJECT_BUILT_INS.includes(name)) {
        at(path, field, `"${name}" is the name of a member of every JavaScript object; choose another name`)
      }

      if (spec.type === 'enum' && !spec.values) at([...path, 'type'], `${field}.values`, 'is required for enum options')
      if (spec.items && spec.type !== 'list')
        at([...path, 'items'], `${field}.items`, 'is only allowed for list options')
      if (spec.position !== undefined) {
        const other = positions.get(spec.position)
        if (other) at([...path, 'position'], `${field}.position`, `${spec.position} is already taken by ${other}`)
        positions.set(spec.position, name)
      }

      for (const key of ['default', 'example'] as const) {
        try {
          convertOption(spec, spec[key])
        } catch (error) {
          if (!(error instanceof OptionValueError)) throw error
          at([...path, key], `${field}.${key}`, error.message)
        }
      }
    }
  }

  for (const [ref, option] of Object.entries(definition.requiresUnless ?? {})) {
    const path = ['requiresUnless', ref]
    if (!(definition.requires ?? []).includes(ref)) at(path, `requiresUnless.${ref}`, 'is not listed in requires')
    if (!definition.options?.[option]) at(path, `requiresUnless.${ref}`, `names no option of the addon: "${option}"`)
  }

  for (const name of Object.keys(definition.disable?.options ?? {})) {
    if (definition.options?.[name]) {
      at(['disable', 'options', name], `disable.options.${name}`, 'has the name of an enable option: choose another')
    }
  }

  for (const [i, target] of (definition.ready ?? []).entries()) {
    if (!WAITED_KINDS.includes(target.kind)) {
      at(['ready', i, 'kind'], `ready[${i}].kind`, `must be one of: ${WAITED_KINDS.join(', ')}`)
    }
  }

  return problems
}

/**
 * Every problem of a repository: addons.yaml, each addon.yaml and its templates, and the hooks of hook addons.
 * Used by `repo add`, `repo update` and `addons lint`; no problems means the repository is usable. `addons` are
 * the ones that loaded without a problem.
 */
export async function repositoryProblems(
  dir: string,
  name: string,
): Promise<{addons: Addon[]; index?: RepositoryIndex; problems: Problem[]}> {
  // Nothing a repository declares may be read from outside it: links that leave it and special files are refused.
  const escapes = await treeContainmentProblems(dir)
  if (escapes.length > 0) return {addons: [], problems: escapes}
  let index: RepositoryIndex
  try {
    index = await loadRepositoryIndex(dir, name)
  } catch (error) {
    if (error instanceof ValidationError) return {addons: [], problems: error.problems}
    if (error instanceof UserError) return {addons: [], problems: [{message: error.message}]}
    throw error
  }

  const problems: Problem[] = []
  const addons: Addon[] = []
  const {compileAddonTemplates} = await import('../render/renderer.js')
  for (const entry of index.entries) {
    const addonDir = join(dir, 'addons', entry.name)
    const hasDefinition = await pathExists(join(addonDir, ADDON_FILE))
    if (!hasDefinition) {
      const before = problems.length
      for (const hook of ['enable', 'disable']) {
        const file = join(addonDir, hook)
        if (!(await pathExists(file))) {
          problems.push({file, message: `Missing ${hook} hook for ${entry.name} addon`})
        } else if (!(await isExecutable(file))) {
          problems.push({file, message: `${hook} hook for ${entry.name} addon needs execute permissions`})
        }
      }

      if (problems.length === before) addons.push({dir: addonDir, entry, kind: 'hook'})
      continue
    }

    try {
      const addon = (await loadAddon(index, entry)) as DeclarativeAddon
      const before = problems.length
      const extra = [...(addon.definition.disable?.manifests ?? []), ...(addon.definition.probes ?? [])]
      for (const manifest of [...addon.manifests, ...extra]) {
        const refused = await containmentProblem(addon.dir, manifest)
        if (refused) problems.push({field: 'manifests', file: join(addonDir, ADDON_FILE), message: `${manifest}: ${refused}`})
        else if (!(await pathExists(join(addon.dir, manifest)))) {
          problems.push({file: join(addonDir, ADDON_FILE), message: `manifest ${manifest} does not exist`})
        }
      }

      for (const templates of [addon, disableTemplates(addon), probeTemplates(addon)])
        problems.push(...(await compileAddonTemplates(templates)))
      if (problems.length === before) addons.push(addon)
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error
      problems.push(...error.problems)
    }
  }

  problems.push(...requirementCycles(addons))
  return {addons, index, problems}
}

/** Cycles among a repository's own addons' `requires` (bare names and `any/name` of its own), each reported once. */
function requirementCycles(addons: Addon[]): Problem[] {
  const own = new Map(addons.flatMap((a) => (a.kind === 'declarative' ? [[a.entry.name, a] as const] : [])))
  const problems: Problem[] = []
  const reported = new Set<string>()
  const visit = (name: string, path: string[]): void => {
    const start = path.indexOf(name)
    if (start !== -1) {
      const cycle = [...path.slice(start), name]
      const key = [...cycle.slice(0, -1)].sort().join(',')
      if (!reported.has(key)) {
        reported.add(key)
        problems.push({field: 'requires', file: join(own.get(name)!.dir, ADDON_FILE), message: `requirements form a cycle: ${cycle.join(' -> ')}`})
      }

      return
    }

    const addon = own.get(name)
    if (!addon || addon.kind !== 'declarative') return
    for (const ref of addon.definition.requires ?? []) visit(ref.split('/').at(-1)!, [...path, name])
  }

  for (const name of own.keys()) visit(name, [])
  return problems
}
