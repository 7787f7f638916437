import {homedir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

/** The package root: dist/paths.js and src/paths.ts both sit one level below it. */
export const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..')
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
