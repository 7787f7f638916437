import {UserError} from '../errors.js'
import {type ApplyProgress, FIELD_MANAGER, NotReadyError, type PendingObject, applyObjects, deleteObjects, normalizeNamespaces, readinessMap, waitReady} from '../kube/engine.js'
import type {KubeClient, KubeObject, ObjectRef} from '../kube/types.js'
import {describeRef, refKey, refOf} from '../kube/types.js'
import {type AddonEntry, type DeclarativeAddon, addonId} from '../models/addon.js'
import type {ImageOverrides} from '../render/images.js'
import type {AddonRequest} from './addon-args.js'
import {resolveRequires} from './addon-graph.js'
import {readValuesFiles} from './addon-options.js'
import {type AddonPlan, inputsOverRecord, matchesTarget, planAddon} from './addon-plan.js'
import {type AddonRecord, PART_OF, addonSetId, listRecords, readRecord, recordId, recordObject, recordRef, withMembership} from './applyset.js'
import type {AddonCatalog} from './catalog.js'
import {ClusterLock} from './lock.js'
import {type Reporter, silentReporter} from './progress.js'

export interface ChangeOptions {
  /** client: render and print the plan, no cluster writes; server: server-side dry run. */
  dryRun?: 'client' | 'server'
  forceConflicts?: boolean
  lockTimeoutMs?: number
  timeoutMs: number
  tokens: string[]
  wait?: boolean
}

export interface EnableOptions extends ChangeOptions {
  imageOverrides?: ImageOverrides
  set?: string[]
  valuesFiles?: string[]
}

export type AddonStatus = 'already-disabled' | 'already-enabled' | 'disabled' | 'enabled' | 'failed' | 'not-found' | 'planned'

export interface AddonResult {
  action: 'disable' | 'enable'
  addon: string
  durations: Record<string, number>
  message?: string
  objects: ObjectRef[]
  pending?: PendingObject[]
  pruned: ObjectRef[]
  rendered?: KubeObject[]
  status: AddonStatus
}

export interface ChangeResult {
  addons: AddonResult[]
  ok: boolean
}

const sameJson = (a: unknown, b: unknown) => JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b))
function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys)
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, sortKeys(v)]))
  return value
}

function timer() {
  const start = Date.now()
  const durations: Record<string, number> = {}
  let last = start
  return {
    lap(name: string) {
      const now = Date.now()
      durations[name] = now - last
      last = now
    },
    total() {
      durations.total = Date.now() - start
      return durations
    },
  }
}

/**
 * Enables and disables addons on one cluster: resolves requirements, renders, server-side applies in kind order,
 * waits for readiness, prunes what a new version dropped, and keeps an ApplySet record of exactly what it applied.
 */
export class AddonService {
  private lock?: ClusterLock

  constructor(
    private readonly client: KubeClient,
    private readonly catalog: AddonCatalog,
    private readonly cluster: {arch: string; version: string},
    private readonly reporter: Reporter = silentReporter,
  ) {}

  private async writeRecord(record: AddonRecord): Promise<void> {
    await this.client.apply(recordObject(record), {fieldManager: FIELD_MANAGER, force: true})
  }

  private async locked(options: ChangeOptions): Promise<void> {
    if (this.lock || options.dryRun) return
    this.lock = new ClusterLock(this.client)
    await this.lock.acquire(options.lockTimeoutMs ?? options.timeoutMs, (holder) =>
      this.reporter.notice(`Waiting for another mk8s (${holder}) to finish changing addons...`),
    )
  }

  private async unlock(): Promise<void> {
    await this.lock?.release()
    this.lock = undefined
  }

