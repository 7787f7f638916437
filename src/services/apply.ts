import type {AddonCatalog} from '../addons/catalog.js'
import type {AddonRequest} from '../addons/grammar.js'
import {resolveRequires} from '../addons/graph.js'
import {inputsOverRecord, planAddon} from '../addons/plan.js'
import {
  type DesiredAddon,
  type DesiredPart,
  type DesiredServiceArgs,
  type Origin,
  describeOrigin,
} from '../apply/desired-state.js'
import {EXIT, type Problem, UserError, ValidationError} from '../errors.js'
import type {KubeClient, ObjectRef} from '../kube/types.js'
import {type AddonEntry, addonId} from '../models/addon.js'
import type {NodeTarget} from '../nodes/agent-client.js'
import {FactReader} from '../addons/facts.js'
import {type NodeFleet, configureBody, fanOut} from '../nodes/fleet.js'
import {type AddonRecord, listRecords, recordId} from '../records/applyset.js'
import {ChangeLock} from '../records/lock.js'
import {plural, splitAddonRef} from '../util/text.js'
import {type AddonResult, AddonService} from './addon-service.js'
import type {ObjectDiff} from './diff.js'
import type {Reporter} from './progress.js'
import type {HookEnvironment} from './hook-addons.js'
import type {RepoService} from './repos.js'

export type StepAction = 'add-repository' | 'disable' | 'enable' | 'reapply' | 'replace-repository' | 'set-node-args'

/** One change apply -f plans and makes: a repository, an addon, or one service's flags on one node. */
export interface ApplyStep {
  action: StepAction
  /** The addon's own result once enabled or disabled. */
  addon?: AddonResult
  /** Where the file asks for it (file:line); absent for a requirement or a pruned addon. */
  at?: string
  /** What changes: option and version differences, flags with their old and new values. */
  details: string[]
  /** A node step's flags: the value now (null: not set; undefined: not readable) and the one wanted (null: removed). */
  flags?: FlagChange[]
  message?: string
  status: 'done' | 'failed' | 'planned' | 'skipped'
  /** A repository name, an addon id, or `kubelet on node-1`. */
  target: string
}

export interface ApplyResult {
  /** True when a step changed something. */
  changed: boolean
  dryRun: boolean
  /** Fields only a MicroK8s node applies to itself, named with where they are. */
  notApplied: {at: string; field: string}[]
  ok: boolean
  steps: ApplyStep[]
  /** What already matched the file: repositories, addons and node services. */
  unchanged: string[]
}

/** One planned step as `diff -f` shows it. */
export interface StepDiff {
  changes: (ObjectDiff | {change: 'delete'; ref: ObjectRef})[]
  note?: string
  step: ApplyStep
  unchanged?: number
}

export interface ApplyDiff {
  diffs: StepDiff[]
  plan: ApplyResult
}

export interface ApplyOptions {
  /** Plan only: read the cluster and the nodes, change nothing. */
  dryRun?: boolean
  forceConflicts?: boolean
  /** Also disable enabled addons the files do not list (and no listed addon requires). */
  prune?: boolean
  /** Fields only a MicroK8s node can apply are an error instead of a notice. */
  strict?: boolean
  timeoutMs: number
  wait?: boolean
  /** Also wait until APIServices served by an addon's own pods answer (`--wait=full`). */
  waitServed?: boolean
}

export interface ApplyServiceOptions {
  client: KubeClient
  cluster: {arch: string; version: string}
  /** The nodes' agents, asked for only when the files set node arguments or an addon does. */
  fleet: () => Promise<NodeFleet | undefined>
  /** The catalog as the repositories are now: read again after the files add or replace one. */
  /** How hook addons reach the cluster and their programs (the command's flags). */
  hooks?: HookEnvironment
  loadCatalog: () => Promise<AddonCatalog>
  reporter: Reporter
  repos: RepoService
}

/** A listed addon resolved against the catalog: what enable and disable are asked for. */
/** The options the files give each addon, by id: they decide requirements an option waives (`requiresUnless`). */
function optionsOf(addons: ResolvedAddon[]): Map<string, Record<string, unknown>> {
  return new Map(addons.flatMap((a) => (a.entry ? [[addonId(a.entry), a.desired.options ?? {}] as const] : [])))
}

