import type {ErrorObject, ValidateFunction} from 'ajv'

import type {Problem} from '../errors.js'
import {type FieldPath, type YamlSource, formatFieldPath} from './yaml-source.js'

import type {SchemaId} from '../schemas/index.js'

type SchemaName = SchemaId

const compiled = new Map<SchemaName, ValidateFunction>()

/**
 * The validators the build generated as code (dist/schemas/validators.js, bundled with the CLI); absent when running
 * from src, where they are compiled from the schemas instead.
 */
async function precompiled(): Promise<Record<string, ValidateFunction> | undefined> {
  try {
    return (await import('../schemas/validators.js')) as unknown as Record<string, ValidateFunction>
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') return undefined
    throw error
  }
}

async function compile(name: SchemaName): Promise<ValidateFunction> {
  const [ajvModule, schemas] = await Promise.all([import('ajv'), import('../schemas/index.js')])
  // A bundled dynamic import of this CommonJS package may yield only its default export.
  const {Ajv} = 'Ajv' in ajvModule ? ajvModule : (ajvModule as unknown as {default: typeof ajvModule}).default
  const ajv = new Ajv({allErrors: true, allowUnionTypes: true, strict: true})
  return ajv.compile(schemas.PUBLISHED_SCHEMAS[name])
}

async function validator(name: SchemaName): Promise<ValidateFunction> {
  let validate = compiled.get(name)
  if (!validate) {
    const {validatorName} = await import('../schemas/index.js')
    validate = (await precompiled())?.[validatorName(name)] ?? (await compile(name))
    compiled.set(name, validate)
  }

  return validate
}

function pathOf(error: ErrorObject): FieldPath {
  const path: FieldPath = error.instancePath
    .split('/')
    .slice(1)
    .map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~'))
    .map((part) => (/^\d+$/.test(part) ? Number(part) : part))
  if (error.keyword === 'required') path.push(error.params.missingProperty as string)
  if (error.keyword === 'additionalProperties') path.push(error.params.additionalProperty as string)
  // A key that breaks `propertyNames`: the error is about the key itself.
  if (error.propertyName !== undefined) path.push(error.propertyName)
  return path
}

function messageOf(error: ErrorObject): string {
  if (error.propertyName !== undefined && error.keyword === 'pattern') {
    return `is not a valid name (must match ${error.params.pattern as string})`
  }

  switch (error.keyword) {
    case 'additionalProperties': {
      return 'is not a known field'
    }

    case 'const': {
      return `must be ${JSON.stringify(error.params.allowedValue)}`
    }

    case 'enum': {
      return `must be one of: ${(error.params.allowedValues as unknown[]).join(', ')}`
    }

    case 'required': {
      return 'is required'
    }

    default: {
      return error.message ?? 'is invalid'
    }
  }
}

/** Problems with file, field and line for every way `source` breaks the schema. */
export async function schemaProblems(name: SchemaName, source: YamlSource): Promise<Problem[]> {
  const validate = await validator(name)
  if (validate(source.data)) return []
  await source.locate()
  const seen = new Set<string>()
  const problems: Problem[] = []
  for (const error of validate.errors ?? []) {
    // oneOf/anyOf/if errors repeat what their branches already said.
    if (['anyOf', 'if', 'oneOf', 'propertyNames'].includes(error.keyword)) continue
    const path = pathOf(error)
    const problem = {
      field: formatFieldPath(path),
      file: source.file,
      line: source.lineOf(path),
      message: messageOf(error),
    }
    const key = `${problem.field}:${problem.message}`
    if (!seen.has(key)) problems.push(problem)
    seen.add(key)
  }

  return problems
}
