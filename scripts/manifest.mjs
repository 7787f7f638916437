// Builds oclif.manifest.json from the compiled commands, the way `oclif manifest`
// does, without pulling the oclif packaging tool (and its cloud SDKs) into the install.
import {Plugin} from '@oclif/core'
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

export async function buildManifest(root) {
  const plugin = new Plugin({ignoreManifest: true, isRoot: true, root, type: 'core'})
  await plugin.load()
  const manifest = JSON.parse(JSON.stringify(plugin.manifest))
  // Absolute paths and load order would make the committed file differ per machine.
  for (const command of Object.values(manifest.commands)) delete command.isESM
  manifest.commands = Object.fromEntries(Object.entries(manifest.commands).sort(([a], [b]) => a.localeCompare(b)))
  return JSON.stringify(manifest, null, 2) + '\n'
}

export async function writeManifest(root) {
  writeFileSync(join(root, 'oclif.manifest.json'), await buildManifest(root))
}

export function readManifest(root) {
  return readFileSync(join(root, 'oclif.manifest.json'), 'utf8')
}
