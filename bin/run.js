#!/usr/bin/env node
// Starts mk8s from its bundle (dist/bundle, made by the build). This file is CommonJS (bin/package.json): an ES module
// entry costs Node about 3 ms more to start, and the bundle is compiled here with a V8 code cache, which Node 20
// offers only to scripts. Nothing in it is needed for `--version`, which answers at once.
'use strict'
const {mkdirSync, readFileSync, renameSync, writeFileSync} = require('node:fs')
const {Module, createRequire} = require('node:module')
const {homedir} = require('node:os')
const {dirname, join} = require('node:path')
const vm = require('node:vm')

const root = join(__dirname, '..')
const pjson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
const [command, ...rest] = process.argv.slice(2)

/**
 * Runs a CommonJS bundle compiled with the code cache the build left beside it, or, where this Node rejects that one
 * (it was made by another Node version), with one of this user's, named by Node version and the bundle's content id
 * (the build writes it beside the bundle), and written once after a run that had none. MK8S_CODE_CACHE_OUT (the
 * build) adds this run's functions to the cache at that path.
 */
function runBundle(file) {
  const source = readFileSync(file, 'utf8')
  const base = file.slice(0, -'.cjs'.length)
  const built = `${base}.cache`
  // V8 takes a cache only from the same version and flags, and checks the source by its length alone: the cache of
  // another bundle of the same length would run that bundle's code. Without the build's id, no cache of our own.
  const id = /^[0-9a-f]{8,64}$/.exec(readOptional(`${base}.id`)?.toString('utf8').trim() ?? '')?.[0]
  const cacheHome = process.env.XDG_CACHE_HOME || join(homedir(), '.cache')
  const flags = hash([...process.execArgv, process.env.NODE_OPTIONS ?? ''].join(' '))
  const own = id && join(cacheHome, 'mk8s', `code-${[process.version, process.arch, flags, id].join('-')}.cache`)
  const out = process.env.MK8S_CODE_CACHE_OUT
  // One candidate only: V8 keeps what it compiled in this process by source and file name, so a second try would be
  // "accepted" from that, whatever its bytes. Ours exists only where this Node refused the build's, so it goes first.
  const ownData = out || !own ? undefined : readOptional(own)
  const cachedData = ownData ?? readOptional(out ?? built)
  const script = new vm.Script(Module.wrap(source), cachedData ? {cachedData, filename: file} : {filename: file})
  const accepted = cachedData !== undefined && !script.cachedDataRejected

  const write = out ?? (accepted || !own ? undefined : own)
  if (write) process.once('exit', () => writeCache(write, script.createCachedData()))
  const module = {exports: {}}
  script.runInThisContext()(module.exports, createRequire(file), module, file, dirname(file))
  return module.exports
}

/** FNV-1a: a short name for a string, not a secret. */
function hash(text) {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0
  return h.toString(16)
}

function readOptional(path) {
  try {
    return readFileSync(path)
  } catch {
    return undefined
  }
}

/** Best effort: a cache that cannot be written only makes the next start slower. Renamed into place, never torn. */
function writeCache(path, data) {
  try {
    mkdirSync(dirname(path), {recursive: true})
    const partial = `${path}.${process.pid}`
    writeFileSync(partial, data)
    renameSync(partial, path)
  } catch {
    // Read-only or full: nothing to do.
  }
}

// `mk8s agent` is a long-running server: it starts without oclif, for its memory. Help and --json go through oclif.
if (command === '--version' && rest.length === 0) {
  // What oclif prints, without loading the CLI: the one answer a version check waits for.
  console.log(`${pjson.name}/${pjson.version} ${process.platform}-${process.arch} node-${process.version}`)
} else if (command === 'agent' && !rest.some((arg) => ['--help', '-h', '--json'].includes(arg))) {
  require('../dist/bundle/agent.cjs').runAgentLean(rest, pjson.version)
} else {
  // oclif checks its own package.json's engines (semver and a failed lookup in the bundle) at every start; ours are
  // stricter and npm checks them when mk8s is installed.
  process.env.OCLIF_DISABLE_ENGINE_WARNING ??= '1'
  const {COMMANDS, run} = runBundle(join(root, 'dist', 'bundle', 'main.cjs'))
  // oclif finds the commands through a module of its own choosing: this one hands it the bundle's (see commands.cjs).
  globalThis[Symbol.for('mk8s.commands')] = COMMANDS
  pjson.oclif.commands = {identifier: 'COMMANDS', strategy: 'explicit', target: './bin/commands.cjs'}
  run({pjson, root})
}
