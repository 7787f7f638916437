import {mkdir, readFile, readdir, writeFile} from 'node:fs/promises'
import {basename, join, resolve} from 'node:path'
import {pathToFileURL} from 'node:url'
import {isMap, isSeq, parseDocument} from 'yaml'

import {type Problem, UserError, ValidationError} from '../errors.js'
import {pathExists} from '../host/fs.js'
import {type DeclarativeAddon, addonId} from '../models/addon.js'
import {packageRoot, templatesDir} from '../paths.js'
import {NAME_PATTERN} from '../util/text.js'
import {handlebars} from '../render/handlebars-env.js'
import {DEFAULT_KUBE_VERSION, planAddon, planCleanup} from '../addons/plan.js'
import {AddonCatalog} from '../addons/catalog.js'
import {ADDONS_FILE, repositoryProblems} from '../addons/repository.js'

export interface LintedAddon {
  id: string
  kind: 'declarative' | 'hook'
  objects?: number
}

export interface LintResult {
  addons: LintedAddon[]
  problems: Problem[]
}

/**
 * Validates a repository the way `repo add` does, then renders every declarative addon with its default options
 * for each architecture it supports, and checks that each `requires` names an addon of this repository or a bundled one.
 */
export async function lintRepository(options: {kubeVersion?: string; path: string}): Promise<LintResult> {
  const {kubeVersion = DEFAULT_KUBE_VERSION, path} = options
  const dir = resolve(path)
  const name = basename(dir)
  const {addons: loaded, index, problems} = await repositoryProblems(dir, name)
  if (!index) return {addons: [], problems}
  const catalog = await AddonCatalog.load()
  const ownNames = new Set(index.entries.map((e) => e.name))
  const knownIds = new Set(catalog.available().map(addonId))
  const knownNames = new Set([...ownNames, ...catalog.available().map((e) => e.name)])
  // The name the repository will be added under is not known here, so `anyname/x` is accepted for its own addon x.
  const resolvable = (ref: string) =>
    ref.includes('/') ? knownIds.has(ref) || ownNames.has(ref.split('/')[1]) : knownNames.has(ref)
  const addons: LintedAddon[] = []
  for (const addon of loaded) {
    const id = addonId(addon.entry)
    if (addon.kind === 'hook') {
      addons.push({id, kind: 'hook'})
      continue
    }

    for (const ref of addon.definition.requires ?? []) {
      if (!resolvable(ref)) {
        problems.push({
          field: 'requires',
          file: join(addon.dir, 'addon.yaml'),
          message: `${ref} is not an addon of ${name} or a bundled repository`,
        })
      }
    }

    const rendered = await renderDefaults(addon, kubeVersion, problems)
    addons.push({id, kind: 'declarative', objects: rendered})
  }

  return {addons, problems}
}

async function renderDefaults(
  addon: DeclarativeAddon,
  kubeVersion: string,
  problems: Problem[],
): Promise<number | undefined> {
  let objects: number | undefined
  for (const arch of addon.definition.architectures ?? addon.entry.architectures) {
    try {
      // A required option has no default: its example stands in for what a user must give.
      const examples = Object.fromEntries(
        Object.entries(addon.definition.options ?? {}).flatMap(([name, spec]) =>
          spec.example !== undefined && spec.default === undefined ? [[name, spec.example]] : [],
        ),
      )
      const plan = await planAddon(addon, {values: [examples]}, {arch, version: kubeVersion})
      objects = plan.objects.length
      // Disable's templates render too, with every disable option that is a switch turned on, so lint sees them work.
      const switches = Object.entries(addon.definition.disable?.options ?? {}).filter(
        ([, spec]) => spec.type === 'boolean',
      )
      await planCleanup(
        addon,
        {args: switches.map(([name]) => `--${name}`)},
        {arch, nodeNames: ['node-1'], version: kubeVersion},
      )
    } catch (error) {
      if (!(error instanceof UserError)) throw error
      const nested = error instanceof ValidationError ? error.problems : []
      problems.push(...(nested.length > 0 ? nested : [{file: join(addon.dir, 'addon.yaml'), message: error.message}]))
      return undefined
    }
  }

  return objects
}

/** Scaffolds a declarative addon from templates/addon and lists it in the repository's addons.yaml. */
export async function scaffoldAddon(options: {name: string; repo?: string}): Promise<{dir: string; files: string[]}> {
  const {name, repo: repoPath = '.'} = options
  if (!NAME_PATTERN.test(name)) {
    throw new UserError(`Invalid addon name ${name}: use lowercase letters, digits and '-'`)
  }

  const repo = resolve(repoPath)
  const dir = join(repo, 'addons', name)
  if (await pathExists(dir)) throw new UserError(`Addon directory ${dir} already exists`)
  const indexFile = join(repo, ADDONS_FILE)
  const indexText = await readFile(indexFile, 'utf8').catch(() => undefined)
  const document = parseDocument(
    indexText ??
      `# yaml-language-server: $schema=${schemaUrl('addons-file')}\nmicrok8s-addons:\n  description: "${basename(repo)} addons"\n  addons: []\n`,
  )
  const list = document.getIn(['microk8s-addons', 'addons'])
  if (!isSeq(list)) throw new UserError(`${indexFile}: microk8s-addons.addons is not a list`)
  if (list.items.some((item) => isMap(item) && item.get('name') === name)) {
    throw new UserError(`${indexFile} already lists an addon named ${name}`)
  }

  const description = `The ${name} addon`
  list.add(
    document.createNode({
      check_status: `deployment.apps/${name}`,
      description,
      name,
      supported_architectures: ['amd64', 'arm64'],
      version: '0.1.0',
    }),
  )
  list.flow = false
  await mkdir(dir, {recursive: true})
  const files: string[] = []
  for (const template of await readdir(join(templatesDir, 'addon'))) {
    const source = await readFile(join(templatesDir, 'addon', template), 'utf8')
    const target = join(dir, template.replace(/\.hbs$/, '').replace(/^manifests\.yaml$/, 'manifests.yaml.hbs'))
    await writeFile(
      target,
      handlebars().compile(source, {noEscape: true, strict: true})({description, name, schema: schemaUrl('addon')}),
    )
    files.push(target)
  }

  await writeFile(indexFile, document.toString())
  files.push(indexFile)
  return {dir, files}
}

/** Where an editor finds the JSON Schema of a file mk8s reads: the copy the build published in this package. */
export function schemaUrl(id: 'addon' | 'addons-file'): string {
  return pathToFileURL(join(packageRoot, 'dist', 'schemas', `${id}.schema.json`)).href
}