  /** Parses the addon grammar; MicroK8s's "not found" for a repo/name that is not available. */
  private requests(tokens: string[], recorded: AddonEntry[] = []): {missing: AddonRequest[]; targets: {entry: AddonEntry; request: AddonRequest}[]} {
    const {notices, requests} = this.catalog.parse(tokens, undefined, recorded)
    // A repository that no longer loads would otherwise show only as "not found".
    for (const notice of [...this.catalog.warnings, ...notices]) this.reporter.notice(notice)
    if (requests.length > 1) {
      this.reporter.notice('WARNING: Do not enable or disable multiple addons in one command. This form of chained operations may be DEPRECATED in the future.')
    }

    const missing: AddonRequest[] = []
    const targets: {entry: AddonEntry; request: AddonRequest}[] = []
    for (const request of requests) {
      const entry = this.catalog.find(request) ?? recorded.find((r) => r.name === request.name && r.repository === request.repository)
      if (entry) targets.push({entry, request})
      else missing.push(request)
    }

    return {missing, targets}
  }

  private notFound(missing: AddonRequest[], action: 'disable' | 'enable'): AddonResult[] {
    return missing.map((request) => {
      const addon = `${request.repository}/${request.name}`
      this.reporter.notice(`Addon ${addon} not found`)
      return {action, addon, durations: {}, objects: [], pruned: [], status: 'not-found'}
    })
  }

  async enable(options: EnableOptions): Promise<ChangeResult> {
    const {missing, targets} = this.requests(options.tokens)
    const explicit = new Map(targets.map(({entry, request}) => [addonId(entry), request]))
    const hasInputs = (options.set?.length ?? 0) > 0 || (options.valuesFiles?.length ?? 0) > 0
    if (hasInputs && targets.length > 1) throw new UserError('--set and --values apply to one addon: enable addons one at a time to give them options')
    const values = await readValuesFiles(options.valuesFiles)
    const ordered = await resolveRequires(targets.map((t) => t.entry), this.catalog)
    const results: AddonResult[] = this.notFound(missing, 'enable')
    try {
      for (const addon of ordered) {
        const id = addonId(addon.entry)
        const request = explicit.get(id)
        if (addon.kind === 'hook') {
          results.push({action: 'enable', addon: id, durations: {}, message: `${id} is a MicroK8s hook addon: mk8s cannot run its enable hook outside MicroK8s`, objects: [], pruned: [], status: 'failed'})
          break
        }

        const result = await this.enableOne(addon, options, request, request && hasInputs ? values : undefined)
        results.push(result)
        if (result.status === 'failed') break
      }
    } finally {
      await this.unlock()
    }

    return {addons: results, ok: results.every((r) => r.status !== 'failed')}
  }

