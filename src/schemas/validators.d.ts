// The validators scripts/build.mjs generates from PUBLISHED_SCHEMAS as dist/schemas/validators.js, one export per
// schema (see validatorName); there is no source file: running from src compiles the schemas instead.
import type {ValidateFunction} from 'ajv'

declare const validators: Record<string, ValidateFunction>
export default validators
