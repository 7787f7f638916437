// Compiles the TypeScript sources, writes oclif.manifest.json from the compiled commands, writes the command index
// (dist/main.js) from that manifest, generates the schema validators, precompiles the bundled templates, bundles the
// CLI and makes its code cache.
// Every build derives the command list from the command files, so no list is kept by hand and none can drift.
import {execFileSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {readFile} from 'node:fs/promises'
import {createRequire} from 'node:module'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {writeCommandIndex, writeManifest} from './manifest.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
rmSync(join(root, 'dist'), {force: true, recursive: true})
execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', root], {stdio: 'inherit'})

const manifest = await writeManifest(root)
writeCommandIndex(root, manifest)

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

// The bundled repositories' templates (manifests, the strings of addon.yaml, the shared partials) are precompiled
// into a table the bundle carries: Handlebars parses and generates code for each at every render otherwise, most of
// the time `mk8s render dns` spends rendering. A template is found by its SHA-256, so one changed on disk, or any
// other repository's, is compiled at run time.
{
  const {parse} = await import('yaml')
  const {precompiledModule} = await import(join(root, 'dist/render/compiled-templates.js'))
  const {BUNDLED_REPOSITORIES} = await import(join(root, 'dist/addons/catalog.js'))
  const {bundledAddonsDir, templatesDir} = await import(join(root, 'dist/paths.js'))
  const files = (dir, suffix) =>
    readdirSync(dir, {recursive: true})
      .filter((file) => file.endsWith(suffix))
      .map((file) => readFileSync(join(dir, file), 'utf8'))
  const strings = (value) =>
    typeof value === 'string'
      ? [value]
      : value && typeof value === 'object'
        ? Object.values(value).flatMap(strings)
        : []
  const addons = BUNDLED_REPOSITORIES.map((repo) => join(bundledAddonsDir, repo, 'addons'))
  const sources = [
    ...files(join(templatesDir, 'partials'), '.hbs'),
    ...addons.flatMap((dir) => files(dir, '.hbs')),
    ...addons.flatMap((dir) => files(dir, 'addon.yaml').flatMap((text) => strings(parse(text)))),
  ]
  writeFileSync(join(root, 'dist/render/precompiled-templates.js'), precompiledModule(sources))
}

/**
 * oclif sorts the root plugin's commands with localeCompare at every start, and the first localeCompare of a process
 * builds ICU's collator: about 5 ms, a quarter of Node's own start. Command ids are ASCII, where code-point order is
 * the same. A newer oclif without this line fails the build, so that the patch is reviewed, never silently lost.
 */
const oclifCommandSort = {
  name: 'oclif-command-sort',
  setup(build) {
    build.onLoad({filter: /@oclif[\\/]core[\\/]lib[\\/]config[\\/]plugin\.js$/}, async ({path}) => {
      const text = await readFile(path, 'utf8')
      const sort = '.sort((a, b) => a.id.localeCompare(b.id))'
      if (!text.includes(sort))
        throw new Error(`${path} no longer sorts commands with localeCompare: review this patch`)
      return {contents: text.replace(sort, '.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))'), loader: 'js'}
    })
  },
}

/**
 * oclif's logger makes a `debug` logger at start, and the debug module costs about 3 ms to load (tty, util and
 * supports-color with it). In the bundle, `debug` is this stand-in: it loads the real module only when DEBUG asks for
 * its output, and is silent otherwise, as debug itself is without DEBUG.
 */
const lazyDebug = {
  name: 'lazy-debug',
  setup(build) {
    const real = createRequire(join(root, 'node_modules/@oclif/core/package.json')).resolve('debug')
    build.onResolve({filter: /^debug$/}, () => ({namespace: 'lazy-debug', path: 'debug'}))
    build.onLoad({filter: /.*/, namespace: 'lazy-debug'}, () => ({
      contents: `function quiet(namespace) {
  const log = () => {}
  return Object.assign(log, {enabled: false, extend: (sub, delimiter = ':') => quiet(namespace + delimiter + sub), namespace})
}
module.exports = process.env.DEBUG ? require(${JSON.stringify(real)}) : Object.assign(quiet, {disable: () => '', enable() {}, enabled: () => false})
`,
      loader: 'js',
      resolveDir: root,
    }))
  },
}

// The CLI runs from one CommonJS bundle, dist/bundle/main.cjs, which bin/run.js compiles with a V8 code cache
// (Node 20 has no compile cache for ES modules): parsing and compiling the code is most of a start otherwise. Modules
// a command imports lazily stay lazy inside the bundle. Dynamic imports become require() calls, which a script
// compiled with a code cache can make (an import() there needs an experimental flag); @kubernetes/client-node, an
// ES module of 5 MB loaded only for auth-provider users, stays outside and is loaded by require(esm).
{
  const {build} = await import('esbuild')
  const bundle = (name, entry) =>
    build({
      banner: {js: "var __mk8sModuleUrl = require('node:url').pathToFileURL(__filename).href;"},
      bundle: true,
      define: {'import.meta.url': '__mk8sModuleUrl'},
      entryPoints: {[name]: join(root, entry)},
      // oclif looks for these only to run TypeScript sources in development; they are never needed at run time.
      external: ['@kubernetes/client-node', 'typescript', 'ts-node', 'tsx', 'tsx/*'],
      format: 'cjs',
      // Local names are shortened (a smaller file to read and a smaller code cache: about 3 ms of every start);
      // function and class names are kept, so that a bug's stack trace still reads.
      keepNames: true,
      logLevel: 'warning',
      minifyIdentifiers: true,
      minifySyntax: true,
      minifyWhitespace: true,
      outExtension: {'.js': '.cjs'},
      outdir: join(root, 'dist/bundle'),
      platform: 'node',
      plugins: [oclifCommandSort, lazyDebug],
      supported: {'dynamic-import': false},
      target: 'node20',
    })
  // The agent has an entry of its own: a long-running server starts without oclif (bin/run.js).
  await Promise.all([bundle('main', 'dist/main.js'), bundle('agent', 'dist/agent/main.js')])
  // What bin/run.js names a code cache of its own by. V8 checks a cache against the source's length alone, so the
  // cache of another bundle of the same length (another mk8s version: npm packs every file with one fixed mtime) would
  // run that bundle's code.
  const id = createHash('sha256')
    .update(readFileSync(join(root, 'dist/bundle/main.cjs')))
    .digest('hex')
  writeFileSync(join(root, 'dist/bundle/main.id'), id.slice(0, 32))
}

// The code cache: a few commands run offline, each adding what it compiled, so that the functions a start needs
// are compiled already. A cache is valid only for the Node that made it; bin/run.js keeps one per Node otherwise.
{
  const home = mkdtempSync(join(tmpdir(), 'mk8s-build-'))
  const env = {...process.env, MK8S_CODE_CACHE_OUT: join(root, 'dist/bundle/main.cache'), MK8S_HOME: home}
  delete env.KUBECONFIG
  for (const args of [
    ['render', 'dns'],
    ['addons', 'list'],
    ['enable', 'dns', '--dry-run', 'client'],
    ['status', '--help'],
  ])
    // Output is kept, not shown: a warm-up that fails stops the build with what it printed.
    execFileSync(process.execPath, [join(root, 'bin/run.js'), ...args], {env, stdio: 'pipe'})
  rmSync(home, {force: true, recursive: true})
}
