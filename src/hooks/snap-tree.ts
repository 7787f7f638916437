import {chmod, copyFile, mkdir, mkdtemp, readlink, rm, symlink, writeFile} from 'node:fs/promises'
import {homedir, tmpdir} from 'node:os'
import {basename, delimiter, dirname, isAbsolute, join, resolve} from 'node:path'

import {UsageError} from '../errors.js'
import {isExecutable, pathExists} from '../host/fs.js'
import {packageRoot, templatesDir} from '../paths.js'

/** The MicroK8s snap on a real node: hooks run against it there, exactly as `microk8s enable` runs them. */
export const MICROK8S_SNAP = '/snap/microk8s/current'

/**
 * The real snap's paths when MicroK8s is installed on this machine (`$MK8S_MICROK8S_SNAP` names another folder, for
 * tests), else undefined. Its revision is where `current` points.
 */
export async function installedSnap(env: NodeJS.ProcessEnv): Promise<SnapPaths | undefined> {
  // <prefix>/snap/microk8s/current beside <prefix>/var/snap/microk8s, as snapd lays them out under /.
  const snap = env.MK8S_MICROK8S_SNAP || MICROK8S_SNAP
  if (!(await pathExists(join(snap, 'microk8s-enable.wrapper')))) return undefined
  const revision = await readlink(snap).then(basename, () => basename(snap))
  const data = join(dirname(dirname(dirname(snap))), 'var', 'snap', 'microk8s')
  const home = env.HOME ?? homedir()
  return {
    SNAP: join(dirname(snap), revision),
    SNAP_COMMON: join(data, 'common'),
    SNAP_DATA: join(data, revision),
    SNAP_USER_COMMON: join(home, 'snap', 'microk8s', 'common'),
    SNAP_USER_DATA: join(home, 'snap', 'microk8s', revision),
  }
}

/** The snapd variables a hook reads, with the paths they point at. */
export interface SnapPaths {
  SNAP: string
  SNAP_COMMON: string
  SNAP_DATA: string
  SNAP_USER_COMMON: string
  SNAP_USER_DATA: string
}

export interface SnapTreeOptions {
  /** The cluster's architecture as Kubernetes names it (amd64, arm64, ppc64le, s390x). */
  arch: string
  /** Flags a nested mk8s enable or disable is given besides the kubeconfig: the agent flags, --kubectl, --helm. */
  cliArgs: string[]
  /** The current context as a kubeconfig of its own: `$SNAP_DATA/credentials/client.config`. */
  clientConfig: string
  /** PATH of the user, searched for kubectl, helm and the host tools hooks call by their `$SNAP` paths. */
  env: NodeJS.ProcessEnv
  /** --helm and --kubectl: the programs to use instead of the ones on PATH. */
  helm?: string
  kubectl?: string
  /** The current arguments of each service of one node, as its agent reports them: `$SNAP_DATA/args/<service>`. */
  nodeArgs: Map<string, string>
}

export interface SnapTree {
  /** Where the helper server listens and the token it checks (`mk8s-helper` reads both). */
  helper: {socket: string; tokenFile: string}
  paths: SnapPaths
  /** The programs found (or not): what a hook's kubectl and helm wrappers run. */
  programs: {helm?: string; kubectl?: string}
  remove(): Promise<void>
}

/** Host tools upstream hooks and utils.sh call by their `$SNAP` paths (`$SNAP/bin/sed`, `$SNAP/usr/bin/gawk`). */
const HOST_TOOLS: [string, string][] = [
  ['bin', 'sed'],
  ['bin', 'grep'],
  ['bin', 'cat'],
  ['bin', 'tar'],
  ['bin', 'hostname'],
  ['bin', 'ip'],
  ['sbin', 'ip'],
  ['usr/bin', 'python3'],
  ['usr/bin', 'curl'],
  ['usr/bin', 'gawk'],
  ['usr/bin', 'wc'],
  ['usr/bin', 'tr'],
  ['usr/bin', 'cut'],
  ['usr/bin', 'openssl'],
  ['usr/bin', 'base64'],
  ['usr/bin', 'cmp'],
]

/** Folders MicroK8s creates under `$SNAP_DATA` and `$SNAP_COMMON` that hooks write into without creating. */
const DATA_DIRS = ['args', 'credentials', 'var/lock', 'var/tmp', 'tmp', 'bin', 'opt/cni/bin', 'args/cni-network']
const COMMON_DIRS = ['plugins', 'run', 'bin', 'addons', 'var/lib/kubelet']

