import {isCustomResource} from './order.js'
import type {KubeObject, ObjectRef} from './types.js'

export type Readiness = {reason: string; state: 'failed' | 'pending'} | {state: 'ready'}

/**
 * The built-in kinds mk8s waits for; custom resources are waited for too (their conditions decide, see below). Every
 * other kind is ready once the server accepted it. Service is here for type LoadBalancer; any other Service is ready.
 */
export const WAITED_KINDS = [
  'APIService',
  'CustomResourceDefinition',
  'DaemonSet',
  'Deployment',
  'Job',
  'PersistentVolumeClaim',
  'Service',
  'StatefulSet',
]

export const isWaited = (ref: Pick<ObjectRef, 'apiVersion' | 'kind'>): boolean =>
  WAITED_KINDS.includes(ref.kind) || isCustomResource(ref)

interface Condition {
  message?: string
  reason?: string
  status: string
  type: string
}

const conditions = (object: KubeObject): Condition[] => (object.status as {conditions?: Condition[]})?.conditions ?? []
const condition = (object: KubeObject, type: string) => conditions(object).find((c) => c.type === type)
const num = (value: unknown) => (typeof value === 'number' ? value : 0)
const pending = (reason: string): Readiness => ({reason, state: 'pending'})
const ready: Readiness = {state: 'ready'}

function observed(object: KubeObject): boolean {
  const status = (object.status ?? {}) as {observedGeneration?: number}
  return status.observedGeneration !== undefined && status.observedGeneration >= (object.metadata.generation ?? 0)
}

/**
 * The rules every kind follows (kstatus's): a controller that has not observed the latest generation is not done;
 * `Stalled=True` is a failure; `Reconciling=True` and a `Ready` condition that is not True are pending.
 */
function genericReadiness(object: KubeObject): Readiness | undefined {
  const status = (object.status ?? {}) as {observedGeneration?: number}
  if (status.observedGeneration !== undefined && status.observedGeneration < (object.metadata.generation ?? 0)) {
    return pending('waiting for the controller to observe the new generation')
  }

  const stalled = condition(object, 'Stalled')
  if (stalled?.status === 'True') return {reason: stalled.message ?? stalled.reason ?? 'stalled', state: 'failed'}
  const reconciling = condition(object, 'Reconciling')
  if (reconciling?.status === 'True') return pending(reconciling.message ?? reconciling.reason ?? 'reconciling')
  const readyCondition = condition(object, 'Ready')
  if (readyCondition && readyCondition.status !== 'True') {
    return pending(readyCondition.message ?? readyCondition.reason ?? `Ready=${readyCondition.status}`)
  }

  return undefined
}

/** Per-kind readiness, after kstatus's, kapp's and kubectl rollout status's rules. */
export function readinessOf(object: KubeObject): Readiness {
  const status = (object.status ?? {}) as Record<string, unknown>
  const spec = (object.spec ?? {}) as Record<string, unknown>
  const generic = genericReadiness(object)
  if (generic) return generic
  switch (object.kind) {
    case 'APIService': {
      const available = condition(object, 'Available')
      return available?.status === 'True' ? ready : pending(available?.message ?? 'waiting for Available')
    }

    case 'CustomResourceDefinition': {
      return condition(object, 'Established')?.status === 'True' ? ready : pending('waiting for Established')
    }

    case 'DaemonSet': {
      if (!observed(object)) return pending('waiting for the controller to observe the new generation')
      const desired = num(status.desiredNumberScheduled)
      const updated = num(status.updatedNumberScheduled)
      const available = num(status.numberAvailable)
      if (updated < desired) return pending(`${updated} of ${desired} pods updated`)
      if (available < desired) return pending(`${available} of ${desired} pods available`)
      return ready
    }

    case 'Deployment': {
      if (!observed(object)) return pending('waiting for the controller to observe the new generation')
      const progressing = condition(object, 'Progressing')
      if (progressing?.reason === 'ProgressDeadlineExceeded')
        return {reason: progressing.message ?? 'progress deadline exceeded', state: 'failed'}
      const replicas = typeof spec.replicas === 'number' ? spec.replicas : 1
      const updated = num(status.updatedReplicas)
      const available = num(status.availableReplicas)
      if (updated < replicas) return pending(`${updated} of ${replicas} replicas updated`)
      if (num(status.replicas) > updated)
        return pending(`${num(status.replicas) - updated} old replicas pending termination`)
      if (available < replicas) return pending(`${available} of ${replicas} replicas available`)
      return ready
    }

    case 'Job': {
      const failed = condition(object, 'Failed')
      if (failed?.status === 'True') return {reason: failed.message ?? failed.reason ?? 'job failed', state: 'failed'}
      return condition(object, 'Complete')?.status === 'True' ? ready : pending(`${num(status.succeeded)} completions`)
    }

    case 'PersistentVolumeClaim': {
      return status.phase === 'Bound' ? ready : pending(`phase ${String(status.phase ?? 'Pending')}`)
    }

    case 'Service': {
      if (spec.type !== 'LoadBalancer') return ready
      const ingress = (status.loadBalancer as {ingress?: unknown[]} | undefined)?.ingress ?? []
      return ingress.length > 0 ? ready : pending('waiting for a load balancer address (status.loadBalancer.ingress)')
    }

    case 'StatefulSet': {
      if (!observed(object)) return pending('waiting for the controller to observe the new generation')
      const replicas = typeof spec.replicas === 'number' ? spec.replicas : 1
      const readyReplicas = num(status.readyReplicas)
      if ((spec.updateStrategy as {type?: string})?.type !== 'OnDelete') {
        if (num(status.updatedReplicas) < replicas)
          return pending(`${num(status.updatedReplicas)} of ${replicas} replicas updated`)
        if (status.updateRevision && status.currentRevision !== status.updateRevision)
          return pending(`rolling out revision ${String(status.updateRevision)}`)
      }

      return readyReplicas < replicas ? pending(`${readyReplicas} of ${replicas} replicas ready`) : ready
    }

    default: {
      return ready
    }
  }
}

export function conditionSummary(object: KubeObject): string {
  return conditions(object)
    .map((c) => `${c.type}=${c.status}${c.reason ? ` (${c.reason})` : ''}`)
    .join(', ')
}
