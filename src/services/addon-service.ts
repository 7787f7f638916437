import {FactReader} from '../addons/facts.js'
import {resolveRequires} from '../addons/graph.js'
import type {AddonRequest} from '../addons/grammar.js'
import {readValuesFiles, resolveOptions} from '../addons/options.js'
import {inputsOverRecord, matchesTarget, planAddon, planCleanup} from '../addons/plan.js'
import type {AddonCatalog} from '../addons/catalog.js'
import {UserError} from '../errors.js'
import {sleep} from '../util/async.js'
import {
  type ApplyProgress,
  NotReadyError,
  applyObjects,
  deleteObjects,
  normalizeNamespaces,
  readinessMap,
  waitReady,
  whileServerRestarts,
} from '../kube/engine.js'
import type {KubeClient, KubeObject, ObjectRef} from '../kube/types.js'
import {describeRef, refKey, refOf} from '../kube/types.js'
import {type AddonEntry, type DeclarativeAddon, addonId, disableTemplates} from '../models/addon.js'
import {
  type AddonRecord,
  type NodeArgsRecord,
  PART_OF,
  addonSetId,
  listRecords,
  readRecord,
  recordId,
  deleteRecord,
  writeRecord,
  withMembership,
} from '../records/applyset.js'
import {ChangeLock, type HeldLock} from '../records/lock.js'
import type {NodeFleet} from '../nodes/fleet.js'
import type {RenderedNodeArgs} from '../render/renderer.js'
import {applyNodeArgs, describeNodeArgs, nodeArgsSatisfied, restoreNodeArgs} from './node-args.js'
import type {ReadyTarget} from '../models/addon.js'
import type {ImageOverrides} from '../render/images.js'
import {compareText, plural} from '../util/text.js'
import {type Reporter, silentReporter} from './progress.js'
import {type HookEnvironment, HookAddons} from './hook-addons.js'
import {type AddonResult, type ChangeResult, resultBuilder, summarize} from './change-result.js'

export type {AddonResult, AddonStatus, ChangeResult} from './change-result.js'

export interface ChangeOptions {
  /**
   * client: render and print the plan, no cluster request; plan: compare with the cluster's records and objects, no
   * write (what apply -f shows); server: server-side dry run.
   */
  dryRun?: 'client' | 'plan' | 'server'
  forceConflicts?: boolean
  /** The caller's lock, held across many changes (apply -f); without one the service takes and releases its own. */
  lock?: HeldLock
  timeoutMs: number
  /** The addons as a command line names them; `requests` instead when the caller parsed them (apply -f). */
  tokens: string[]
  requests?: AddonRequest[]
  wait?: boolean
  /**
   * Also wait until APIServices served by the addon's own pods answer. Without it their pods are waited for instead:
   * a cluster whose pods cannot serve (fake nodes, no network yet) still finishes the enable, and says so.
   */
  waitServed?: boolean
}

export interface EnableOptions extends ChangeOptions {
  /**
   * The given options and image overrides are the whole desired state: the record's are not reused (apply -f, where
   * an addon listed without options means its defaults).
   */
  exact?: boolean
  imageOverrides?: ImageOverrides
  set?: string[]
  /** Option values already read (apply -f); valuesFiles are read and added after them. */
  values?: Record<string, unknown>[]
  valuesFiles?: string[]
}

export interface AddonServiceOptions {
  catalog: AddonCatalog
  client: KubeClient
  cluster: {arch: string; version: string}
  /** The nodes' agents, asked for only when an addon changes node arguments; undefined: no agent token configured. */
  fleet?: () => Promise<NodeFleet | undefined>
  /** Shared by services of one run (apply -f), so that each fact is read once. */
  facts?: FactReader
  /** How MicroK8s hook addons reach the cluster and their programs (the command's flags); the defaults otherwise. */
  hooks?: HookEnvironment
  reporter?: Reporter
}

/** Everything an enable decided before touching the cluster: what to apply and what the record will say. */
interface EnablePlan {
  addon: DeclarativeAddon
  message?: string
  probes: KubeObject[]
  desired: AddonRecord
  id: string
  nodeArgs: RenderedNodeArgs[]
  objects: KubeObject[]
  readyTargets?: ReadyTarget[]
  refs: ObjectRef[]
  setId: string
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys)
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .sort(([a], [b]) => compareText(a, b))
        .map(([k, v]) => [k, sortKeys(v)]),
    )
  }

  return value
}

