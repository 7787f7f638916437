#!/usr/bin/env node
// Starts mk8s from its bundle (dist/bundle, made by the build): one module graph instead of hundreds of files,
// which is most of the start-up time. The commands are found through the bundle's COMMANDS map, which the build
// derives from the manifest.
import {readFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const pjson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
const [command, ...rest] = process.argv.slice(2)
// `mk8s agent` is a long-running server: it starts without oclif, for its memory. Help and --json go through oclif.
if (command === '--version' && rest.length === 0) {
  // What oclif prints, without loading the CLI: the one answer a version check waits for.
  console.log(`${pjson.name}/${pjson.version} ${process.platform}-${process.arch} node-${process.version}`)
} else if (command === 'agent' && !rest.some((arg) => ['--help', '-h', '--json'].includes(arg))) {
  const {runAgentLean} = await import('../dist/bundle/agent.js')
  await runAgentLean(rest, pjson.version)
} else {
  pjson.oclif.commands = {identifier: 'COMMANDS', strategy: 'explicit', target: './dist/bundle/main.js'}
  const {run} = await import('../dist/bundle/main.js')
  await run({pjson, root})
}