interface ResolvedAddon {
  desired: DesiredAddon
  entry?: AddonEntry
  /** Set when the addon's repository is added by an earlier step of the same run. */
  pendingRepository?: string
  request: AddonRequest
}

export interface FlagChange {
  flag: string
  from?: null | string
  to: null | string
}

/** One service's flags of one part: the nodes that differ, each with its step (same order). */
interface NodeArgsGroup {
  nodes: NodeTarget[]
  service: DesiredServiceArgs
  steps: ApplyStep[]
}

/** `repo/name`, or the bare name of an addon whose repository is not known yet. */
const targetOf = ({request}: ResolvedAddon): string => (request.repository ? addonId(request) : request.name)

const DEPENDENCY_FAILED = 'not applied: a requirement failed'

/**
 * Converges a cluster to apply files: repositories, then addons (dependencies first, failures reported and the rest
 * applied), then node arguments, part by part, under one lock taken at the first write. A run with nothing to change
 * writes nothing, to the cluster or to the nodes.
 */
export class ApplyService {
  private catalog!: AddonCatalog
  /** What the files say of each listed addon, by id: the inputs a diff renders with. */
  private readonly listed = new Map<string, {desired: DesiredAddon; part: DesiredPart}>()
  /** One lock for the whole run, taken at its first write. */
  private lock!: ChangeLock

  private fleetPromise?: Promise<NodeFleet | undefined>
  private readonly facts: FactReader

  constructor(private readonly options: ApplyServiceOptions) {
    this.facts = new FactReader(options.client, () => this.fleet())
  }

  /** The nodes, found once for the whole run (the addon services of every part share it), and only if needed. */
  private fleet(): Promise<NodeFleet | undefined> {
    this.fleetPromise ??= this.options.fleet()
    return this.fleetPromise
  }

  async apply(parts: DesiredPart[], options: ApplyOptions): Promise<ApplyResult> {
    const {reporter} = this.options
    const localOnly = parts.flatMap((part) => part.notApplied)
    if (options.strict && localOnly.length > 0) {
      throw new ValidationError(
        'Fields only a MicroK8s node can apply to itself (--strict); nothing was applied',
        localOnly.map(({at, field}) => ({field, file: at.file, line: at.line, message: 'not applied by mk8s'})),
        {exitCode: EXIT.usage},
      )
    }

    const notApplied = localOnly.map(({at, field}) => ({at: describeOrigin(at), field}))

    for (const {at, field} of notApplied) {
      reporter.notice(
        `${at}: ${field} not applied: only a MicroK8s node applies it to itself (--strict makes this an error)`,
      )
    }

    for (const {at, field} of parts.flatMap((part) => part.unknown)) {
      reporter.notice(`${describeOrigin(at)}: unknown field ${field} ignored, as MicroK8s ignores it`)
    }

    this.catalog = await this.options.loadCatalog()
    await this.validate(parts)
    this.lock = new ChangeLock({
      client: this.options.client,
      onWait: (holder) => reporter.notice(`Waiting for another mk8s (${holder}) to finish changing addons...`),
      timeoutMs: options.timeoutMs,
    })
    const steps: ApplyStep[] = []
    const unchanged: string[] = []
    try {
      for (const part of parts) await this.applyPart(part, options, steps, unchanged)
      if (options.prune) await this.prune(parts, options, steps)
    } finally {
      await this.lock.release()
    }

    const ok = steps.every((step) => step.status !== 'failed' && step.status !== 'skipped')
    return {
      changed: steps.some((s) => s.status === 'done'),
      dryRun: options.dryRun ?? false,
      notApplied,
      ok,
      steps,
      unchanged,
    }
  }

  /**
   * The plan as a diff (`mk8s diff -f`): each addon step's objects against the live ones (server-side dry runs), the
   * objects a disable would delete, each node's flags. Nothing is changed.
   */
  async diff(parts: DesiredPart[], options: ApplyOptions): Promise<ApplyDiff> {
    const plan = await this.apply(parts, {...options, dryRun: true})
    const records = await listRecords(this.options.client)
    const diffs: StepDiff[] = []
    for (const step of plan.steps) {
      const record = records.find((r) => recordId(r) === step.target)
      if (step.action === 'disable') {
        diffs.push({changes: (record?.objects ?? []).map((ref) => ({change: 'delete', ref})), step})
      } else if (step.action === 'enable' || step.action === 'reapply') {
        const entry = this.catalog.available().find((e) => addonId(e) === step.target)
        const addon = entry ? await this.catalog.load(entry) : undefined
        if (addon?.kind !== 'declarative') {
          diffs.push({changes: [], note: 'its repository is not added yet: nothing to compare', step})
          continue
        }

        const listed = this.listed.get(step.target)
        const inputs = listed
          ? this.inputs(listed.desired, listed.part)
          : inputsOverRecord(record, {imageOverrides: {registryMirrors: parts[0].registryMirrors}})
        const {diffObjects} = await import('./diff.js')
        const facts = await this.facts.facts(addon, this.options.cluster)
        diffs.push({...(await diffObjects(this.options.client, addon, inputs, facts, record)), step})
      } else diffs.push({changes: [], step})
    }

    return {diffs, plan}
  }

