import {type Document, LineCounter, isNode, parseDocument} from 'yaml'

import {ValidationError} from '../errors.js'

export type FieldPath = (number | string)[]

/** A parsed YAML file that still knows where each value came from, so errors can name the line. */
export class YamlSource {
  readonly data: unknown

  constructor(
    readonly file: string,
    private readonly document: Document,
    private readonly lines: LineCounter,
  ) {
    this.data = document.toJS({maxAliasCount: 100})
  }

  /** The line of the value at `path`, or of its nearest existing parent. */
  lineOf(path: FieldPath): number | undefined {
    for (let depth = path.length; depth >= 0; depth--) {
      const node = depth === 0 ? this.document.contents : this.document.getIn(path.slice(0, depth), true)
      if (isNode(node) && node.range) return this.lines.linePos(node.range[0]).line
    }

    return undefined
  }
}

/** Parses one YAML document; a syntax error becomes a ValidationError naming the file and line. */
export function parseYamlSource(file: string, text: string, label = file): YamlSource {
  const lines = new LineCounter()
  const document = parseDocument(text, {lineCounter: lines, prettyErrors: false, uniqueKeys: true})
  if (document.errors.length > 0) {
    throw new ValidationError(
      `Yaml format error in ${label} file`,
      document.errors.map((error) => ({
        file,
        line: lines.linePos(error.pos[0]).line,
        message: error.message.split('\n')[0],
      })),
    )
  }

  return new YamlSource(file, document, lines)
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
