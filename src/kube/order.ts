import {type ObjectRef, groupOf} from './types.js'

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

/** The API groups Kubernetes itself serves; any other group is a custom resource's. */
const BUILT_IN_GROUPS = new Set([
  '',
  'admissionregistration.k8s.io',
  'apiextensions.k8s.io',
  'apiregistration.k8s.io',
  'apps',
  'authentication.k8s.io',
  'authorization.k8s.io',
  'autoscaling',
  'batch',
  'certificates.k8s.io',
  'coordination.k8s.io',
  'discovery.k8s.io',
  'events.k8s.io',
  'flowcontrol.apiserver.k8s.io',
  'internal.apiserver.k8s.io',
  'networking.k8s.io',
  'node.k8s.io',
  'policy',
  'rbac.authorization.k8s.io',
  'resource.k8s.io',
  'scheduling.k8s.io',
  'storage.k8s.io',
  'storagemigration.k8s.io',
])

export const isCustomResource = (ref: {apiVersion: string}): boolean => !BUILT_IN_GROUPS.has(groupOf(ref.apiVersion))

/**
 * Delete order: custom resources first, while the controllers and webhooks that finalize them still run; then the
 * apply phases in reverse (webhooks and API services, workloads, services, config, RBAC, namespaces and CRDs).
 */
export function sortForDelete<T extends ObjectRef>(refs: T[]): T[][] {
  const custom = refs.filter((ref) => isCustomResource(ref))
  return [custom, ...byPhase(refs.filter((ref) => !isCustomResource(ref))).reverse()]
}