  private async enableOne(addon: DeclarativeAddon, options: EnableOptions, request: AddonRequest | undefined, values?: Record<string, unknown>[]): Promise<AddonResult> {
    const id = addonId(addon.entry)
    const clock = timer()
    const record = options.dryRun === 'client' ? undefined : await readRecord(this.client, addon.entry)
    if (!request && record?.state === 'enabled') {
      this.reporter.notice(`Addon ${id} is already enabled`)
      return {action: 'enable', addon: id, durations: clock.total(), objects: record.objects, pruned: [], status: 'already-enabled'}
    }

    // A dependency, or an addon enabled again with no options, keeps the options it was enabled with. Registry
    // mirrors apply to dependencies too (an air-gapped cluster needs them everywhere); --image keys are the addon's own.
    const imageOverrides = {images: request ? options.imageOverrides?.images : undefined, registryMirrors: options.imageOverrides?.registryMirrors}
    const inputs = inputsOverRecord(record, {args: request?.args, imageOverrides, set: request ? options.set : undefined, values})
    const plan: AddonPlan = await planAddon(addon, inputs, this.cluster)
    clock.lap('render')
    const setId = addonSetId(addon.entry)
    const rendered = plan.objects.map(({object}) => withMembership(object, setId))
    if (options.dryRun === 'client') {
      return {action: 'enable', addon: id, durations: clock.total(), objects: rendered.map(refOf), pruned: [], rendered, status: 'planned'}
    }

    const objects = await normalizeNamespaces(this.client, rendered)
    const refs = objects.map(refOf)
    const desired: AddonRecord = {
      addon: addon.entry.name,
      images: plan.images,
      objects: refs,
      options: plan.options,
      overrides: inputs.imageOverrides,
      repository: addon.entry.repository,
      state: 'enabled',
      updatedAt: new Date().toISOString(),
      version: addon.definition.version,
    }
    if (record && (await this.unchanged(record, desired, setId))) {
      this.reporter.notice(`Addon ${id} is already enabled`)
      return {action: 'enable', addon: id, durations: clock.total(), objects: record.objects, pruned: [], status: 'already-enabled'}
    }

    const newKeys = new Set(refs.map(refKey))
    if (options.dryRun === 'server') {
      await applyObjects(this.client, objects, {dryRun: true, force: options.forceConflicts, timeoutMs: options.timeoutMs})
      const wouldPrune = (record?.objects ?? []).filter((ref) => !newKeys.has(refKey(ref)))
      return {action: 'enable', addon: id, durations: clock.total(), objects: refs, pruned: wouldPrune, status: 'planned'}
    }

    await this.locked(options)
    // Another mk8s may have changed the addon while this one waited for the lock: look again.
    const current = await readRecord(this.client, addon.entry)
    if (current && !sameJson(current, record) && (await this.unchanged(current, desired, setId))) {
      this.reporter.notice(`Addon ${id} is already enabled`)
      return {action: 'enable', addon: id, durations: clock.total(), objects: current.objects, pruned: [], status: 'already-enabled'}
    }

    const stale = (current?.objects ?? []).filter((ref) => !newKeys.has(refKey(ref)))
    try {
      return await this.reporter.step(`Enable ${id}`, async (update) => {
        // The record lists old and new members while applying, so an interrupted enable can always be finished or undone.
        await this.writeRecord({...desired, objects: [...stale, ...refs], state: 'applying'})
        const progress: ApplyProgress = {applied: (done, total, phase) => update(`applying ${done}/${total} (${phase})`)}
        await applyObjects(this.client, objects, {force: options.forceConflicts, progress, timeoutMs: options.timeoutMs})
        clock.lap('apply')
        if (options.wait !== false) {
          const waited = plan.readyTargets ? refs.filter((ref) => plan.readyTargets!.some((target) => matchesTarget(target, ref))) : refs
          await waitReady(this.client, waited, {
            labelSelector: `${PART_OF}=${setId}`,
            progress: {ready: (done, total, waitingFor) => update(`ready ${done}/${total}${waitingFor ? `, waiting for ${waitingFor}` : ''}`)},
            timeoutMs: options.timeoutMs,
          })
          clock.lap('ready')
        }

        if (stale.length > 0) {
          await deleteObjects(this.client, stale, {progress: (done, total) => update(`pruning ${done}/${total}`), timeoutMs: options.timeoutMs})
          clock.lap('prune')
        }

        await this.writeRecord(desired)
        if (addon.definition.message) this.reporter.notice(addon.definition.message)
        return {action: 'enable' as const, addon: id, durations: clock.total(), objects: refs, pruned: stale, status: 'enabled' as const}
      })
    } catch (error) {
      if (error instanceof UserError) {
        return {
          action: 'enable',
          addon: id,
          durations: clock.total(),
          message: error.message,
          objects: refs,
          pending: error instanceof NotReadyError ? error.pending : undefined,
          pruned: [],
          status: 'failed',
        }
      }

      throw error
    }
  }

  /** Same version, options and images, the same objects, and every recorded member still there: nothing to write. */
  private async unchanged(record: AddonRecord, desired: AddonRecord, setId: string): Promise<boolean> {
    if (record.state !== 'enabled' || record.version !== desired.version) return false
    if (!sameJson(record.options, desired.options) || !sameJson(record.images, desired.images)) return false
    if (!sameJson(record.objects.map(refKey).sort(), desired.objects.map(refKey).sort())) return false
    const live = await readinessMap(this.client, record.objects, {labelSelector: `${PART_OF}=${setId}`})
    return [...live.values()].every((state) => state.object !== undefined)
  }

