import type * as YamlModule from 'yaml'
import jsyaml from 'js-yaml'

import {type Problem, ValidationError} from '../errors.js'

export type FieldPath = (number | string)[]

type Lines = (path: FieldPath) => number | undefined
type YamlLibrary = typeof YamlModule

/**
 * The `yaml` library, loaded on demand. Bundled with code splitting, a dynamic import of a CommonJS package yields
 * only its `default` export, so both shapes are accepted.
 */
export async function loadYamlLibrary(): Promise<YamlLibrary> {
  const module = (await import('yaml')) as Partial<YamlLibrary> & {default?: YamlLibrary}
  return (module.LineCounter ? module : module.default) as YamlLibrary
}

/**
 * A parsed YAML file that can still say where each value came from. Files are read with js-yaml, which starts
 * and parses several times faster than `yaml`; `yaml`, which keeps source positions, is loaded only when a
 * problem needs a line number.
 */
export class YamlSource {
  constructor(
    readonly file: string,
    readonly text: string,
    readonly data: unknown,
    private lines?: Lines,
  ) {}

  /** Prepares lineOf; call it (once) before reporting problems. */
  async locate(): Promise<void> {
    if (this.lines) return
    const {LineCounter, isNode, parseDocument} = await loadYamlLibrary()
    const counter = new LineCounter()
    const document = parseDocument(this.text, {lineCounter: counter})
    this.lines = (path) => {
      for (let depth = path.length; depth >= 0; depth--) {
        const node = depth === 0 ? document.contents : document.getIn(path.slice(0, depth), true)
        if (isNode(node) && node.range) return counter.linePos(node.range[0]).line
      }

      return undefined
    }
  }

  /** The line of the value at `path`, or of its nearest existing parent; undefined before locate(). */
  lineOf(path: FieldPath): number | undefined {
    return this.lines?.(path)
  }
}

/** One document of a multi-document file, already located: its data (null when empty) and its lines. */
export interface YamlDocumentSource {
  /** The document's scalar exactly as written (`1.10`, not 1.1), for fields read as text. */
  textOf(path: FieldPath): string | undefined
  source: YamlSource
}

/**
 * Every document of a small file a user wrote (an apply file), parsed with `yaml` so that every value keeps its line
 * and its text as written. Syntax errors of all documents are returned together.
 */
export async function parseYamlDocumentSources(
  file: string,
  text: string,
): Promise<{documents: YamlDocumentSource[]; problems: Problem[]}> {
  const {LineCounter, isNode, isScalar, parseAllDocuments} = await loadYamlLibrary()
  const counter = new LineCounter()
  const parsed = parseAllDocuments(text, {lineCounter: counter, schema: 'core'})
  const all = Array.isArray(parsed) ? parsed : [parsed]
  const problems: Problem[] = all.flatMap((document) =>
    document.errors.map((error) => ({
      file,
      line: counter.linePos(error.pos[0]).line,
      message: error.message.split('\n')[0],
    })),
  )
  if (problems.length > 0) return {documents: [], problems}
  const documents = all.map((document) => {
    const nodeAt = (path: FieldPath) => (path.length === 0 ? document.contents : document.getIn(path, true))
    const lines: Lines = (path) => {
      for (let depth = path.length; depth >= 0; depth--) {
        const node = nodeAt(path.slice(0, depth))
        if (isNode(node) && node.range) return counter.linePos(node.range[0]).line
      }

      return undefined
    }

    const data: unknown = document.toJS({maxAliasCount: 1000})
    checkExpansion(data, file)
    return {
      source: new YamlSource(file, text, data, lines),
      textOf(path: FieldPath) {
        const node = nodeAt(path)
        if (!isScalar(node) || node.value === null) return undefined
        return typeof node.source === 'string' ? node.source : String(node.value)
      },
    }
  })
  return {documents, problems}
}

/** A js-yaml syntax error as a problem of `file`, with the line it names. */
export function yamlProblem(error: unknown, file: string): Problem {
  const {mark, reason} = error as {mark?: {line: number}; reason?: string}
  return {file, line: mark ? mark.line + 1 : undefined, message: reason ?? String(error)}
}

/** More values than any real file holds; a document beyond it is a "billion laughs" of aliases. */
export const MAX_YAML_NODES = 200_000

/**
 * Refuses a document whose aliases expand it beyond MAX_YAML_NODES values. js-yaml shares aliased values instead of
 * copying them, so the document itself is small; everything that walks it (validation, JSON, rendering) is not.
 */
export function checkExpansion(value: unknown, file: string): void {
  let budget = MAX_YAML_NODES
  const stack: unknown[] = [value]
  while (stack.length > 0) {
    const next = stack.pop()
    if (next === null || typeof next !== 'object') continue
    const children = Array.isArray(next) ? next : Object.values(next)
    budget -= children.length
    if (budget < 0) {
      throw new ValidationError('YAML too large', [
        {file, message: `expands to more than ${MAX_YAML_NODES} values (aliases?)`},
      ])
    }

    stack.push(...children)
  }
}

/** Parses one YAML document (core schema: no timestamps, no merge keys); a syntax error names the file and line. */
export function parseYamlSource(file: string, text: string, label = file): YamlSource {
  try {
    const data = jsyaml.load(text, {filename: file, schema: jsyaml.CORE_SCHEMA})
    checkExpansion(data, file)
    return new YamlSource(file, text, data)
  } catch (error) {
    if (error instanceof jsyaml.YAMLException)
      throw new ValidationError(`Yaml format error in ${label} file`, [yamlProblem(error, file)])
    throw error
  }
}

/** All documents of a multi-document text (rendered manifests), null for empty ones. */
export function parseYamlDocuments(text: string, file = '(rendered)'): unknown[] {
  const documents = jsyaml.loadAll(text, undefined, {schema: jsyaml.CORE_SCHEMA})
  checkExpansion(documents, file)
  return documents
}

export function dumpYaml(value: unknown): string {
  return jsyaml.dump(value, {lineWidth: -1, noRefs: true, schema: jsyaml.CORE_SCHEMA})
}

/** `a.b[2].c` from ['a', 'b', 2, 'c']. */
export function formatFieldPath(path: FieldPath): string {
  let out = ''
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`
    else out += out ? `.${part}` : part
  }

  return out || '(root)'
}
