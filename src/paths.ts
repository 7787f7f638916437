import {existsSync} from 'node:fs'
import {homedir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

/** The package root: the nearest folder above this module with package.json (src/, dist/ and dist/bundle/ alike). */
function findPackageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir)
  return dir
}

export const packageRoot = findPackageRoot()
export const bundledAddonsDir = join(packageRoot, 'addons')
export const templatesDir = join(packageRoot, 'templates')

/** Where user repositories live: $MK8S_HOME, else the XDG data directory. */
export function mk8sHome(env: NodeJS.ProcessEnv = process.env): string {
  if (env.MK8S_HOME) return env.MK8S_HOME
  const dataHome = env.XDG_DATA_HOME || join(homedir(), '.local', 'share')
  return join(dataHome, 'mk8s')
}

export function userRepositoriesDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(mk8sHome(env), 'repositories')
}
