// The validators scripts/build.mjs generates from PUBLISHED_SCHEMAS as dist/schemas/validators.js, one named export
// per schema (see validatorName); there is no source file: running from src compiles the schemas instead. Declared as
// a default export only because the names are not known here: schema-validation.ts reads the module as a record.
import type {ValidateFunction} from 'ajv'

declare const validators: Record<string, ValidateFunction>
export default validators
