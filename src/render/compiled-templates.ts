import {createHash} from 'node:crypto'

import type {TemplateDelegate} from 'handlebars'

import {handlebars} from './handlebars-env.js'

/** How every manifest template is compiled: strict (an unknown name is an error), and YAML is never HTML-escaped. */
export const TEMPLATE_OPTIONS = {noEscape: true, strict: true} as const

/** A template's key in the build's table: the SHA-256 of its text, so a template that differs at all is not in it. */
export function templateKey(source: string): string {
  return createHash('sha256').update(source).digest('base64url')
}

/** Whether a text is a template at all: Handlebars gives a text without a mustache back unchanged. */
export const hasMustache = (source: string): boolean => source.includes('{{')

/**
 * Specifications by key of the texts that are templates, as Handlebars's precompile writes them: the module text the
 * build bundles.
 */
export function precompiledModule(sources: Iterable<string>): string {
  const entries = [...new Set(sources)]
    .filter(hasMustache)
    .map((source) => `${JSON.stringify(templateKey(source))}: ${handlebars().precompile(source, TEMPLATE_OPTIONS)}`)
  return `export default {\n${entries.join(',\n')}\n}\n`
}

type Table = Record<string, TemplateSpecification>
type TemplateSpecification = Parameters<ReturnType<typeof handlebars>['template']>[0]

let table: Promise<Table> | undefined

/**
 * The bundled templates the build precompiled (dist/render/precompiled-templates.js): compiling is most of rendering
 * a small addon. Absent when running from src, where every template is compiled. The shared partials found in it are
 * registered precompiled too, once.
 */
function precompiled(): Promise<Table> {
  table ??= import('./precompiled-templates.js').then(
    (module) => {
      const known = (module as unknown as {default: Table}).default
      const hb = handlebars()
      for (const [name, partial] of Object.entries(hb.partials as Record<string, unknown>)) {
        const spec = typeof partial === 'string' ? known[templateKey(partial)] : undefined
        if (spec) hb.registerPartial(name, hb.template(withOptions(spec)))
      }

      return known
    },
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ERR_MODULE_NOT_FOUND' || error.code === 'MODULE_NOT_FOUND') return {}
      throw error
    },
  )
  return table
}

/**
 * A precompiled specification does not carry its compile options, and Handlebars compiles a partial given as text
 * with the options of the template that calls it: without them, a partial would escape HTML and not be strict.
 */
function withOptions(spec: TemplateSpecification): TemplateSpecification {
  return {...spec, compilerOptions: TEMPLATE_OPTIONS} as TemplateSpecification
}

/**
 * The template for a text: the build's precompiled one when the text is exactly a bundled template, else compiled
 * now. Both come from the same Handlebars with the same options, so they render the same.
 */
export async function compileTemplate(source: string): Promise<TemplateDelegate> {
  if (!hasMustache(source)) return () => source
  const spec = (await precompiled())[templateKey(source)]
  return spec ? handlebars().template(withOptions(spec)) : handlebars().compile(source, TEMPLATE_OPTIONS)
}
