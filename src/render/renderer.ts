import {join, relative} from 'node:path'

import {readContained} from '../host/fs.js'

import {type Problem, ValidationError} from '../errors.js'
import {type DeclarativeAddon, addonId} from '../models/addon.js'
import type {ClusterFacts} from '../addons/facts.js'
import type {KubeObject} from '../kube/types.js'
import type {OptionValue} from '../models/option-types.js'
import {loadYamlLibrary, parseYamlDocuments, yamlProblem} from '../models/yaml-source.js'
import {TEMPLATE_OPTIONS, compileTemplate} from './compiled-templates.js'
import {handlebars} from './handlebars-env.js'
import {podSpecImages} from './images.js'

/** An addon's manifests are kilobytes; a template looping to gigabytes is stopped here. */
export const MAX_RENDERED_BYTES = 16 * 1024 * 1024

export interface RenderedObject {
  object: KubeObject
  /** The template the object came from, relative to the addon directory. */
  template: string
}

export interface RenderContext {
  cluster: ClusterFacts
  images: Record<string, string>
  options: Record<string, OptionValue>
}

/** What every template of an addon sees: the context and the addon's own name, repository and version. */
function templateData(addon: DeclarativeAddon, context: RenderContext) {
  return {
    addon: {name: addon.definition.name, repository: addon.entry.repository, version: addon.definition.version},
    ...context,
  }
}

/** The line each document of a multi-document text starts on; `yaml` keeps positions, so it is loaded only here. */
async function documentLines(text: string): Promise<(number | undefined)[]> {
  const {LineCounter, parseAllDocuments} = await loadYamlLibrary()
  const counter = new LineCounter()
  const documents = parseAllDocuments(text, {lineCounter: counter})
  return (Array.isArray(documents) ? documents : []).map((document) => {
    const start = document.contents?.range?.[0] ?? document.range[0]
    return counter.linePos(start).line
  })
}

function lineOfHandlebarsError(error: Error & {lineNumber?: number}): number | undefined {
  if (error.lineNumber) return error.lineNumber
  const match = /line (\d+)/.exec(error.message) ?? / - (\d+):\d+$/.exec(error.message)
  return match ? Number(match[1]) : undefined
}

function shortHandlebarsMessage(error: Error): string {
  // Parse errors carry a caret drawing over several lines; the first line and the expectation are enough.
  const lines = error.message.split('\n')
  const expecting = lines.find((line) => line.startsWith('Expecting'))
  return [lines[0].replace(/ - \d+:\d+$/, ''), expecting].filter(Boolean).join(': ')
}

/** Compiles every template of an addon without rendering: syntax errors with file and line. */
export async function compileAddonTemplates(addon: DeclarativeAddon): Promise<Problem[]> {
  const problems: Problem[] = []
  for (const template of addon.manifests) {
    const file = join(addon.dir, template)
    let text: string
    try {
      text = await readContained(addon.dir, template)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue
      problems.push({file, message: (error as Error).message})
      continue
    }

    try {
      handlebars().precompile(text, TEMPLATE_OPTIONS)
    } catch (error) {
      problems.push({
        file,
        line: lineOfHandlebarsError(error as Error),
        message: shortHandlebarsMessage(error as Error),
      })
    }
  }

  return problems
}

/**
 * Renders an addon's manifests: Handlebars in strict mode, then YAML, then the checks every object must pass.
 * Errors name the addon, the template and the line.
 */
