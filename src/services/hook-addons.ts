import {join} from 'node:path'

import {UserError} from '../errors.js'
import type {SnapPaths} from '../hooks/snap-tree.js'
import type {KubeClient} from '../kube/types.js'
import {type AddonEntry, type HookAddon, addonId} from '../models/addon.js'
import type {NodeFleet} from '../nodes/fleet.js'
import {
  type AddonRecord,
  type NodeArgsRecord,
  deleteRecord,
  mergeNodeArgs,
  readRecord,
  writeRecord,
} from '../records/applyset.js'
import {whileServerRestarts} from '../kube/engine.js'
import {LOCK_HOLDER_ENV, type HeldLock} from '../records/lock.js'
import {plural} from '../util/text.js'
import {type AddonResult, resultBuilder} from './change-result.js'
import type {Reporter} from './progress.js'

/** How hooks reach the cluster and the programs they call: from the command's flags. */
export interface HookEnvironment {
  /** The kubeconfig and context: the hook's `client.config` is that context alone. */
  connection?: {context?: string; kubeconfig?: string}
  env?: NodeJS.ProcessEnv
  /** --helm and --kubectl. */
  programs?: {helm?: string; kubectl?: string}
  /** Flags a nested mk8s gets besides the kubeconfig: the agent flags, --kubectl, --helm. */
  nestedFlags?: string[]
  /** stdout is one --json document: hook output goes to stderr. */
  json?: boolean
}

export interface HookAddonsOptions {
  client: KubeClient
  cluster: {arch: string}
  environment: HookEnvironment
  fleet: () => Promise<NodeFleet | undefined>
  reporter: Reporter
}

interface HookChange {
  dryRun?: 'client' | 'plan' | 'server'
  lock: HeldLock
  timeoutMs: number
}

/**
 * Enables and disables MicroK8s hook addons: runs the addon's `enable` or `disable` with the environment MicroK8s
 * gives it (a compatibility `$SNAP` tree, or the real snap on a MicroK8s node) and keeps a record of the run (its
 * arguments, the node arguments its helpers changed, a failure's exit code), as declarative addons have.
 */
export class HookAddons {
  constructor(private readonly options: HookAddonsOptions) {}

  async enable(addon: HookAddon, args: string[] | undefined, options: HookChange): Promise<AddonResult> {
    const id = addonId(addon.entry)
    const result = resultBuilder('enable', id)
    const record = options.dryRun === 'client' ? undefined : await readRecord(this.options.client, addon.entry)
    const hookArgs = args ?? record?.hook?.args ?? []
    const already = () => {
      this.options.reporter.say(`Addon ${id} is already enabled`)
      return result('already-enabled', {hook: {args: hookArgs}})
    }

    // Enabled again with the same arguments, or required by another addon: MicroK8s does not run the hook again.
    if (record?.state === 'enabled' && (args === undefined || sameArgs(record.hook?.args, args))) return already()
    if (!record && options.dryRun !== 'client' && (await this.enabledOutside(addon.entry))) return already()
    if (options.dryRun) {
      return result('planned', {
        hook: {args: hookArgs},
        message: `Would run ${join(addon.dir, 'enable')} ${hookArgs.join(' ')}`.trim(),
      })
    }

    await options.lock.hold()
    const base: AddonRecord = {
      addon: addon.entry.name,
      hook: {args: hookArgs},
      images: {},
      nodeArgs: record?.nodeArgs,
      objects: [],
      options: {},
      repository: addon.entry.repository,
      state: 'applying',
      updatedAt: new Date().toISOString(),
      version: addon.entry.version,
    }
    await this.writeRecord(base)
    const run = await this.run(addon, 'enable', hookArgs, options)
    const nodeArgs = mergeNodeArgs(record?.nodeArgs, run.changes)
    result.lap('hook')
    if (run.code === 0) {
      const done = {...base, nodeArgs, state: 'enabled' as const, updatedAt: new Date().toISOString()}
      await this.writeRecord(done, options.timeoutMs)
      return result('enabled', {hook: {args: hookArgs, exitCode: 0}, nodeArgs})
    }

    const message = failureMessage(id, 'enable', run)
    await this.writeRecord(
      {
        ...base,
        hook: {args: hookArgs, failed: {action: 'enable', exitCode: run.code, message}},
        nodeArgs,
        state: 'failed',
        updatedAt: new Date().toISOString(),
      },
      options.timeoutMs,
    )
    return result('failed', {hook: {args: hookArgs, exitCode: run.code}, message, nodeArgs})
  }

