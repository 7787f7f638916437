import {readFile} from 'node:fs/promises'
import {join, relative} from 'node:path'
import {parseAllDocuments} from 'yaml'

import {type Problem, ValidationError} from '../errors.js'
import {type DeclarativeAddon, addonId} from '../models/addon.js'
import type {OptionValue} from '../models/option-types.js'
import {handlebars} from './handlebars-env.js'
import {podSpecImages} from './images.js'

export interface KubeObject {
  apiVersion: string
  kind: string
  metadata: {annotations?: Record<string, string>; labels?: Record<string, string>; name: string; namespace?: string}
  [key: string]: unknown
}

export interface RenderedObject {
  object: KubeObject
  /** The template the object came from, relative to the addon directory. */
  template: string
}

export interface RenderContext {
  cluster: {arch: string; version: string}
  images: Record<string, string>
  options: Record<string, OptionValue>
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
      text = await readFile(file, 'utf8')
    } catch {
      continue
    }

    try {
      handlebars().precompile(text, {strict: true})
    } catch (error) {
      problems.push({file, line: lineOfHandlebarsError(error as Error), message: shortHandlebarsMessage(error as Error)})
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
  const data = {
    addon: {name: addon.definition.name, repository: addon.entry.repository, version: addon.definition.version},
    ...context,
  }
  const rendered: RenderedObject[] = []
  const problems: Problem[] = []
  for (const template of addon.manifests) {
    const file = join(addon.dir, template)
    const source = await readFile(file, 'utf8')
    let text: string
    try {
      text = handlebars().compile(source, {noEscape: true, strict: true})(data)
    } catch (error) {
      throw new ValidationError(`Cannot render ${id}`, [
        {file, line: lineOfHandlebarsError(error as Error), message: shortHandlebarsMessage(error as Error)},
      ])
    }

    for (const document of parseAllDocuments(text)) {
      const line = (offset: number) => text.slice(0, offset).split('\n').length
      const where = {file: `${file} (rendered)`, line: line(document.contents?.range?.[0] ?? document.range[0])}
      if (document.errors.length > 0) {
        problems.push({...where, line: line(document.errors[0].pos[0]), message: document.errors[0].message.split('\n')[0]})
        continue
      }

      const object = document.toJS() as KubeObject | null
      if (object === null || object === undefined) continue
      const missing = ['apiVersion', 'kind', 'metadata.name'].filter((field) =>
        field === 'metadata.name' ? typeof object.metadata?.name !== 'string' || !object.metadata.name : !object[field],
      )
      if (missing.length > 0) {
        problems.push({...where, message: `document is missing ${missing.join(', ')}`})
        continue
      }

      const allowed = new Set(Object.values(context.images))
      for (const image of podSpecImages(object)) {
        if (!allowed.has(image)) {
          problems.push({...where, message: `image ${image} of ${object.kind}/${object.metadata.name} has no key in addon.yaml images`})
        }
      }

      rendered.push({object, template: relative(addon.dir, file)})
    }
  }

  if (problems.length > 0) throw new ValidationError(`Cannot render ${id}`, problems)
  return rendered
}