  async disable(options: ChangeOptions): Promise<ChangeResult> {
    // An addon stays disableable after its repository is removed: its record says what to delete.
    const records = await listRecords(this.client)
    const recorded = records.map((r): AddonEntry => ({architectures: [], checkStatus: '', description: '', name: r.addon, repository: r.repository, version: r.version}))
    const {missing, targets} = this.requests(options.tokens, recorded)
    const results: AddonResult[] = this.notFound(missing, 'disable')
    try {
      for (const {entry} of targets) {
        const record = records.find((r) => recordId(r) === addonId(entry))
        const result = await this.disableOne(entry, record, options)
        results.push(result)
        if (result.status === 'failed') break
      }
    } finally {
      await this.unlock()
    }

    return {addons: results, ok: results.every((r) => r.status !== 'failed')}
  }

  /** `record` is what the listing before the lock found; it is read again once the lock is held. */
  private async disableOne(entry: AddonEntry, record: AddonRecord | undefined, options: ChangeOptions): Promise<AddonResult> {
    const id = addonId(entry)
    const clock = timer()
    if (!record) {
      this.reporter.notice(`Addon ${id} is already disabled`)
      return {action: 'disable', addon: id, durations: clock.total(), objects: [], pruned: [], status: 'already-disabled'}
    }

    if (options.dryRun) {
      return {action: 'disable', addon: id, durations: clock.total(), objects: record.objects, pruned: record.objects, status: 'planned'}
    }

    await this.locked(options)
    const current = await readRecord(this.client, entry)
    if (!current) {
      this.reporter.notice(`Addon ${id} is already disabled`)
      return {action: 'disable', addon: id, durations: clock.total(), objects: [], pruned: [], status: 'already-disabled'}
    }

    try {
      return await this.reporter.step(`Disable ${id}`, async (update) => {
        await deleteObjects(this.client, current.objects, {
          progress: (done, total, waitingFor) => update(`deleted ${done}/${total}${waitingFor ? `, waiting for ${waitingFor}` : ''}`),
          timeoutMs: options.timeoutMs,
        })
        clock.lap('delete')
        await this.client.delete(recordRef(entry))
        return {action: 'disable' as const, addon: id, durations: clock.total(), objects: [], pruned: current.objects, status: 'disabled' as const}
      })
    } catch (error) {
      if (error instanceof UserError) {
        return {action: 'disable', addon: id, durations: clock.total(), message: error.message, objects: current.objects, pruned: [], status: 'failed'}
      }

      throw error
    }
  }
}

export function describeResult(result: AddonResult): string {
  const count = (refs: ObjectRef[]) => `${refs.length} object${refs.length === 1 ? '' : 's'}`
  switch (result.status) {
    case 'enabled': {
      return `Enabled ${result.addon}: ${count(result.objects)} applied${result.pruned.length > 0 ? `, ${count(result.pruned)} pruned` : ''} in ${((result.durations.total ?? 0) / 1000).toFixed(1)}s`
    }

    case 'disabled': {
      return `Disabled ${result.addon}: ${count(result.pruned)} deleted in ${((result.durations.total ?? 0) / 1000).toFixed(1)}s`
    }

    case 'planned': {
      return `${result.action === 'enable' ? 'Would apply' : 'Would delete'} ${count(result.action === 'enable' ? result.objects : result.pruned)} for ${result.addon}${result.action === 'enable' && result.pruned.length > 0 ? ` and prune ${result.pruned.map(describeRef).join(', ')}` : ''}`
    }

    default: {
      return result.message ?? `${result.addon}: ${result.status}`
    }
  }
}