  async disable(
    addon: HookAddon,
    record: AddonRecord | undefined,
    args: string[],
    options: HookChange,
  ): Promise<AddonResult> {
    const id = addonId(addon.entry)
    const result = resultBuilder('disable', id)
    if (!record && !(await this.enabledOutside(addon.entry))) {
      this.options.reporter.say(`Addon ${id} is already disabled`)
      return result('already-disabled')
    }

    if (options.dryRun) {
      return result('planned', {
        hook: {args},
        message: `Would run ${join(addon.dir, 'disable')} ${args.join(' ')}`.trim(),
      })
    }

    await options.lock.hold()
    const run = await this.run(addon, 'disable', args, options)
    result.lap('hook')
    if (run.code !== 0) {
      const message = failureMessage(id, 'disable', run)
      if (record) {
        await this.writeRecord(
          {
            ...record,
            hook: {args: record.hook?.args ?? [], failed: {action: 'disable', exitCode: run.code, message}},
            nodeArgs: mergeNodeArgs(record.nodeArgs, run.changes),
            state: 'failed',
            updatedAt: new Date().toISOString(),
          },
          options.timeoutMs,
        )
      }

      return result('failed', {hook: {args, exitCode: run.code}, message, nodeArgs: run.changes})
    }

    const left = leftBehind(record?.nodeArgs ?? [], run.changes)
    if (left.length > 0) {
      this.options.reporter.notice(
        `The disable hook of ${id} left node arguments its enable hook set: ${left.join('; ')} (mk8s nodes args remove or set puts them back)`,
      )
    }

    if (record) await whileServerRestarts(options.timeoutMs, () => deleteRecord(this.options.client, addon.entry))
    return result('disabled', {hook: {args, exitCode: 0}, nodeArgs: run.changes})
  }

  /** No record, but its check_status finds it: enabled by MicroK8s itself or by hand. */
  private async enabledOutside(entry: AddonEntry): Promise<boolean> {
    const env = this.options.environment.env ?? process.env
    const {enabledByCheckStatus} = await import('../hooks/check-status.js')
    return (await enabledByCheckStatus(this.options.client, [entry], env)).has(addonId(entry))
  }

  /** Written after a hook that may have restarted kube-apiserver (fluentd, rbac-like hooks): retried while it is away. */
  private async writeRecord(record: AddonRecord, timeoutMs = 0): Promise<void> {
    await whileServerRestarts(timeoutMs, () => writeRecord(this.options.client, record))
  }

  /** One run of a hook: in the real snap when MicroK8s is installed here, else in a compatibility tree of its own. */
  private async run(
    addon: HookAddon,
    action: 'disable' | 'enable',
    args: string[],
    options: HookChange,
  ): Promise<HookOutcome> {
    try {
      return await this.runOnce(addon, action, args, options)
    } catch (error) {
      // A hook that cannot start (no such interpreter, a --kubectl that is not there) fails as one that exits 1 does.
      if (!(error instanceof UserError)) throw error
      return {changes: [], code: 1, error: error.message, timedOut: false}
    }
  }

