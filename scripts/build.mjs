// Compiles the TypeScript sources and regenerates oclif.manifest.json, so the
// CLI starts from the manifest instead of importing every command.
import {execFileSync} from 'node:child_process'
import {rmSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
rmSync(join(root, 'dist'), {force: true, recursive: true})
execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', root], {stdio: 'inherit'})

const {writeManifest} = await import('./manifest.mjs')
await writeManifest(root)