/** A value as one bash word. */
export const shellQuote = (value: string): string => `'${value.replaceAll("'", `'\\''`)}'`

/** The first executable called `name` on PATH, or the path itself (made absolute) when it has a slash. */
export async function findProgram(name: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  // A path is taken from mk8s's folder, not the hook's: the wrappers run it from the addon's folder.
  const candidates = name.includes('/')
    ? [resolve(name)]
    : (env.PATH ?? '')
        .split(delimiter)
        .filter((dir) => isAbsolute(dir))
        .map((dir) => join(dir, name))
  for (const candidate of candidates) if (await isExecutable(candidate)) return candidate
  return undefined
}

/** snapd's name of an architecture (`SNAP_ARCH`): Kubernetes' names but ppc64el. */
export const snapArch = (arch: string): string => (arch === 'ppc64le' ? 'ppc64el' : arch)

const script = (lines: string[]) => `#!/usr/bin/env bash\n${lines.join('\n')}\n`

/** A wrapper that runs a program found by mk8s, or says what to install when none was. */
function programWrapper(program: string | undefined, what: string, flag: string, args: string[]): string {
  if (!program) {
    return script([
      `echo ${shellQuote(`${what} is not installed: this hook needs it. Install it, or pass ${flag} PATH to mk8s.`)} >&2`,
      'exit 127',
    ])
  }

  return script([`exec ${[program, ...args].map(shellQuote).join(' ')} "$@"`])
}

/**
 * Writes the compatibility tree mk8s gives a hook as `$SNAP`, `$SNAP_DATA`, `$SNAP_COMMON` and the user folders, laid
 * out as a snap installation is (`…/microk8s/x1` with `current` beside it), in a private temporary folder removed
 * after the run. Its wrappers call kubectl, helm and mk8s itself; its utils.sh calls back into the running mk8s.
 */
export async function writeSnapTree(options: SnapTreeOptions): Promise<SnapTree> {
  const root = await mkdtemp(join(tmpdir(), 'mk8s-hook-'))
  try {
    return await fillTree(root, options)
  } catch (error) {
    await rm(root, {force: true, recursive: true})
    throw error
  }
}