const sameJson = (a: unknown, b: unknown) => JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b))

/**
 * Enables and disables addons on one cluster: resolves requirements, renders, server-side applies in kind order,
 * waits for readiness, prunes what a new version dropped, and keeps an ApplySet record of exactly what it applied.
 */
export class AddonService {
  private readonly catalog: AddonCatalog
  private readonly client: KubeClient
  private readonly cluster: {arch: string; version: string}
  private readonly reporter: Reporter
  private readonly fleetProvider: () => Promise<NodeFleet | undefined>
  private fleetPromise?: Promise<NodeFleet | undefined>
  private readonly facts: FactReader
  private readonly hookAddons: HookAddons

  constructor(options: AddonServiceOptions) {
    this.catalog = options.catalog
    this.client = options.client
    this.cluster = options.cluster
    this.reporter = options.reporter ?? silentReporter
    this.fleetProvider = options.fleet ?? (async () => undefined)
    this.facts = options.facts ?? new FactReader(this.client, () => this.fleet())
    this.hookAddons = new HookAddons({
      client: this.client,
      cluster: this.cluster,
      environment: options.hooks ?? {},
      fleet: () => this.fleet(),
      reporter: this.reporter,
    })
  }

  /** The fleet, found once and only when a change needs it. */
  private fleet(): Promise<NodeFleet | undefined> {
    this.fleetPromise ??= this.fleetProvider()
    return this.fleetPromise
  }

  async enable(options: EnableOptions): Promise<ChangeResult> {
    const {missing, targets} = this.requests(options.tokens, [], options.requests)
    const explicit = new Map(targets.map(({entry, request}) => [addonId(entry), request]))
    const hasInputs =
      (options.set?.length ?? 0) > 0 || (options.valuesFiles?.length ?? 0) > 0 || (options.values?.length ?? 0) > 0
    if (hasInputs && targets.length > 1) {
      throw new UserError('--set and --values apply to one addon: enable addons one at a time to give them options')
    }

    const values = [...(options.values ?? []), ...(await readValuesFiles(options.valuesFiles))]
    const ordered = await resolveRequires(
      targets.map((t) => t.entry),
      this.catalog,
      await this.requirementOptions(targets, options, hasInputs ? values : undefined),
    )
    const results: AddonResult[] = this.notFound(missing, 'enable')
    await this.withLock(options, async (lock) => {
      for (const addon of ordered) {
        const id = addonId(addon.entry)
        const request = explicit.get(id)
        if (addon.kind === 'hook' && request && hasInputs) {
          const message = `${id} is a MicroK8s hook addon: it takes arguments (${id}:a:b or ${id} --flag value), not --set or values files`
          results.push(resultBuilder('enable', id)('failed', {message}))
          break
        }

        const result =
          addon.kind === 'hook'
            ? // Named without arguments, a hook addon keeps the ones it was enabled with (as declarative options do);
              // apply -f gives the exact arguments.
              await this.hookAddons.enable(addon, request?.args.length || options.exact ? request?.args : undefined, {
                ...options,
                lock,
              })
            : await this.enableOne(addon, {...options, lock}, request, request && hasInputs ? values : undefined)
        results.push(result)
        if (result.status === 'failed') break
      }
    })
    return summarize(results)
  }

  /**
   * The options each named addon will be enabled with, for the addons whose requirements depend on one
   * (`requiresUnless`). Options that do not resolve are left to the enable itself to report.
   */
  private async requirementOptions(
    targets: {entry: AddonEntry; request: AddonRequest}[],
    options: EnableOptions,
    values: Record<string, unknown>[] | undefined,
  ): Promise<Map<string, Record<string, unknown>>> {
    const found = new Map<string, Record<string, unknown>>()
    for (const {entry, request} of targets) {
      const addon = await this.catalog.load(entry)
      if (addon.kind !== 'declarative' || !addon.definition.requiresUnless) continue
      const record = options.dryRun === 'client' ? undefined : await readRecord(this.client, entry)
      const given = {args: request.args, set: options.set, values}
      try {
        found.set(addonId(entry), resolveOptions(addon, options.exact ? given : inputsOverRecord(record, given)))
      } catch (error) {
        if (!(error instanceof UserError)) throw error
      }
    }

    return found
  }

