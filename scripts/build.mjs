// Compiles the TypeScript sources; with --manifest (npm run build) it also regenerates
// oclif.manifest.json, so the CLI starts from the manifest instead of importing every command.
// npm ci and npm test only compile: the committed manifest must stay what a test compares.
import {execFileSync} from 'node:child_process'
import {rmSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
rmSync(join(root, 'dist'), {force: true, recursive: true})
execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', root], {stdio: 'inherit'})

// The CLI runs from one ESM bundle with lazily loaded chunks (bin/run.js); dist/commands stays for oclif's
// manifest and for tests that import modules directly.
{
  const {build} = await import('esbuild')
  await build({
    banner: {js: "import {createRequire as __mk8sRequire} from 'node:module';const require = __mk8sRequire(import.meta.url);"},
    bundle: true,
    entryPoints: [join(root, 'dist/cli.js')],
    // oclif looks for these only to run TypeScript sources in development; they are never needed at run time.
    external: ['typescript', 'ts-node', 'tsx', 'tsx/*'],
    format: 'esm',
    logLevel: 'warning',
    // Smaller chunks parse faster at every start; names are kept so a bug's stack trace still reads.
    keepNames: true,
    minifySyntax: true,
    minifyWhitespace: true,
    outdir: join(root, 'dist/bundle'),
    platform: 'node',
    splitting: true,
    target: 'node20',
  })
}

if (process.argv.includes('--manifest')) {
  const {writeManifest} = await import('./manifest.mjs')
  await writeManifest(root)
}

// Schema validators are generated as code at build time: compiling JSON Schemas with ajv
// at run time would cost every command that loads a repository tens of milliseconds.
{
  const {Ajv} = await import('ajv')
  const {default: standaloneCode} = await import('ajv/dist/standalone/index.js')
  const schemas = await import(join(root, 'dist/schemas/index.js'))
  const ajv = new Ajv({allErrors: true, allowUnionTypes: true, code: {esm: true, source: true}, strict: true})
  ajv.addSchema(schemas.addonSchema, 'addon').addSchema(schemas.addonsFileSchema, 'addons-file')
  const {writeFileSync} = await import('node:fs')
  // The generated ESM still require()s ajv's small runtime helpers.
  const code = standaloneCode(ajv, {addon: 'addon', addonsFile: 'addons-file'})
  const prelude = "import {createRequire} from 'node:module';const require = createRequire(import.meta.url);"
  writeFileSync(join(root, 'dist/schemas/validators.js'), prelude + code.replace(/^"use strict";/, ''))
}