async function fillTree(root: string, options: SnapTreeOptions): Promise<SnapTree> {
  const revision = 'x1'
  const paths: SnapPaths = {
    SNAP: join(root, 'snap', 'microk8s', revision),
    SNAP_COMMON: join(root, 'var', 'snap', 'microk8s', 'common'),
    SNAP_DATA: join(root, 'var', 'snap', 'microk8s', revision),
    SNAP_USER_COMMON: join(root, 'home', 'snap', 'microk8s', 'common'),
    SNAP_USER_DATA: join(root, 'home', 'snap', 'microk8s', revision),
  }
  const {SNAP, SNAP_COMMON, SNAP_DATA} = paths
  await Promise.all([
    ...DATA_DIRS.map((dir) => mkdir(join(SNAP_DATA, dir), {recursive: true})),
    ...COMMON_DIRS.map((dir) => mkdir(join(SNAP_COMMON, dir), {recursive: true})),
    mkdir(join(paths.SNAP_USER_DATA, 'tmp'), {recursive: true}),
    mkdir(paths.SNAP_USER_COMMON, {recursive: true}),
    ...['actions/common', 'meta', 'bin', 'sbin', 'usr/bin', 'usr/sbin'].map((dir) =>
      mkdir(join(SNAP, dir), {recursive: true}),
    ),
  ])
  // Hooks find the running revision through `current` (multus: `$(dirname $SNAP_DATA)/current`).
  await symlink(revision, join(root, 'var', 'snap', 'microk8s', 'current'))
  await symlink(revision, join(root, 'snap', 'microk8s', 'current'))

  const clientConfig = join(SNAP_DATA, 'credentials', 'client.config')
  await writeFile(clientConfig, options.clientConfig, {mode: 0o600})
  // MicroK8s's wait_for_service_shutdown reads $SNAP/client.config; a hook calling its own copy finds it too.
  await symlink(clientConfig, join(SNAP, 'client.config'))
  for (const [service, text] of options.nodeArgs) await writeFile(join(SNAP_DATA, 'args', service), text)
  // Every MicroK8s since 1.19 runs kubelite on dqlite: hooks that look for these locks take the clustered paths.
  await Promise.all(['ha-cluster', 'lite.lock'].map((lock) => writeFile(join(SNAP_DATA, 'var', 'lock', lock), '')))
  await writeFile(join(SNAP, 'meta', 'snap.yaml'), 'name: microk8s\nconfinement: classic\n')
  await copyFile(join(templatesDir, 'snap', 'actions', 'common', 'utils.sh'), join(SNAP, 'actions/common/utils.sh'))

  const kubectl = options.kubectl
    ? await requireProgram(options.kubectl, '--kubectl', options.env)
    : await findProgram('kubectl', options.env)
  const helm = options.helm
    ? await requireProgram(options.helm, '--helm', options.env)
    : await findProgram('helm', options.env)
  const helper = {socket: join(root, 'helper.sock'), tokenFile: join(root, 'helper.token')}
  const mk8s = [process.execPath, join(packageRoot, 'bin', 'run.js')]
  const kubeconfigFlag = `--kubeconfig=${clientConfig}`
  const nested = (command: string[]) =>
    script([`exec ${[...mk8s, ...command, kubeconfigFlag, ...options.cliArgs].map(shellQuote).join(' ')} "$@"`])
  const files: Record<string, string> = {
    kubectl: programWrapper(kubectl, 'kubectl', '--kubectl', []),
    'microk8s-addons.wrapper': script([`exec ${[...mk8s, 'addons'].map(shellQuote).join(' ')} "$@"`]),
    'microk8s-config.wrapper': script([`exec cat ${shellQuote(clientConfig)}`]),
    'microk8s-disable.wrapper': nested(['disable']),
    'microk8s-enable.wrapper': nested(['enable']),
    'microk8s-helm.wrapper': programWrapper(helm, 'helm', '--helm', [kubeconfigFlag]),
    'microk8s-helm3.wrapper': programWrapper(helm, 'helm', '--helm', [kubeconfigFlag]),
    'microk8s-kubectl.wrapper': programWrapper(kubectl, 'kubectl', '--kubectl', [kubeconfigFlag]),
    'microk8s-status.wrapper': script([`exec ${[...mk8s, 'status', kubeconfigFlag].map(shellQuote).join(' ')} "$@"`]),
    'mk8s-helper': script([
      `exec ${[process.execPath, join(templatesDir, 'snap', 'mk8s-helper.mjs'), helper.socket, helper.tokenFile]
        .map(shellQuote)
        .join(' ')} "$@"`,
    ]),
  }
  // The names a hook finds on PATH: `microk8s.kubectl` (multus), helm as `$SNAP/bin/helm` (check_status of helm3).
  for (const [name, target] of [
    ['bin/microk8s.kubectl', 'microk8s-kubectl.wrapper'],
    ['bin/microk8s.enable', 'microk8s-enable.wrapper'],
    ['bin/microk8s.disable', 'microk8s-disable.wrapper'],
    ['bin/microk8s.status', 'microk8s-status.wrapper'],
    ['bin/microk8s.helm3', 'microk8s-helm3.wrapper'],
    ['bin/microk8s.helm', 'microk8s-helm.wrapper'],
  ]) {
    files[name] = script([`exec ${shellQuote(join(SNAP, target))} "$@"`])
  }

  if (helm) for (const name of ['bin/helm', 'bin/helm3']) files[name] = script([`exec ${shellQuote(helm)} "$@"`])
  await Promise.all(
    Object.entries(files).map(async ([name, text]) => {
      await writeFile(join(SNAP, name), text)
      await chmod(join(SNAP, name), 0o755)
    }),
  )
  await Promise.all(
    HOST_TOOLS.map(async ([dir, name]) => {
      const found = await findProgram(name, options.env)
      if (found) await symlink(found, join(SNAP, dir, name))
    }),
  )
  return {helper, paths, programs: {helm, kubectl}, remove: () => rm(root, {force: true, recursive: true})}
}

async function requireProgram(path: string, flag: string, env: NodeJS.ProcessEnv): Promise<string> {
  const found = await findProgram(path, env)
  if (!found) throw new UsageError(`${flag} ${path}: no such executable`)
  return found
}

/**
 * The environment a hook runs in, as `microk8s enable` gives it: the snapd variables, PATH starting with the snap's
 * folders, MICROK8S_ADDONS_SKIP_LOCK, and KUBECONFIG for hooks that call kubectl by name.
 */
export function hookEnvironment(
  paths: SnapPaths,
  options: {arch: string; env: NodeJS.ProcessEnv; extra?: Record<string, string>},
): NodeJS.ProcessEnv {
  const {SNAP} = paths
  const path = [join(SNAP, 'usr/bin'), join(SNAP, 'bin'), join(SNAP, 'usr/sbin'), join(SNAP, 'sbin'), options.env.PATH]
  return {
    ...options.env,
    ...paths,
    KUBECONFIG: join(paths.SNAP_DATA, 'credentials', 'client.config'),
    MICROK8S_ADDONS_SKIP_LOCK: '1',
    PATH: path.filter(Boolean).join(delimiter),
    SNAP_ARCH: snapArch(options.arch),
    SNAP_NAME: 'microk8s',
    SNAP_REVISION: basename(paths.SNAP),
    ...options.extra,
  }
}