  async disable(options: ChangeOptions): Promise<ChangeResult> {
    // An addon stays disableable after its repository is removed: its record says what to delete.
    const records = await listRecords(this.client)
    const recorded = records.map((r): AddonEntry => ({
      architectures: [],
      checkStatus: '',
      description: '',
      name: r.addon,
      repository: r.repository,
      version: r.version,
    }))
    const {missing, targets} = this.requests(options.tokens, recorded, options.requests)
    const results: AddonResult[] = this.notFound(missing, 'disable')
    await this.withLock(options, async (lock) => {
      for (const {entry, request} of targets) {
        const record = records.find((r) => recordId(r) === addonId(entry))
        const result = await this.disableAny(entry, record, {...options, lock}, request.args)
        results.push(result)
        if (result.status === 'failed') break
      }
    })
    return summarize(results)
  }

  /** Runs `work` with the caller's lock, or with one of its own that is released however `work` ends. */
  private async withLock(options: ChangeOptions, work: (lock: HeldLock) => Promise<void>): Promise<void> {
    if (options.lock) return work(options.lock)
    const lock = new ChangeLock({
      client: this.client,
      onWait: (holder) => this.reporter.notice(`Waiting for another mk8s (${holder}) to finish changing addons...`),
      timeoutMs: options.timeoutMs,
    })
    try {
      await work(lock)
    } finally {
      await lock.release()
    }
  }

  /** Parses the addon grammar; MicroK8s's "not found" for a repo/name that is not available. */
  private requests(
    tokens: string[],
    recorded: AddonEntry[] = [],
    parsed?: AddonRequest[],
  ): {missing: AddonRequest[]; targets: {entry: AddonEntry; request: AddonRequest}[]} {
    const {notices, requests} = parsed
      ? {notices: [], requests: parsed}
      : this.catalog.parse(tokens, undefined, recorded)
    // A repository that no longer loads would otherwise show only as "not found".
    for (const notice of [...this.catalog.warnings, ...notices]) this.reporter.notice(notice)
    if (requests.length > 1) {
      this.reporter.notice(
        'WARNING: Do not enable or disable multiple addons in one command. This form of chained operations may be DEPRECATED in the future.',
      )
    }

    const missing: AddonRequest[] = []
    const targets: {entry: AddonEntry; request: AddonRequest}[] = []
    for (const request of requests) {
      const entry =
        this.catalog.find(request) ??
        recorded.find((r) => r.name === request.name && r.repository === request.repository)
      if (entry) targets.push({entry, request})
      else missing.push(request)
    }

    return {missing, targets}
  }

  private notFound(missing: AddonRequest[], action: 'disable' | 'enable'): AddonResult[] {
    return missing.map((request) => {
      const addon = `${request.repository}/${request.name}`
      this.reporter.say(`Addon ${addon} not found`)
      return resultBuilder(action, addon)('not-found')
    })
  }

  private alreadyEnabled(result: ReturnType<typeof resultBuilder>, record: AddonRecord): AddonResult {
    this.reporter.say(`Addon ${recordId(record)} is already enabled`)
    return result('already-enabled', {objects: record.objects})
  }

