import {hostname} from 'node:os'

import {UserError} from '../errors.js'
import {sleep} from '../util/async.js'
import {ApiError, type KubeClient, type KubeObject} from '../kube/types.js'
import {RECORD_NAMESPACE} from './applyset.js'

export const LOCK_NAME = 'mk8s-addons'
const DEFAULT_LEASE_SECONDS = 30

interface LeaseSpec {
  acquireTime?: string
  holderIdentity?: string
  leaseDurationSeconds?: number
  renewTime?: string
}

const nowMicro = () => new Date().toISOString().replace('Z', '000Z')

function expired(spec: LeaseSpec, defaultSeconds: number): boolean {
  if (!spec.holderIdentity) return true
  const renewed = Date.parse(spec.renewTime ?? spec.acquireTime ?? '')
  return Number.isNaN(renewed) || renewed + (spec.leaseDurationSeconds ?? defaultSeconds) * 1000 < Date.now()
}

export interface LockOptions {
  /** How long a lease lasts without renewal; MK8S_LOCK_LEASE_SECONDS shortens it for tests of a killed holder. */
  leaseSeconds?: number
}

/**
 * Set by mk8s for the hooks it runs: the lease holder a nested `microk8s-enable.wrapper` (mk8s again) shares. A lease
 * held by that holder is held by the nested run too: it neither waits for it, renews it nor releases it.
 */
export const LOCK_HOLDER_ENV = 'MK8S_LOCK_HOLDER'

const leaseSecondsFrom = (options: LockOptions) =>
  options.leaseSeconds ?? (Number(process.env.MK8S_LOCK_LEASE_SECONDS) || DEFAULT_LEASE_SECONDS)

/**
 * One enable or disable at a time per cluster: a coordination.k8s.io Lease held while mk8s changes addons and
 * renewed while it works. A lease whose holder stopped renewing (a killed mk8s) is taken over once it expires.
 */
export class ClusterLock {
  readonly holder = `${hostname()}/${process.pid}/${Math.random().toString(36).slice(2, 8)}`
  private renewTimer?: NodeJS.Timeout
  private lease?: KubeObject
  private readonly leaseSeconds: number
  /** The holder this process runs under (a hook's nested mk8s), from MK8S_LOCK_HOLDER. */
  private readonly inherited = process.env[LOCK_HOLDER_ENV] || undefined
  /** True when the lease is the inherited holder's: the outer mk8s renews and releases it. */
  private shared = false

  /** The identity the lease is held under: the inherited one when shared. */
  get identity(): string {
    return this.shared ? this.inherited! : this.holder
  }

  constructor(
    private readonly client: KubeClient,
    options: LockOptions = {},
  ) {
    this.leaseSeconds = leaseSecondsFrom(options)
  }

  private leaseObject(spec: LeaseSpec, resourceVersion?: string): KubeObject {
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {name: LOCK_NAME, namespace: RECORD_NAMESPACE, ...(resourceVersion ? {resourceVersion} : {})},
      spec,
    }
  }

  /** `createFirst`: the first try, when nobody is known to hold the lease. */
  private async tryAcquire(createFirst: boolean): Promise<LeaseSpec | undefined> {
    const wanted = (): LeaseSpec => ({
      acquireTime: nowMicro(),
      holderIdentity: this.holder,
      leaseDurationSeconds: this.leaseSeconds,
      renewTime: nowMicro(),
    })
    // Mostly nobody holds the lease: creating it at once saves reading it first. A nested mk8s reads first, since its
    // parent's lease is its own; so does every later try, when the lease was seen held.
    if (createFirst && !this.inherited) {
      try {
        this.lease = await this.client.create(this.leaseObject(wanted()))
        return undefined
      } catch (error) {
        if (!(error instanceof ApiError && error.code === 409)) throw error
      }
    }

    const ref = {apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', name: LOCK_NAME, namespace: RECORD_NAMESPACE}
    const current = await this.client.get(ref)
    const spec = current?.spec as LeaseSpec | undefined
    if (this.inherited && spec?.holderIdentity === this.inherited && !expired(spec, this.leaseSeconds)) {
      this.shared = true
      return undefined
    }

    try {
      if (!current) this.lease = await this.client.create(this.leaseObject(wanted()))
      else if (expired(spec!, this.leaseSeconds))
        this.lease = await this.client.replace(this.leaseObject(wanted(), current.metadata.resourceVersion))
      else return spec
      return undefined
    } catch (error) {
      // Another mk8s created or took the lease between our read and write: it holds it now.
      if (error instanceof ApiError && (error.code === 409 || error.code === 422))
        return {holderIdentity: 'another mk8s'}
      throw error
    }
  }

  /** Waits up to `timeoutMs` for the lease; `onWait` is told once who holds it. */
  async acquire(timeoutMs: number, onWait?: (holder: string) => void): Promise<void> {
    const deadline = Date.now() + timeoutMs
    let told = false
    for (let first = true; ; first = false) {
      const held = await this.tryAcquire(first)
      if (!held) break
      if (!told) onWait?.(held.holderIdentity ?? 'unknown')
      told = true
      if (Date.now() >= deadline) {
        throw new UserError(
          `Another mk8s is enabling or disabling addons on this cluster (lease ${RECORD_NAMESPACE}/${LOCK_NAME} held by ${held.holderIdentity}, renewed ${held.renewTime ?? 'never'})`,
          {
            suggestions: [
              `Try again when it has finished; a holder that stopped renewing is taken over after ${this.leaseSeconds}s`,
            ],
          },
        )
      }

      await sleep(1000)
    }

    if (this.shared) return
    this.renewTimer = setInterval(() => void this.renew(), (this.leaseSeconds * 1000) / 3)
    this.renewTimer.unref()
  }

  private async renew(): Promise<void> {
    if (!this.lease) return
    try {
      this.lease = await this.client.replace({
        ...this.lease,
        spec: {...(this.lease.spec as LeaseSpec), renewTime: nowMicro()},
      })
    } catch {
      // A missed renewal only shortens the lease; the next one retries.
    }
  }

  async release(): Promise<void> {
    clearInterval(this.renewTimer)
    if (!this.lease) return
    const lease = this.lease
    this.lease = undefined
    await this.client
      .delete(
        {apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', name: LOCK_NAME, namespace: RECORD_NAMESPACE},
        {propagation: 'Background', resourceVersion: lease.metadata.resourceVersion},
      )
      .catch(() => {})
  }
}

/** What a change needs of a lock: to hold it before its first write. The one who made it releases it. */
export interface HeldLock {
  hold(): Promise<void>
  /** The lease's holder once held, for the hooks whose nested mk8s share it. */
  readonly holder?: string
}

/**
 * The lock as a run of changes needs it: taken the first time a change writes (so a run that changes nothing takes
 * no lock), held across every change of the run, and released once by whoever created it.
 */
export class ChangeLock implements HeldLock {
  private lock?: ClusterLock

  constructor(
    private readonly options: LockOptions & {client: KubeClient; onWait?: (holder: string) => void; timeoutMs: number},
  ) {}

  get held(): boolean {
    return this.lock !== undefined
  }

  /** Who holds the lease, once held: what a hook's nested mk8s is told to share. */
  get holder(): string | undefined {
    return this.lock?.identity
  }

  async hold(): Promise<void> {
    if (this.lock) return
    const lock = new ClusterLock(this.options.client, this.options)
    await lock.acquire(this.options.timeoutMs, this.options.onWait)
    this.lock = lock
  }

  async release(): Promise<void> {
    const lock = this.lock
    this.lock = undefined
    await lock?.release()
  }
}