export async function renderAddon(addon: DeclarativeAddon, context: RenderContext): Promise<RenderedObject[]> {
  const id = addonId(addon.entry)
  const data = templateData(addon, context)
  const rendered: RenderedObject[] = []
  const problems: Problem[] = []
  let renderedBytes = 0
  for (const template of addon.manifests) {
    const file = join(addon.dir, template)
    // Checked again at every render: a repository can change on disk after it was added.
    const source = await readContained(addon.dir, template)
    let text: string
    try {
      text = (await compileTemplate(source))(data)
    } catch (error) {
      throw new ValidationError(`Cannot render ${id}`, [
        {file, line: lineOfHandlebarsError(error as Error), message: shortHandlebarsMessage(error as Error)},
      ])
    }

    renderedBytes += text.length
    if (renderedBytes > MAX_RENDERED_BYTES) {
      throw new ValidationError(`Cannot render ${id}`, [
        {file, message: `renders to more than ${MAX_RENDERED_BYTES / 1024 / 1024} MiB of manifests`},
      ])
    }

    let documents: unknown[]
    try {
      documents = parseYamlDocuments(text, file)
    } catch (error) {
      problems.push(yamlProblem(error, `${file} (rendered)`))
      continue
    }

    const found: {index: number; message: string}[] = []
    const allowed = new Set(Object.values(context.images))
    // Once per template: path.relative resolves both paths, which costs a 200-object template milliseconds.
    const templatePath = relative(addon.dir, file)
    for (const [index, document] of documents.entries()) {
      const object = document as KubeObject | null | undefined
      if (object === null || object === undefined) continue
      if (typeof object !== 'object' || Array.isArray(object)) {
        found.push({index, message: 'document is not a mapping'})
        continue
      }

      const missing = ['apiVersion', 'kind', 'metadata.name'].filter((field) =>
        field === 'metadata.name' ? typeof object.metadata?.name !== 'string' || !object.metadata.name : !object[field],
      )
      if (missing.length > 0) {
        found.push({index, message: `document is missing ${missing.join(', ')}`})
        continue
      }

      for (const image of podSpecImages(object)) {
        if (!allowed.has(image))
          found.push({
            index,
            message: `image ${image} of ${object.kind}/${object.metadata.name} has no key in addon.yaml images`,
          })
      }

      rendered.push({object, template: templatePath})
    }

    if (found.length > 0) {
      const lines = await documentLines(text)
      problems.push(...found.map(({index, message}) => ({file: `${file} (rendered)`, line: lines[index], message})))
    }
  }

  if (problems.length > 0) throw new ValidationError(`Cannot render ${id}`, problems)
  return rendered
}

/** One service's argument changes, rendered: values are templates over the same context as the manifests. */
export interface RenderedNodeArgs {
  remove: string[]
  restart: boolean
  service: string
  update: Record<string, string>
}

/** Renders addon.yaml `nodeArgs`: each value a Handlebars template (`"{{options.serviceIp}}"`), strict. */
export async function renderNodeArgs(addon: DeclarativeAddon, context: RenderContext): Promise<RenderedNodeArgs[]> {
  const data = templateData(addon, context)
  const rendered: RenderedNodeArgs[] = []
  for (const [service, change] of Object.entries(addon.definition.nodeArgs ?? {})) {
    const update: Record<string, string> = {}
    for (const [flag, value] of Object.entries(change.set ?? {})) {
      const field = `nodeArgs.${service}.set.${flag}`
      let text: string
      try {
        text = (await compileTemplate(String(value)))(data)
      } catch (error) {
        throw new ValidationError(`Cannot render ${addonId(addon.entry)}`, [
          {field, file: join(addon.dir, 'addon.yaml'), message: shortHandlebarsMessage(error as Error)},
        ])
      }

      if (/[\n\r\0]/.test(text)) {
        throw new ValidationError(`Cannot render ${addonId(addon.entry)}`, [
          {field, file: join(addon.dir, 'addon.yaml'), message: 'renders to a value with a newline or NUL'},
        ])
      }

      update[flag] = text
    }

    rendered.push({remove: change.remove ?? [], restart: change.restart ?? false, service, update})
  }

  return rendered
}

/** addon.yaml `message`, a template over the same context: what enable prints when done. */
export async function renderMessage(addon: DeclarativeAddon, context: RenderContext): Promise<string | undefined> {
  const {message} = addon.definition
  if (!message) return undefined
  const data = templateData(addon, context)
  try {
    return (await compileTemplate(message))(data).trim()
  } catch (error) {
    throw new ValidationError(`Cannot render ${addonId(addon.entry)}`, [
      {field: 'message', file: join(addon.dir, 'addon.yaml'), message: shortHandlebarsMessage(error as Error)},
    ])
  }
}