  private async enableOne(
    addon: DeclarativeAddon,
    options: EnableOptions & {lock: HeldLock},
    request: AddonRequest | undefined,
    values?: Record<string, unknown>[],
  ): Promise<AddonResult> {
    const id = addonId(addon.entry)
    const result = resultBuilder('enable', id)
    const record = options.dryRun === 'client' ? undefined : await readRecord(this.client, addon.entry)
    // A dependency already enabled is left as it is; only an addon named on the command line is applied again.
    if (!request && record?.state === 'enabled') return this.alreadyEnabled(result, record)
    const rendered = await this.render(addon, options, request, values, record)
    if (options.dryRun === 'client') {
      return result('planned', {
        nodeArgs: rendered.nodeArgs,
        objects: rendered.objects.map(refOf),
        rendered: rendered.objects,
      })
    }

    const plan = {...rendered, objects: await normalizeNamespaces(this.client, rendered.objects)}
    plan.refs = plan.objects.map(refOf)
    plan.desired.objects = plan.refs
    if (record && (await this.unchanged(record, plan))) {
      return options.dryRun === 'plan'
        ? result('already-enabled', {objects: record.objects})
        : this.alreadyEnabled(result, record)
    }

    if (options.dryRun === 'plan') {
      return result('planned', {
        changes: describeChanges(record, plan.desired, request === undefined),
        nodeArgs: plan.nodeArgs,
        objects: plan.refs,
        pruned: staleMembers(record, plan.refs),
      })
    }
    if (options.dryRun === 'server') {
      await applyObjects(this.client, plan.objects, {
        dryRun: true,
        force: options.forceConflicts,
        timeoutMs: options.timeoutMs,
      })
      return result('planned', {nodeArgs: plan.nodeArgs, objects: plan.refs, pruned: staleMembers(record, plan.refs)})
    }

    await options.lock.hold()
    // Another mk8s may have changed the addon while this one waited for the lock: look again.
    const current = await readRecord(this.client, addon.entry)
    if (current && !sameJson(current, record) && (await this.unchanged(current, plan))) {
      return this.alreadyEnabled(result, current)
    }

    try {
      return await this.apply(plan, current, options, result)
    } catch (error) {
      if (!(error instanceof UserError)) throw error
      const pending = error instanceof NotReadyError ? error.pending : undefined
      return result('failed', {message: error.message, objects: plan.refs, pending})
    }
  }

  /** Options, images and manifests, with the options and overrides it was enabled with when none are given. */
  private async render(
    addon: DeclarativeAddon,
    options: EnableOptions,
    request: AddonRequest | undefined,
    values: Record<string, unknown>[] | undefined,
    record: AddonRecord | undefined,
  ): Promise<EnablePlan> {
    // Registry mirrors apply to dependencies too (an air-gapped cluster needs them everywhere); --image keys are the
    // named addon's own.
    const imageOverrides = {
      images: request ? options.imageOverrides?.images : undefined,
      registryMirrors: options.imageOverrides?.registryMirrors,
    }
    const given = {args: request?.args, imageOverrides, set: request ? options.set : undefined, values}
    // A dependency apply -f does not list keeps what it was enabled with; a listed addon is exactly what the file says.
    const inputs = options.exact && request ? given : inputsOverRecord(record, given)
    // A client-side dry run asks the cluster nothing: it renders with the facts of a default MicroK8s node.
    const cluster = options.dryRun === 'client' ? this.cluster : await this.facts.facts(addon, this.cluster)
    const plan = await planAddon(addon, inputs, cluster)
    const setId = addonSetId(addon.entry)
    const objects = plan.objects.map(({object}) => withMembership(object, setId))
    const refs = objects.map(refOf)
    return {
      addon,
      desired: {
        addon: addon.entry.name,
        images: plan.images,
        objects: refs,
        options: plan.options,
        overrides: inputs.imageOverrides,
        repository: addon.entry.repository,
        state: 'enabled',
        updatedAt: new Date().toISOString(),
        version: addon.definition.version,
      },
      id: addonId(addon.entry),
      message: plan.message,
      nodeArgs: plan.nodeArgs,
      probes: plan.probes.map(({object}) => object),
      objects,
      readyTargets: plan.readyTargets,
      refs,
      setId,
    }
  }