  /**
   * Everything that can be checked before a change: addons that exist (or come from a repository the files add),
   * declarative ones, options and image keys that render. All problems at once, with their lines; nothing applied.
   */
  private async validate(parts: DesiredPart[]): Promise<void> {
    const problems: Problem[] = []
    const added = new Set(
      parts
        .flatMap((part) => part.repositories.map((repo) => repo.name))
        .filter((name) => !this.catalog.repository(name)),
    )
    for (const part of parts) {
      for (const desired of part.addons) {
        const where = {field: desired.name, file: desired.at.file, line: desired.at.line}
        try {
          const resolved = this.resolve(desired, added)
          if (desired.disabled || !resolved.entry) continue
          const addon = await this.catalog.load(resolved.entry)
          if (addon.kind === 'hook') {
            // A hook takes its arguments (a launch configuration's args), as on the command line; nothing else.
            if (desired.options || desired.images) {
              problems.push({...where, message: 'is a MicroK8s hook addon: it takes args, not options or images'})
            }

            continue
          }

          await planAddon(addon, this.inputs(desired, part), this.options.cluster)
        } catch (error) {
          if (!(error instanceof UserError)) throw error
          problems.push({...where, message: error.message.split('\n').join(' ').trim()})
        }
      }
    }

    if (problems.length > 0) {
      throw new ValidationError(
        `Invalid apply file (${problems.length === 1 ? '1 problem' : `${problems.length} problems`}); nothing was applied`,
        problems,
        {exitCode: EXIT.usage},
      )
    }
  }

  /**
   * The addon a file names, as MicroK8s infers a bare name. `added`: repositories the files add or replace before
   * this addon is enabled; an addon not found that one of them may hold is left pending until they are there.
   */
  private resolve(desired: DesiredAddon, added: Set<string>, records: AddonRecord[] = []): ResolvedAddon {
    const {name, repository} = splitAddonRef(desired.name)
    const fromFiles = repository ? added.has(repository) : added.size > 0
    const matches = repository
      ? this.catalog.available().filter((e) => e.name === name && e.repository === repository)
      : this.catalog.available().filter((e) => e.name === name)
    if (matches.length === 1) {
      return {desired, entry: matches[0], request: {args: desired.args, name, repository: matches[0].repository}}
    }

    if (matches.length > 1) {
      throw new UserError(`is in more than one repository: name one of ${matches.map(addonId).join(', ')}`)
    }

    // Disabling needs no repository: the record says what to delete.
    const recorded = records.find((r) => r.addon === name && (!repository || r.repository === repository))
    if (desired.disabled) {
      return {desired, request: {args: [], name, repository: recorded?.repository ?? repository ?? 'core'}}
    }

    if (fromFiles) {
      const pendingRepository = repository ?? [...added].join(' or ')
      return {desired, pendingRepository, request: {args: desired.args, name, repository: repository ?? ''}}
    }

    throw new UserError(repository ? `not found in repository ${repository}` : 'was not found in any repository')
  }

  private inputs(desired: DesiredAddon, part: DesiredPart) {
    return {
      args: desired.args,
      imageOverrides: {images: desired.images, registryMirrors: part.registryMirrors},
      values: desired.options ? [desired.options] : [],
    }
  }

  private service(): AddonService {
    return new AddonService({
      catalog: this.catalog,
      client: this.options.client,
      cluster: this.options.cluster,
      facts: this.facts,
      fleet: () => this.fleet(),
      hooks: this.options.hooks,
      reporter: this.options.reporter,
    })
  }

