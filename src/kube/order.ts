import type {ObjectRef} from './types.js'

/**
 * Apply phases, in order: what later objects depend on goes first. CRDs are waited to Established after phase 0;
 * webhooks and API services come last so they cannot block the addon's own objects. Deletion runs in reverse.
 */
export const PHASES = [
  'namespaces and CRDs',
  'RBAC',
  'config',
  'services',
  'workloads',
  'webhooks and API services',
] as const

const PHASE_OF: Record<string, number> = {
  APIService: 5,
  ClusterRole: 1,
  ClusterRoleBinding: 1,
  ConfigMap: 2,
  CronJob: 4,
  CustomResourceDefinition: 0,
  DaemonSet: 4,
  Deployment: 4,
  Endpoints: 3,
  IngressClass: 2,
  Job: 4,
  LimitRange: 2,
  MutatingWebhookConfiguration: 5,
  Namespace: 0,
  PersistentVolume: 2,
  PersistentVolumeClaim: 2,
  Pod: 4,
  PodDisruptionBudget: 4,
  PriorityClass: 2,
  ReplicaSet: 4,
  ResourceQuota: 2,
  Role: 1,
  RoleBinding: 1,
  RuntimeClass: 2,
  Secret: 2,
  Service: 3,
  ServiceAccount: 1,
  StatefulSet: 4,
  StorageClass: 2,
  ValidatingAdmissionPolicy: 5,
  ValidatingAdmissionPolicyBinding: 5,
  ValidatingWebhookConfiguration: 5,
}

/** Kinds not listed (Ingress, custom resources, ...) go with the workloads, after their CRDs are established. */
export function phaseOf(kind: string): number {
  return PHASE_OF[kind] ?? 4
}

/** Objects grouped by phase, in phase order; order within a phase is kept. */
export function byPhase<T extends {kind: string}>(objects: T[]): T[][] {
  const phases: T[][] = PHASES.map(() => [])
  for (const object of objects) phases[phaseOf(object.kind)].push(object)
  return phases
}

export function sortForDelete<T extends ObjectRef>(refs: T[]): T[][] {
  return byPhase(refs).reverse()
}