  /** The change itself, under the lock: record first, apply, wait, prune, record again. */
  private async apply(
    plan: EnablePlan,
    current: AddonRecord | undefined,
    options: EnableOptions,
    result: ReturnType<typeof resultBuilder>,
  ): Promise<AddonResult> {
    const stale = staleMembers(current, plan.refs)
    return this.reporter.step(`Enable ${plan.id}`, async (update) => {
      // The record lists old and new members while applying, so an interrupted enable can always be finished or undone.
      // Node arguments an earlier enable set stay recorded until this one replaces them: disable must restore them.
      await writeRecord(this.client, {
        ...plan.desired,
        nodeArgs: current?.nodeArgs,
        objects: [...stale, ...plan.refs],
        state: 'applying',
      })
      const progress: ApplyProgress = {
        applied: (done, total, phase) => update(`applying ${done}/${total} (${phase})`),
        replaced: (ref) =>
          this.reporter.notice(`Replacing ${describeRef(ref)}: a field the new options change cannot change in place`),
      }
      await applyObjects(this.client, plan.objects, {
        force: options.forceConflicts,
        progress,
        timeoutMs: options.timeoutMs,
      })
      result.lap('apply')
      if (options.wait !== false) {
        const targets = plan.readyTargets
        const served = servedByOwnPods(plan.objects)
        if (!options.waitServed) {
          for (const {ref, service} of served) {
            this.reporter.notice(
              `Not waiting for ${describeRef(ref)} to answer: it is served by the addon's own pods (Service ${service}), which are waited for instead; --wait=full waits for it too`,
            )
          }
        }

        // Served APIServices are waited for only with --wait=full, even when the ready targets leave them out.
        const skipped = new Set(served.map(({ref}) => refKey(ref)))
        const chosen = targets
          ? plan.refs.filter((ref) => targets.some((target) => matchesTarget(target, ref)))
          : plan.refs
        const waited = [
          ...chosen.filter((ref) => !skipped.has(refKey(ref))),
          ...(options.waitServed ? served.map(({ref}) => ref) : []),
        ]
        await waitReady(this.client, waited, {
          labelSelector: `${PART_OF}=${plan.setId}`,
          progress: {
            ready: (done, total, waitingFor) =>
              update(`ready ${done}/${total}${waitingFor ? `, waiting for ${waitingFor}` : ''}`),
          },
          timeoutMs: options.timeoutMs,
        })
        await this.probe(plan, options, update)
        result.lap('ready')
      }

      if (stale.length > 0) {
        await deleteObjects(this.client, stale, {
          labelSelector: `${PART_OF}=${plan.setId}`,
          progress: (done, total) => update(`pruning ${done}/${total}`),
          timeoutMs: options.timeoutMs,
        })
        result.lap('prune')
      }

      const nodeArgs = await this.setNodeArgs(plan, current, update)
      // Restarting kube-apiserver (rbac) leaves the API server away for a moment on a real node.
      await whileServerRestarts(options.timeoutMs, () => writeRecord(this.client, {...plan.desired, nodeArgs}))
      if (plan.message) this.reporter.say(plan.message)
      return result('enabled', {nodeArgs: plan.nodeArgs, objects: plan.refs, pruned: stale})
    })
  }

  /**
   * `--wait=full`: server-side dry-runs the addon's probe objects until the API server accepts them, which it does
   * only once the addon's webhooks are served. Without it, says what was not checked.
   */
  private async probe(plan: EnablePlan, options: EnableOptions, update: (detail: string) => void): Promise<void> {
    if (plan.probes.length === 0) return
    const names = plan.probes.map((object) => describeRef(refOf(object))).join(', ')
    if (!options.waitServed) {
      this.reporter.notice(
        `Not checking that ${plan.id}'s webhooks answer (a dry run of ${names}): they are served by the addon's own pods, which were waited for; --wait=full checks them too`,
      )
      return
    }

    update(`waiting for the addon's webhooks to accept ${names}`)
    const deadline = Date.now() + options.timeoutMs
    for (;;) {
      try {
        await applyObjects(this.client, plan.probes, {dryRun: true, timeoutMs: options.timeoutMs})
        return
      } catch (error) {
        if (!(error instanceof UserError)) throw error
        if (Date.now() >= deadline) {
          throw new UserError(`The webhooks of ${plan.id} did not accept ${names} in time: ${error.message}`)
        }

        await sleep(1000)
      }
    }
  }