  private async applyPart(part: DesiredPart, options: ApplyOptions, steps: ApplyStep[], unchanged: string[]) {
    const {reporter} = this.options
    reporter.say(
      `Plan for ${describeOrigin(part.at)} (${part.format === 'mk8s' ? 'mk8s file' : 'MicroK8s launch configuration'}):`,
    )
    const planned: ApplyStep[] = []
    const repositorySteps = await this.planRepositories(part, unchanged)
    planned.push(...repositorySteps)
    const pending = new Set(repositorySteps.map((step) => step.target))
    const records = await listRecords(this.options.client)
    const resolved = part.addons.map((desired) => this.resolve(desired, pending, records))
    const addonSteps = await this.planAddons(part, resolved, records, unchanged)
    planned.push(...addonSteps)
    const fleet = part.nodeArgs.length > 0 ? await this.fleet() : undefined
    const nodeSteps = await this.planNodeArgs(part, fleet, unchanged)
    planned.push(...nodeSteps.flatMap((group) => group.steps))
    if (planned.length === 0) reporter.say('  nothing to change')
    for (const step of planned) reporter.say(`  ${describeStep(step)}`)
    if (options.dryRun) {
      steps.push(...planned)
      return
    }

    for (const step of repositorySteps) await this.applyRepository(step, part)
    if (repositorySteps.some((step) => step.status === 'done')) this.catalog = await this.options.loadCatalog()
    this.resolvePending(resolved, addonSteps, records)
    const applied = await this.applyAddons(part, resolved, addonSteps, options)
    for (const group of nodeSteps) await this.applyNodeArgs(group)
    steps.push(...repositorySteps, ...applied, ...nodeSteps.flatMap((group) => group.steps))
  }

  /** Addons of repositories this part added, found now that they are there; a step fails for one still missing. */
  private resolvePending(resolved: ResolvedAddon[], steps: ApplyStep[], records: AddonRecord[]): void {
    for (const [i, addon] of resolved.entries()) {
      if (addon.pendingRepository === undefined) continue
      const step = steps.find((s) => s.at === describeOrigin(addon.desired.at))
      try {
        resolved[i] = this.resolve(addon.desired, new Set(), records)
        if (step) step.target = addonId(resolved[i].request)
      } catch (error) {
        if (!(error instanceof UserError)) throw error
        if (step) Object.assign(step, {message: `${addon.desired.name} ${error.message}`, status: 'failed'})
      }
    }
  }

  private async planRepositories(part: DesiredPart, unchanged: string[]): Promise<ApplyStep[]> {
    const steps: ApplyStep[] = []
    for (const repo of part.repositories) {
      if (this.catalog.repository(repo.name)?.bundled) {
        this.options.reporter.notice(
          `${describeOrigin(repo.at)}: repository ${repo.name} is bundled with mk8s; ${repo.source} is not added`,
        )
        continue
      }

      const current = await this.options.repos.inspect(repo.name, repo.reference)
      const at = describeOrigin(repo.at)
      const wanted = `${repo.source}${repo.reference ? `@${repo.reference}` : ''}`
      const sameSource = current?.source?.replace(/\/+$/, '') === repo.source.replace(/\/+$/, '')
      if (current && sameSource && current.atReference) unchanged.push(`repository ${repo.name}`)
      else if (current) {
        const was = current.source ?? '(not a git clone)'
        steps.push({
          action: 'replace-repository',
          at,
          details: [`${was} → ${wanted}`],
          status: 'planned',
          target: repo.name,
        })
      } else steps.push({action: 'add-repository', at, details: [wanted], status: 'planned', target: repo.name})
    }

    return steps
  }

  private async applyRepository(step: ApplyStep, part: DesiredPart): Promise<void> {
    const repo = part.repositories.find((r) => r.name === step.target)!
    await this.options.reporter.step(
      `${step.action === 'add-repository' ? 'Add' : 'Replace'} repository ${repo.name}`,
      async () => {
        try {
          await this.options.repos.add({
            force: step.action === 'replace-repository',
            name: repo.name,
            reference: repo.reference,
            source: repo.source,
          })
          step.status = 'done'
        } catch (error) {
          if (!(error instanceof UserError)) throw error
          Object.assign(step, {message: error.message, status: 'failed'})
        }
      },
    )
  }