  private async runOnce(
    addon: HookAddon,
    action: 'disable' | 'enable',
    args: string[],
    options: HookChange,
  ): Promise<HookOutcome> {
    // Loaded only when a hook runs: declarative enables do not pay for them.
    const [{HelperServer}, {runHook}, {hookEnvironment, installedSnap, writeSnapTree}, {exportContext}] =
      await Promise.all([
        import('../hooks/helper-server.js'),
        import('../hooks/runner.js'),
        import('../hooks/snap-tree.js'),
        import('../kube/kubeconfig.js'),
      ])
    const {environment} = this.options
    const env = environment.env ?? process.env
    const extra: Record<string, string> = options.lock.holder ? {[LOCK_HOLDER_ENV]: options.lock.holder} : {}
    const run = (paths: SnapPaths) =>
      runHook(join(addon.dir, action), args, {
        cwd: addon.dir,
        env: hookEnvironment(paths, {arch: this.options.cluster.arch, env, extra}),
        stdout: environment.json ? 'stderr' : 'stdout',
        timeoutMs: options.timeoutMs,
      })
    const snap = await installedSnap(env)
    if (snap) return {...(await run(snap)), changes: []}

    const fleet = await this.options.fleet()
    const tree = await writeSnapTree({
      arch: this.options.cluster.arch,
      cliArgs: environment.nestedFlags ?? [],
      clientConfig: exportContext(environment.connection ?? {}).text,
      env,
      helm: environment.programs?.helm,
      kubectl: environment.programs?.kubectl,
      nodeArgs: fleet ? await nodeArguments(fleet) : new Map(),
    })
    const helper = new HelperServer({
      argsDir: join(tree.paths.SNAP_DATA, 'args'),
      client: this.options.client,
      fleet: this.options.fleet,
      socket: tree.helper.socket,
      tokenFile: tree.helper.tokenFile,
    })
    try {
      await helper.listen()
      const ran = await run(tree.paths)
      if (ran.code !== 0) return {...ran, changes: helper.changes}
      // Flags the hook wrote into $SNAP_DATA/args itself go to every node too.
      const synced = await helper.syncDirectEdits()
      for (const line of synced.lines ?? []) this.options.reporter.notice(line)
      return synced.ok
        ? {...ran, changes: helper.changes}
        : {...ran, changes: helper.changes, code: 1, error: synced.error}
    } finally {
      await helper.close()
      await tree.remove()
    }
  }
}

/**
 * One node's service arguments, read through its agent, for the hook's `$SNAP_DATA/args`: hooks read them to decide
 * (fluentd looks for --allow-privileged). A service the agent does not serve is left out.
 */
async function nodeArguments(fleet: NodeFleet): Promise<Map<string, string>> {
  // The args files MicroK8s keeps service flags in: the ones an agent serves unless told otherwise.
  const {DEFAULT_SERVICES} = await import('../agent/config.js')
  const node = fleet.nodes[0]
  const read = await Promise.all(
    DEFAULT_SERVICES.map(async (service) => {
      const flags = await fleet.client.arguments(node, service).catch(() => undefined)
      return [service, flags?.map(({flag, value}) => `${flag}=${value}\n`).join('')] as const
    }),
  )
  return new Map(read.filter((entry): entry is [string, string] => entry[1] !== undefined))
}

const sameArgs = (a: string[] = [], b: string[] = []) => a.length === b.length && a.every((arg, i) => arg === b[i])

/** How a hook's run ended, and the node arguments its helpers changed meanwhile. */
interface HookOutcome {
  changes: NodeArgsRecord[]
  code: number
  /** Why mk8s failed the hook: it could not be started, or what it wrote in $SNAP_DATA/args did not reach every node. */
  error?: string
  timedOut: boolean
}

function failureMessage(id: string, action: string, run: HookOutcome): string {
  if (run.error) return `The ${action} hook of ${id} failed: ${run.error}`
  return run.timedOut
    ? `The ${action} hook of ${id} did not finish in time (--timeout) and was stopped`
    : `The ${action} hook of ${id} failed with exit code ${run.code}`
}

/** Flags the enable hook set to a new value that the disable hook neither removed nor set again: `service --flag=value (n nodes)`. */
export function leftBehind(enabled: NodeArgsRecord[], disabled: NodeArgsRecord[]): string[] {
  const counts = new Map<string, number>()
  for (const entry of enabled) {
    const undone = disabled.find((d) => d.address === entry.address && d.service === entry.service)
    for (const [flag, value] of Object.entries(entry.set)) {
      if (entry.previous[flag] === value) continue
      if (undone && (flag in undone.set || undone.removed.includes(flag))) continue
      const key = `${entry.service} ${flag}=${value}`
      counts.set(key, (counts.get(key) ?? 0) + 1)
    }
  }

  return [...counts].map(([key, count]) => `${key} (${plural(count, 'node')})`)
}