  /**
   * The addon's service arguments on every node, once its objects are ready. A node that cannot be changed fails the
   * enable, and the record (left `applying`) says which nodes have which values, so enabling again converges.
   */
  private async setNodeArgs(
    plan: EnablePlan,
    current: AddonRecord | undefined,
    update: (detail: string) => void,
  ): Promise<NodeArgsRecord[]> {
    if (plan.nodeArgs.length === 0) return []
    const fleet = await this.fleet()
    if (!fleet) {
      this.reporter.notice(
        `Node arguments of ${plan.id} not changed (${describeNodeArgs(plan.nodeArgs)}): no agent token; pass --agent-token-file or set MK8S_AGENT_TOKEN_FILE`,
      )
      return current?.nodeArgs ?? []
    }

    update(`setting node arguments on ${plural(fleet.nodes.length, 'node')}`)
    const nodeArgs = await applyNodeArgs(fleet, plan.nodeArgs, current?.nodeArgs)
    const failed = nodeArgs.filter((entry) => entry.error)
    if (failed.length > 0) {
      await writeRecord(this.client, {...plan.desired, nodeArgs, state: 'applying'})
      throw new UserError(
        [
          `Node arguments not set on ${failed.length} of ${nodeArgs.length} node services; enable again once they are reachable:`,
          ...failed.map((entry) => `  ${entry.node} (${entry.address}) ${entry.service}: ${entry.error}`),
        ].join('\n'),
        {problems: failed.map((entry) => ({field: entry.service, message: entry.error!, node: entry.node}))},
      )
    }

    return nodeArgs
  }

  /** Same version, options and images, the same objects, and every recorded member still there: nothing to write. */
  private async unchanged(record: AddonRecord, plan: EnablePlan): Promise<boolean> {
    const {desired} = plan
    if (record.state !== 'enabled' || record.version !== desired.version) return false
    if (plan.nodeArgs.length > 0 && (await this.fleet()) && !nodeArgsSatisfied(record.nodeArgs, plan.nodeArgs))
      return false
    if (!sameJson(record.options, desired.options) || !sameJson(record.images, desired.images)) return false
    if (!sameJson(record.objects.map(refKey).sort(), desired.objects.map(refKey).sort())) return false
    const live = await readinessMap(this.client, record.objects, {labelSelector: `${PART_OF}=${plan.setId}`})
    return [...live.values()].every((state) => state.object !== undefined)
  }

  /**
   * Puts every node's arguments back as they were before the addon. Nodes that cannot be reached stay in the record
   * (state `disabling`, its objects already gone), so disabling again finishes the job.
   */
  private async restoreNodeArgs(record: AddonRecord, update: (detail: string) => void): Promise<void> {
    const pending = (record.nodeArgs ?? []).filter((entry) => entry.applied)
    if (pending.length === 0) return
    const fleet = await this.fleet()
    const left = fleet ? (update('restoring node arguments'), await restoreNodeArgs(fleet, pending)) : pending
    if (left.length === 0) return
    await writeRecord(this.client, {...record, nodeArgs: left, objects: [], state: 'disabling'})
    const why = fleet ? '' : ' (no agent token: pass --agent-token-file or set MK8S_AGENT_TOKEN_FILE)'
    throw new UserError(
      [
        `Node arguments not restored on ${left.length} node services${why}; disable again once they are reachable:`,
        ...left.map(
          (entry) => `  ${entry.node} (${entry.address}) ${entry.service}${entry.error ? `: ${entry.error}` : ''}`,
        ),
      ].join('\n'),
      {
        problems: left.map((entry) => ({
          field: entry.service,
          message: entry.error ?? 'not restored',
          node: entry.node,
        })),
      },
    )
  }

  /**
   * The clean-up objects disable runs for `args` (addon.yaml `disable`), rendered before anything is deleted so that a
   * wrong argument changes nothing. An addon whose repository is gone (`addon` undefined) can still be disabled,
   * without arguments.
   */
  private async cleanupFor(
    entry: AddonEntry,
    addon: DeclarativeAddon | undefined,
    record: AddonRecord | undefined,
    args: string[],
    dryRun: ChangeOptions['dryRun'],
  ): Promise<KubeObject[]> {
    if (!addon) {
      if (args.length === 0) return []
      throw new UserError(
        `${addonId(entry)} takes no disable arguments here (its repository is not added): got ${args.join(' ')}`,
      )
    }

    const cluster =
      dryRun === 'client' || !addon.definition.disable
        ? this.cluster
        : await this.facts.facts(disableTemplates(addon), this.cluster)
    const plan = await planCleanup(addon, {args, enabled: record}, cluster)
    return plan.objects.map(({object}) => withMembership(object, addonSetId(entry)))
  }