  /**
   * Enables in dependency order (a listed requirement gets its own options before what requires it), disables after.
   * Each listed addon is compared with its record: unchanged ones are left alone.
   */
  private async planAddons(
    part: DesiredPart,
    resolved: ResolvedAddon[],
    records: AddonRecord[],
    unchanged: string[],
  ): Promise<ApplyStep[]> {
    const steps: ApplyStep[] = []
    const service = this.service()
    for (const addon of await this.enableOrder(resolved)) {
      const at = describeOrigin(addon.desired.at)
      const id = targetOf(addon)
      if (addon.pendingRepository !== undefined) {
        steps.push({
          action: 'enable',
          at,
          details: [`from repository ${addon.pendingRepository}, once added`],
          status: 'planned',
          target: id,
        })
        continue
      }

      this.listed.set(id, {desired: addon.desired, part})
      const {imageOverrides, values} = this.inputs(addon.desired, part)
      const preview = await service.enable({
        dryRun: 'plan',
        exact: true,
        imageOverrides,
        requests: [addon.request],
        timeoutMs: 0,
        tokens: [],
        values,
      })
      for (const result of preview.addons) {
        if (steps.some((step) => step.target === result.addon)) continue
        const listed = result.addon === id
        if (result.status === 'already-enabled') {
          if (listed) unchanged.push(result.addon)
          continue
        }

        const recorded = records.find((r) => recordId(r) === result.addon)
        steps.push({
          action: recorded?.state === 'enabled' ? 'reapply' : 'enable',
          at: listed ? at : undefined,
          details: result.changes ?? [],
          status: 'planned',
          target: result.addon,
        })
      }
    }

    for (const addon of resolved.filter((a) => a.desired.disabled)) {
      const id = targetOf(addon)
      const record = records.find((r) => recordId(r) === id)
      if (!record) {
        unchanged.push(`${id} (disabled)`)
        continue
      }

      steps.push({
        action: 'disable',
        at: describeOrigin(addon.desired.at),
        details: [`${record.objects.length} objects`],
        status: 'planned',
        target: id,
      })
    }

    return steps
  }

  /** The part's addons to enable, requirements before what requires them; those awaiting a repository last. */
  private async enableOrder(resolved: ResolvedAddon[]): Promise<ResolvedAddon[]> {
    const enabling = resolved.filter((a) => !a.desired.disabled)
    const known = enabling.filter((a) => a.entry)
    const order = (
      await resolveRequires(
        known.map((a) => a.entry!),
        this.catalog,
        optionsOf(known),
      )
    ).map((a) => addonId(a.entry))
    const rank = (a: ResolvedAddon) => (a.entry ? order.indexOf(addonId(a.entry)) : Number.MAX_SAFE_INTEGER)
    return [...enabling].sort((a, b) => rank(a) - rank(b))
  }

  /**
   * Makes the part's addon steps; returns them in the order they were made (requirements of an addon from a
   * repository added in this run are found only now, and get steps of their own).
   */
  private async applyAddons(
    part: DesiredPart,
    resolved: ResolvedAddon[],
    steps: ApplyStep[],
    options: ApplyOptions,
  ): Promise<ApplyStep[]> {
    const made: ApplyStep[] = []
    const service = this.service()
    const failed = new Set<string>()
    const enableSteps = steps.filter((step) => step.action === 'enable' || step.action === 'reapply')
    for (const addon of await this.enableOrder(resolved)) {
      const id = targetOf(addon)
      const entry = this.catalog.find(addon.request)
      // The addon and its requirements (itself last): enable is called when any of them has a step to make.
      const chain = entry
        ? (await resolveRequires([entry], this.catalog, optionsOf(resolved))).map((a) => addonId(a.entry))
        : [id]
      const mine = enableSteps.filter((step) => chain.includes(step.target) && step.status === 'planned')
      if (mine.length === 0) continue
      if (chain.some((required) => failed.has(required))) {
        for (const step of mine) Object.assign(step, {message: DEPENDENCY_FAILED, status: 'skipped'})
        made.push(...mine)
        failed.add(id)
        continue
      }

      const {imageOverrides, values} = this.inputs(addon.desired, part)
      const result = await service
        .enable({
          exact: true,
          forceConflicts: options.forceConflicts,
          imageOverrides,
          lock: this.lock,
          requests: [addon.request],
          timeoutMs: options.timeoutMs,
          tokens: [],
          values,
          wait: options.wait,
          waitServed: options.waitServed,
        })
        .catch((error: unknown) => {
          // The lock not taken, the server gone: this step fails, the rest are still tried and reported.
          if (!(error instanceof UserError)) throw error
          for (const step of mine) Object.assign(step, {message: error.message, status: 'failed'})
          made.push(...mine)
          failed.add(id)
          return {addons: []}
        })
      for (const outcome of result.addons) {
        if (outcome.status === 'failed') failed.add(outcome.addon)
        let step = steps.find((s) => s.target === outcome.addon && s.status === 'planned')
        // A requirement of an addon from a repository added in this run could not be planned before it was there.
        if (!step && (outcome.status === 'enabled' || outcome.status === 'failed')) {
          step = {action: 'enable', details: [`required by ${id}`], status: 'planned', target: outcome.addon}
        }

        if (!step) continue
        made.push(step)
        step.addon = outcome
        step.status = outcome.status === 'failed' || outcome.status === 'not-found' ? 'failed' : 'done'
        if (outcome.message) step.message = outcome.message
      }

      // A listed addon whose requirement failed was never reached by enable: say so.
      for (const step of mine.filter((s) => s.status === 'planned')) {
        Object.assign(step, {message: DEPENDENCY_FAILED, status: 'skipped'})
        made.push(step)
      }
    }

    for (const step of steps.filter((s) => s.action === 'disable')) await this.disable(service, step, options)
    // Disables, and steps that failed before they could be made (an addon its new repository does not have).
    return [...made, ...steps.filter((step) => !made.includes(step))]
  }

