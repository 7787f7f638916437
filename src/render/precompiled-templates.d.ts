// The table scripts/build.mjs writes as dist/render/precompiled-templates.js from the bundled repositories' templates
// (see precompiledModule); there is no source file: running from src compiles every template instead.
declare const specifications: Record<string, unknown>
export default specifications