  /** Applies the clean-up objects, waits for them (Jobs complete), and deletes them; the record lists them meanwhile. */
  private async runCleanup(
    current: AddonRecord,
    cleanup: KubeObject[],
    options: ChangeOptions,
    update: (detail: string) => void,
  ): Promise<ObjectRef[]> {
    const refs = cleanup.map(refOf)
    if (refs.length === 0) return refs
    await writeRecord(this.client, {...current, objects: refs, state: 'disabling'})
    const labelSelector = `${PART_OF}=${addonSetId({name: current.addon, repository: current.repository})}`
    update(`cleaning up: ${refs.map(describeRef).join(', ')}`)
    await applyObjects(this.client, cleanup, {timeoutMs: options.timeoutMs})
    await waitReady(this.client, refs, {labelSelector, timeoutMs: options.timeoutMs})
    await deleteObjects(this.client, refs, {labelSelector, timeoutMs: options.timeoutMs})
    return refs
  }

  /** A hook addon runs its disable hook; a declarative one (or one whose repository is gone) is disabled from its record. */
  private async disableAny(
    entry: AddonEntry,
    record: AddonRecord | undefined,
    options: ChangeOptions & {lock: HeldLock},
    args: string[],
  ): Promise<AddonResult> {
    const found = this.catalog.find(entry)
    const addon = found ? await this.catalog.load(found) : undefined
    if (addon?.kind === 'hook') return this.hookAddons.disable(addon, record, args, options)
    if (record?.hook && !addon) {
      const message = `${addonId(entry)} was enabled by its hook, and its repository is no longer added: add it again to run its disable hook`
      return resultBuilder('disable', addonId(entry))('failed', {message})
    }

    return this.disableOne(entry, addon, record, options, args)
  }

  /**
   * `addon` is undefined when its repository is gone: the record alone says what to delete. `record` is what the
   * listing before the lock found; it is read again once the lock is held.
   */
  private async disableOne(
    entry: AddonEntry,
    addon: DeclarativeAddon | undefined,
    record: AddonRecord | undefined,
    options: ChangeOptions & {lock: HeldLock},
    args: string[] = [],
  ): Promise<AddonResult> {
    const id = addonId(entry)
    const result = resultBuilder('disable', id)
    const alreadyDisabled = () => {
      this.reporter.say(`Addon ${id} is already disabled`)
      return result('already-disabled')
    }

    if (!record) return alreadyDisabled()
    const cleanup = await this.cleanupFor(entry, addon, record, args, options.dryRun)
    if (options.dryRun) {
      return result('planned', {
        cleanup: cleanup.map(refOf),
        nodeArgs: record.nodeArgs,
        objects: record.objects,
        pruned: record.objects,
      })
    }

    await options.lock.hold()
    const current = await readRecord(this.client, entry)
    if (!current) return alreadyDisabled()
    try {
      return await this.reporter.step(`Disable ${id}`, async (update) => {
        await deleteObjects(this.client, current.objects, {
          labelSelector: `${PART_OF}=${addonSetId(entry)}`,
          progress: (done, total, waitingFor) =>
            update(`deleted ${done}/${total}${waitingFor ? `, waiting for ${waitingFor}` : ''}`),
          timeoutMs: options.timeoutMs,
        })
        result.lap('delete')
        const cleaned = await this.runCleanup(current, cleanup, options, update)
        if (cleaned.length > 0) result.lap('cleanup')
        await this.restoreNodeArgs({...current, objects: []}, update)
        await whileServerRestarts(options.timeoutMs, () => deleteRecord(this.client, entry))
        return result('disabled', {cleanup: cleaned, nodeArgs: current.nodeArgs, pruned: current.objects})
      })
    } catch (error) {
      if (!(error instanceof UserError)) throw error
      return result('failed', {message: error.message, objects: current.objects})
    }
  }
}