  private async disable(service: AddonService, step: ApplyStep, options: ApplyOptions): Promise<void> {
    const {name, repository} = splitAddonRef(step.target)
    const result = await service
      .disable({
        lock: this.lock,
        requests: [{args: [], name, repository: repository!}],
        timeoutMs: options.timeoutMs,
        tokens: [],
      })
      .catch((error: unknown) => {
        if (!(error instanceof UserError)) throw error
        Object.assign(step, {message: error.message, status: 'failed'})
        return undefined
      })
    if (!result) return
    const outcome = result.addons[0]
    step.addon = outcome
    step.status = outcome.status === 'failed' ? 'failed' : 'done'
    if (outcome.message) step.message = outcome.message
  }

  /**
   * Each node's current flags, read through its agent, against the file: a step per node and service that differs.
   * A node whose flags cannot be read (MicroK8s's own agent has no read) is changed, to be sure.
   */
  private async planNodeArgs(
    part: DesiredPart,
    fleet: NodeFleet | undefined,
    unchanged: string[],
  ): Promise<NodeArgsGroup[]> {
    const groups: NodeArgsGroup[] = []
    for (const service of part.nodeArgs) {
      const at = describeOrigin(service.at)
      const group: NodeArgsGroup = {nodes: [], service, steps: []}
      groups.push(group)
      if (!fleet) {
        group.steps.push({
          action: 'set-node-args',
          at,
          details: describeWanted(service),
          message: 'no agent token: pass --agent-token-file or set MK8S_AGENT_TOKEN_FILE',
          status: 'planned',
          target: `${service.service} on every node`,
        })
        continue
      }

      const outcomes = await fanOut(fleet.nodes, (node) => fleet.client.arguments(node, service.service))
      for (const outcome of outcomes) {
        const target = `${service.service} on ${outcome.node.name}`
        const current = outcome.ok ? new Map(outcome.value.map((a) => [a.flag, a.value])) : undefined
        const flags = flagChanges(service, current)
        if (flags.length === 0) {
          unchanged.push(target)
          continue
        }

        const details = current ? flags.map(describeFlagChange) : describeWanted(service)
        if (!outcome.ok) details.push(`(current values not readable: ${outcome.error})`)
        group.nodes.push(outcome.node)
        group.steps.push({action: 'set-node-args', at, details, flags, status: 'planned', target})
      }
    }

    return groups
  }

  /** One service's flags on every node that differs, all at once; each node restarts the service if it changed. */
  private async applyNodeArgs({nodes, service, steps}: NodeArgsGroup): Promise<void> {
    if (steps.length === 0) return
    const fleet = await this.fleet()
    if (!fleet) {
      for (const step of steps) step.status = 'failed'
      return
    }

    await this.lock.hold()
    await this.options.reporter.step(
      `Set ${service.service} arguments on ${plural(nodes.length, 'node')}`,
      async () => {
        const outcomes = await fanOut(nodes, (node) =>
          fleet.client.configure(node, configureBody(service.service, {...service, restart: true})),
        )
        outcomes.forEach((outcome, i) => {
          if (outcome.ok) steps[i].status = 'done'
          else Object.assign(steps[i], {message: outcome.error, status: 'failed'})
        })
      },
    )
  }

