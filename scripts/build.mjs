// Compiles the TypeScript sources, writes oclif.manifest.json from the compiled commands, writes the command index
// (dist/main.js) from that manifest, and bundles the CLI. Every build derives the command list from the command
// files, so no list is kept by hand and none can drift.
import {execFileSync} from 'node:child_process'
import {mkdirSync, rmSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {writeCommandIndex, writeManifest} from './manifest.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
rmSync(join(root, 'dist'), {force: true, recursive: true})
execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', root], {stdio: 'inherit'})

const manifest = await writeManifest(root)
writeCommandIndex(root, manifest)

// The CLI runs from one ESM bundle with lazily loaded chunks (bin/run.js); dist/commands stays for oclif's
// manifest and for tests that import modules directly.
{
  const {build} = await import('esbuild')
  await build({
    banner: {
      js: "import {createRequire as __mk8sRequire} from 'node:module';const require = __mk8sRequire(import.meta.url);",
    },
    bundle: true,
    // The agent has an entry of its own: a long-running server starts without oclif (bin/run.js).
    entryPoints: {agent: join(root, 'dist/agent/main.js'), main: join(root, 'dist/main.js')},
    // oclif looks for these only to run TypeScript sources in development; they are never needed at run time.
    external: ['typescript', 'ts-node', 'tsx', 'tsx/*'],
    format: 'esm',
    // Smaller chunks parse faster at every start; names are kept so a bug's stack trace still reads.
    keepNames: true,
    logLevel: 'warning',
    minifySyntax: true,
    minifyWhitespace: true,
    outdir: join(root, 'dist/bundle'),
    platform: 'node',
    splitting: true,
    target: 'node20',
  })
}

// Schema validators are generated as code at build time: compiling JSON Schemas with ajv at run time would cost
// every command that loads a repository tens of milliseconds. The schemas themselves are published as files in
// dist/schemas for editors (addons new writes their path into addon.yaml).
{
  const {Ajv} = await import('ajv')
  const {default: standaloneCode} = await import('ajv/dist/standalone/index.js')
  const schemas = await import(join(root, 'dist/schemas/index.js'))
  const ajv = new Ajv({allErrors: true, allowUnionTypes: true, code: {esm: true, source: true}, strict: true})
  for (const [id, schema] of Object.entries(schemas.PUBLISHED_SCHEMAS)) ajv.addSchema(schema, id)
  // The generated ESM still require()s ajv's small runtime helpers.
  const code = standaloneCode(
    ajv,
    Object.fromEntries(Object.keys(schemas.PUBLISHED_SCHEMAS).map((id) => [schemas.validatorName(id), id])),
  )
  const prelude = "import {createRequire} from 'node:module';const require = createRequire(import.meta.url);"
  writeFileSync(join(root, 'dist/schemas/validators.js'), prelude + code.replace(/^"use strict";/, ''))
  mkdirSync(join(root, 'dist/schemas'), {recursive: true})
  for (const [id, schema] of Object.entries(schemas.PUBLISHED_SCHEMAS)) {
    const published = {$id: `${id}.schema.json`, $schema: 'http://json-schema.org/draft-07/schema#', ...schema}
    writeFileSync(join(root, 'dist/schemas', `${id}.schema.json`), JSON.stringify(published, null, 2) + '\n')
  }
}