/** What enabling would change, for a plan: a new addon, or which of version, options and images differ. */
function describeChanges(record: AddonRecord | undefined, desired: AddonRecord, dependency: boolean): string[] {
  if (!record || record.state !== 'enabled') {
    const why = dependency ? ['required by an addon being enabled'] : []
    return record ? [`finish the ${record.state} left by an interrupted run`, ...why] : ['not enabled', ...why]
  }

  const changes: string[] = []
  if (record.version !== desired.version) changes.push(`version ${record.version} → ${desired.version}`)
  const show = (value: unknown) => (value === undefined ? '(unset)' : JSON.stringify(value))
  for (const [kind, before, after] of [
    ['option', record.options, desired.options],
    ['image', record.images, desired.images],
  ] as const) {
    for (const key of new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})])) {
      const [from, to] = [before?.[key], after?.[key]]
      if (!sameJson(from, to)) changes.push(`${kind} ${key}: ${show(from)} → ${show(to)}`)
    }
  }

  return changes.length > 0 ? changes : ['objects or node arguments differ from the record']
}

/**
 * APIServices whose Service is one of the addon's own objects: they answer only once the addon's pods serve, which
 * pods that cannot run (fake nodes) never do. The rule: enable waits for those pods (the workloads it waits for
 * anyway), names what it did not wait for, and `--wait=full` waits for the APIService too.
 */
export function servedByOwnPods(objects: KubeObject[]): {ref: ObjectRef; service: string}[] {
  const services = new Set(
    objects.filter((o) => o.kind === 'Service').map((o) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`),
  )
  return objects.flatMap((object) => {
    if (object.kind !== 'APIService') return []
    const service = (object.spec as {service?: {name?: string; namespace?: string}} | undefined)?.service
    const key = `${service?.namespace ?? ''}/${service?.name ?? ''}`
    return service && services.has(key) ? [{ref: refOf(object), service: key}] : []
  })
}

/** Members of the record that the new plan no longer renders: pruned once the new ones are ready. */
function staleMembers(record: AddonRecord | undefined, refs: ObjectRef[]): ObjectRef[] {
  const keys = new Set(refs.map(refKey))
  return (record?.objects ?? []).filter((ref) => !keys.has(refKey(ref)))
}

/** One line for a user: what was done, or would be, for an addon. */
export function describeResult(result: AddonResult): string {
  const seconds = `${((result.durations.total ?? 0) / 1000).toFixed(1)}s`
  if (result.hook && result.status !== 'planned' && result.status !== 'failed') {
    const verb = result.action === 'enable' ? 'Enabled' : 'Disabled'
    const nodes = result.nodeArgs?.length
      ? `, node arguments changed on ${plural(new Set((result.nodeArgs as NodeArgsRecord[]).map((e) => e.node)).size, 'node')}`
      : ''
    return `${verb} ${result.addon}: its ${result.action} hook finished in ${seconds}${nodes}`
  }

  switch (result.status) {
    case 'enabled': {
      const pruned = result.pruned.length > 0 ? `, ${plural(result.pruned.length, 'object')} pruned` : ''
      return `Enabled ${result.addon}: ${plural(result.objects.length, 'object')} applied${pruned} in ${seconds}`
    }

    case 'disabled': {
      const cleanup = result.cleanup?.length
        ? `, then ${result.cleanup.map(describeRef).join(', ')} run and deleted`
        : ''
      return `Disabled ${result.addon}: ${plural(result.pruned.length, 'object')} deleted${cleanup} in ${seconds}`
    }

    case 'planned': {
      if (result.hook) return result.message ?? `Would run the ${result.action} hook of ${result.addon}`
      if (result.action === 'disable') {
        const cleanup = result.cleanup?.length ? `, then run ${result.cleanup.map(describeRef).join(', ')}` : ''
        return `Would delete ${plural(result.pruned.length, 'object')} for ${result.addon}${cleanup}`
      }
      const prune = result.pruned.length > 0 ? ` and prune ${result.pruned.map(describeRef).join(', ')}` : ''
      const nodes = result.nodeArgs?.length
        ? `, and set on every node: ${describeNodeArgs(result.nodeArgs as RenderedNodeArgs[])}`
        : ''
      return `Would apply ${plural(result.objects.length, 'object')} for ${result.addon}${prune}${nodes}`
    }

    default: {
      return result.message ?? `${result.addon}: ${result.status}`
    }
  }
}