  /** Enabled addons no part lists, nor requires: disabled last, what requires another before it. */
  private async prune(parts: DesiredPart[], options: ApplyOptions, steps: ApplyStep[]) {
    const records = await listRecords(this.options.client)
    const listed = parts.flatMap((part) =>
      part.addons
        .filter((a) => !a.disabled)
        .flatMap((a) => {
          try {
            return [this.resolve(a, new Set())]
          } catch {
            return []
          }
        }),
    )
    const entries = listed.flatMap((a) => (a.entry ? [a.entry] : []))
    const kept = new Set((await resolveRequires(entries, this.catalog, optionsOf(listed))).map((a) => addonId(a.entry)))
    const candidates = records.filter((record) => !kept.has(recordId(record)))
    const known = candidates.flatMap((r) => {
      const entry = this.catalog.find({name: r.addon, repository: r.repository})
      return entry ? [entry] : []
    })
    // Requirements come first in resolveRequires' order: disable in reverse, dependents first.
    const order = (await resolveRequires(known, this.catalog)).map((a) => addonId(a.entry)).reverse()
    const rank = (id: string) => (order.includes(id) ? order.indexOf(id) : -1)
    const pruned = candidates.map(recordId).sort((a, b) => rank(a) - rank(b))
    const planned: ApplyStep[] = pruned.map((id) => ({
      action: 'disable',
      details: ['not listed in the files (--prune)'],
      status: 'planned',
      target: id,
    }))
    if (planned.length > 0) this.options.reporter.say('Prune:')
    for (const step of planned) this.options.reporter.say(`  ${describeStep(step)}`)
    steps.push(...planned)
    if (options.dryRun) return
    const service = this.service()
    for (const step of planned) await this.disable(service, step, options)
  }
}

function describeWanted(service: DesiredServiceArgs): string[] {
  return [
    ...Object.entries(service.update).map(([flag, value]) => `${flag}=${value}`),
    ...service.remove.map((flag) => `remove ${flag}`),
  ]
}

/** The flags that differ from `current`; every wanted flag when the node's flags could not be read. */
function flagChanges(service: DesiredServiceArgs, current: Map<string, string> | undefined): FlagChange[] {
  const now = (flag: string) => (current ? (current.get(flag) ?? null) : undefined)
  return [
    ...Object.entries(service.update)
      .filter(([flag, value]) => !current || current.get(flag) !== value)
      .map(([flag, value]) => ({flag, from: now(flag), to: value})),
    ...service.remove
      .filter((flag) => !current || current.has(flag))
      .map((flag) => ({flag, from: now(flag), to: null})),
  ]
}

/** `--max-pods: 110 → 200`, `--event-qps: 5 → (removed)`, `--foo: (unset) → 1`. */
const describeFlagChange = ({flag, from, to}: FlagChange): string =>
  `${flag}: ${from === null ? '(unset)' : from || '(set)'} → ${to ?? '(removed)'}`

const ACTION_WORDS: Record<StepAction, string> = {
  'add-repository': 'add repository',
  disable: 'disable',
  enable: 'enable',
  reapply: 're-apply',
  'replace-repository': 'replace repository',
  'set-node-args': 'set',
}

const STEP_MARKS: Record<StepAction, string> = {
  'add-repository': '+',
  disable: '-',
  enable: '+',
  reapply: '~',
  'replace-repository': '~',
  'set-node-args': '~',
}

/** `+ enable core/dns (cluster.yaml:7): not enabled`. */
export function describeStep(step: ApplyStep): string {
  const where = step.at ? ` (${step.at})` : ''
  const details = step.details.length > 0 ? `: ${step.details.join('; ')}` : ''
  const outcome = step.status === 'planned' ? '' : ` [${step.status}${step.message ? `: ${step.message}` : ''}]`
  return `${STEP_MARKS[step.action]} ${ACTION_WORDS[step.action]} ${step.target}${where}${details}${outcome}`
}

export type {Origin}
