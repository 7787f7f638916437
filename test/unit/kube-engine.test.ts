import {describe, expect, it} from 'vitest'

import {applySetId, parseRecord, recordObject} from '../../src/records/applyset.js'
import {ClusterLock} from '../../src/records/lock.js'
import {KubeError} from '../../src/errors.js'
import {NotReadyError, applyObjects, deleteObjects, normalizeNamespaces, waitReady} from '../../src/kube/engine.js'
import {byPhase, phaseOf} from '../../src/kube/order.js'
import {readinessOf} from '../../src/kube/readiness.js'
import {type KubeObject, refOf} from '../../src/kube/types.js'
import {FakeKubeClient} from '../helpers/fake-kube.js'

const obj = (kind: string, name: string, extra: Partial<KubeObject> = {}): KubeObject => ({
  apiVersion:
    kind === 'Deployment'
      ? 'apps/v1'
      : kind === 'CustomResourceDefinition'
        ? 'apiextensions.k8s.io/v1'
        : kind.includes('Role')
          ? 'rbac.authorization.k8s.io/v1'
          : 'v1',
  kind,
  metadata: {
    name,
    ...(kind === 'Namespace' || kind.startsWith('Cluster') || kind === 'CustomResourceDefinition'
      ? {}
      : {namespace: 'x'}),
  },
  ...extra,
})

describe('apply order', () => {
  it('puts namespaces and CRDs first, RBAC, config, services, workloads, webhooks last; unknown kinds with workloads', () => {
    const kinds = [
      'ValidatingWebhookConfiguration',
      'Deployment',
      'Service',
      'ConfigMap',
      'ClusterRole',
      'Namespace',
      'CustomResourceDefinition',
      'Widget',
      'APIService',
    ]
    expect(byPhase(kinds.map((kind) => ({kind}))).map((phase) => phase.map((o) => o.kind))).toEqual([
      ['Namespace', 'CustomResourceDefinition'],
      ['ClusterRole'],
      ['ConfigMap'],
      ['Service'],
      ['Deployment', 'Widget'],
      ['ValidatingWebhookConfiguration', 'APIService'],
    ])
    expect(phaseOf('Ingress')).toBe(4)
  })

  it('applies phase by phase, records the order, and waits for CRDs to be Established before the rest', async () => {
    const client = new FakeKubeClient()
    const order: string[] = []
    client.onWrite = (o) => order.push(o.kind)
    const crd = obj('CustomResourceDefinition', 'widgets.example.com', {
      spec: {
        group: 'example.com',
        names: {kind: 'Widget', plural: 'widgets'},
        scope: 'Namespaced',
        versions: [{name: 'v1'}],
      },
    })
    const widget: KubeObject = {apiVersion: 'example.com/v1', kind: 'Widget', metadata: {name: 'w', namespace: 'x'}}
    await applyObjects(client, [widget, obj('Deployment', 'd'), obj('Service', 's'), crd, obj('Namespace', 'x')], {
      timeoutMs: 1000,
    })
    // Objects of one phase go out together, so only the phases are ordered.
    expect(order.slice(0, 2).sort()).toEqual(['CustomResourceDefinition', 'Namespace'])
    expect(order[2]).toBe('Service')
    // Custom resources go with the workloads; the fake refuses a Widget until its CRD is Established, some time
    // after the apply, so its being applied shows the engine waited.
    expect(order.slice(3).sort()).toEqual(['Deployment', 'Widget'])
  })

  it('sets the namespace of namespaced objects and drops it from cluster-scoped ones', async () => {
    const client = new FakeKubeClient()
    const [cm, role] = await normalizeNamespaces(client, [
      {apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: 'a'}},
      {apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: {name: 'r', namespace: 'oops'}},
    ])
    expect(cm.metadata.namespace).toBe('default')
    expect(role.metadata.namespace).toBeUndefined()
  })

  it('deletes custom resources first, then in reverse order, and waits until each object is gone', async () => {
    const client = new FakeKubeClient()
    const crd = obj('CustomResourceDefinition', 'widgets.example.com', {
      spec: {group: 'example.com', names: {kind: 'Widget'}, versions: [{name: 'v1'}]},
    })
    const widget: KubeObject = {apiVersion: 'example.com/v1', kind: 'Widget', metadata: {name: 'w', namespace: 'x'}}
    const elsewhere = {...obj('ConfigMap', 'kept-apart'), metadata: {name: 'kept-apart', namespace: 'other'}}
    const workload = obj('Deployment', 'd', {spec: {replicas: 1}})
    const objects = [
      obj('Namespace', 'x'),
      crd,
      obj('ConfigMap', 'c'),
      workload,
      elsewhere,
      obj('ClusterRole', 'r'),
      widget,
    ]
    await applyObjects(client, objects, {timeoutMs: 1000})
    const deleted: string[] = []
    const original = client.delete.bind(client)
    client.delete = async (ref, options) => {
      deleted.push(`${ref.kind}/${ref.name}${options?.propagation === 'Background' ? ' (background)' : ''}`)
      return original(ref, options)
    }

    const progress: number[] = []
    await deleteObjects(client, objects.map(refOf), {progress: (done) => progress.push(done), timeoutMs: 1000})
    // The ConfigMap in x goes with its namespace, the Deployment's pods are set going at once, and the custom resource
    // in x is deleted while its controller still runs. Only workloads elsewhere would be deleted in the foreground.
    expect(deleted).toEqual([
      'Deployment/d (background)',
      'Widget/w (background)',
      'ConfigMap/kept-apart (background)',
      'ClusterRole/r (background)',
      'Namespace/x (background)',
      'CustomResourceDefinition/widgets.example.com (background)',
    ])
    expect(client.objects.size).toBe(0)
    expect(progress.at(-1)).toBe(objects.length)
  })
})

describe('readiness', () => {
  const deployment = (status: Record<string, unknown>, spec: Record<string, unknown> = {replicas: 2}) =>
    ({...obj('Deployment', 'd'), metadata: {generation: 2, name: 'd', namespace: 'x'}, spec, status}) as KubeObject

  it('follows the Deployment rollout', () => {
    expect(readinessOf(deployment({observedGeneration: 1})).state).toBe('pending')
    expect(
      readinessOf(deployment({availableReplicas: 1, observedGeneration: 2, replicas: 2, updatedReplicas: 2})),
    ).toEqual({reason: '1 of 2 replicas available', state: 'pending'})
    expect(
      readinessOf(deployment({availableReplicas: 2, observedGeneration: 2, replicas: 3, updatedReplicas: 2})),
    ).toEqual({reason: '1 old replicas pending termination', state: 'pending'})
    expect(
      readinessOf(deployment({availableReplicas: 2, observedGeneration: 2, replicas: 2, updatedReplicas: 2})).state,
    ).toBe('ready')
    expect(
      readinessOf(
        deployment({
          conditions: [{message: 'stuck', reason: 'ProgressDeadlineExceeded', status: 'False', type: 'Progressing'}],
          observedGeneration: 2,
        }),
      ),
    ).toEqual({reason: 'stuck', state: 'failed'})
  })

  it('knows DaemonSets, StatefulSets, Jobs, CRDs, APIServices and PVCs', () => {
    const ds = {
      ...obj('DaemonSet', 'ds'),
      metadata: {generation: 1, name: 'ds'},
      status: {desiredNumberScheduled: 3, numberAvailable: 2, observedGeneration: 1, updatedNumberScheduled: 3},
    }
    expect(readinessOf(ds)).toEqual({reason: '2 of 3 pods available', state: 'pending'})
    const sts = {
      ...obj('StatefulSet', 's'),
      metadata: {generation: 1, name: 's'},
      spec: {replicas: 2},
      status: {observedGeneration: 1, readyReplicas: 2, updatedReplicas: 2},
    }
    expect(readinessOf(sts).state).toBe('ready')
    expect(readinessOf({...obj('Job', 'j'), status: {conditions: [{status: 'True', type: 'Complete'}]}}).state).toBe(
      'ready',
    )
    expect(
      readinessOf({
        ...obj('Job', 'j'),
        status: {conditions: [{message: 'BackoffLimitExceeded', status: 'True', type: 'Failed'}]},
      }),
    ).toEqual({reason: 'BackoffLimitExceeded', state: 'failed'})
    expect(
      readinessOf({
        ...obj('CustomResourceDefinition', 'c'),
        status: {conditions: [{status: 'False', type: 'Established'}]},
      }).state,
    ).toBe('pending')
    expect(
      readinessOf({
        ...obj('APIService', 'a'),
        status: {conditions: [{message: 'no endpoints', status: 'False', type: 'Available'}]},
      }),
    ).toEqual({reason: 'no endpoints', state: 'pending'})
    expect(readinessOf({...obj('PersistentVolumeClaim', 'p'), status: {phase: 'Bound'}}).state).toBe('ready')
    expect(readinessOf(obj('ConfigMap', 'c')).state).toBe('ready')
  })

  it('follows kstatus on any kind: observed generation, Stalled, Reconciling, Ready', () => {
    const custom = (status: Record<string, unknown>, generation = 1): KubeObject => ({
      apiVersion: 'example.io/v1',
      kind: 'Widget',
      metadata: {generation, name: 'w', namespace: 'x'},
      status,
    })
    expect(readinessOf(custom({observedGeneration: 1}, 2)).state).toBe('pending')
    expect(readinessOf(custom({conditions: [{message: 'bad spec', status: 'True', type: 'Stalled'}]}))).toEqual({
      reason: 'bad spec',
      state: 'failed',
    })
    expect(readinessOf(custom({conditions: [{reason: 'Progressing', status: 'True', type: 'Reconciling'}]}))).toEqual({
      reason: 'Progressing',
      state: 'pending',
    })
    expect(readinessOf(custom({conditions: [{message: 'issuing', status: 'False', type: 'Ready'}]}))).toEqual({
      reason: 'issuing',
      state: 'pending',
    })
    expect(readinessOf(custom({conditions: [{status: 'True', type: 'Ready'}], observedGeneration: 1})).state).toBe(
      'ready',
    )
    // No status at all: nothing says it is not done (kstatus's Current).
    expect(readinessOf(custom({})).state).toBe('ready')
  })

  it('waits for a StatefulSet revision and a LoadBalancer address', () => {
    const sts = {
      ...obj('StatefulSet', 's'),
      metadata: {generation: 1, name: 's'},
      spec: {replicas: 1},
      status: {
        currentRevision: 's-1',
        observedGeneration: 1,
        readyReplicas: 1,
        updateRevision: 's-2',
        updatedReplicas: 1,
      },
    }
    expect(readinessOf(sts)).toEqual({reason: 'rolling out revision s-2', state: 'pending'})
    expect(readinessOf({...sts, status: {...sts.status, currentRevision: 's-2'}}).state).toBe('ready')
    const lb = {...obj('Service', 'web'), spec: {type: 'LoadBalancer'}, status: {loadBalancer: {}}}
    expect(readinessOf(lb).state).toBe('pending')
    expect(readinessOf({...lb, status: {loadBalancer: {ingress: [{ip: '10.0.0.5'}]}}}).state).toBe('ready')
    expect(readinessOf({...obj('Service', 'web'), spec: {type: 'ClusterIP'}}).state).toBe('ready')
  })

  it("names a pending workload's pods and why they wait", async () => {
    const client = new FakeKubeClient()
    await applyObjects(client, [obj('Deployment', 'web', {spec: {replicas: 1}})], {timeoutMs: 1000})
    const pod = (name: string, status: Record<string, unknown>): KubeObject => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {name, namespace: 'x'},
      spec: {containers: [{image: 'web:1', name: 'web'}]},
      status,
    })
    await applyObjects(
      client,
      [
        pod('web-5d8f-abcde', {
          containerStatuses: [{state: {waiting: {message: 'pull access denied', reason: 'ImagePullBackOff'}}}],
        }),
        pod('web-5d8f-fghij', {
          conditions: [
            {message: '0/3 nodes are available', reason: 'Unschedulable', status: 'False', type: 'PodScheduled'},
          ],
        }),
        pod('other-1', {containerStatuses: [{state: {waiting: {reason: 'CrashLoopBackOff'}}}]}),
      ],
      {timeoutMs: 1000},
    )
    const error = (await waitReady(client, [{apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace: 'x'}], {
      timeoutMs: 50,
    }).catch((e: unknown) => e)) as NotReadyError
    expect(error.pending[0].pods).toBe(
      'web-5d8f-abcde: ImagePullBackOff (pull access denied); web-5d8f-fghij: Unschedulable (0/3 nodes are available)',
    )
    expect(error.message).toContain('; pods: web-5d8f-abcde: ImagePullBackOff (pull access denied)')
  })

  it('replaces a StorageClass whose immutable field changes, never a claim', async () => {
    const client = new FakeKubeClient()
    const apply = client.apply.bind(client)
    // The real server's rule: reclaimPolicy and a claim's storageClassName cannot change in place.
    client.apply = async (object, options) => {
      const existing = [...client.objects.values()].find(
        (o) => o.kind === object.kind && o.metadata.name === object.metadata.name,
      )
      const field = object.kind === 'StorageClass' ? 'reclaimPolicy' : 'storageClassName'
      const value = (o: KubeObject) =>
        object.kind === 'StorageClass' ? o[field] : (o.spec as Record<string, unknown>)?.[field]
      if (existing && value(existing) !== value(object))
        throw new KubeError(
          `${object.kind} "${object.metadata.name}" is invalid: ${field}: Forbidden: updates to ${field} are forbidden.`,
          422,
        )
      return apply(object, options)
    }

    const storageClass = (reclaimPolicy: string): KubeObject => ({
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: {name: 'fast'},
      provisioner: 'x',
      reclaimPolicy,
    })
    const replaced: string[] = []
    await applyObjects(client, [storageClass('Delete')], {timeoutMs: 1000})
    await applyObjects(client, [storageClass('Retain')], {
      progress: {replaced: (ref) => replaced.push(ref.name)},
      timeoutMs: 1000,
    })
    expect(replaced).toEqual(['fast'])
    expect([...client.objects.values()].find((o) => o.kind === 'StorageClass')?.reclaimPolicy).toBe('Retain')

    const claim = (storageClassName: string) => obj('PersistentVolumeClaim', 'data', {spec: {storageClassName}})
    await applyObjects(client, [claim('a')], {timeoutMs: 1000})
    await expect(applyObjects(client, [claim('b')], {timeoutMs: 1000})).rejects.toThrow(
      'updates to storageClassName are forbidden',
    )
  })

  it('names every pending object with its conditions when the timeout passes', async () => {
    const client = new FakeKubeClient()
    await applyObjects(client, [obj('Deployment', 'stuck', {spec: {replicas: 1}})], {timeoutMs: 1000})
    const error = (await waitReady(
      client,
      [obj('Deployment', 'stuck')].map((o) => ({
        apiVersion: o.apiVersion,
        kind: o.kind,
        name: o.metadata.name,
        namespace: 'x',
      })),
      {timeoutMs: 50},
    ).catch((e: unknown) => e)) as NotReadyError
    expect(error).toBeInstanceOf(NotReadyError)
    expect(error.message).toBe(
      'Timed out after 0s waiting for 1 object:\n  Deployment x/stuck: waiting for the controller to observe the new generation',
    )
    expect(error.pending[0].state).toBe('pending')
  })
})

describe('ApplySet record', () => {
  it('computes the KEP-3659 id and round-trips the record', () => {
    expect(applySetId('mk8s.core.dns')).toMatch(/^applyset-[A-Za-z0-9_-]{43}-v1$/)
    expect(applySetId('mk8s.core.dns')).not.toBe(applySetId('mk8s.core.dnsx'))
    const record = {
      addon: 'dns',
      images: {coredns: 'c:1'},
      nodeArgs: [
        {
          address: '127.0.0.2:25000',
          applied: true,
          node: 'node-1',
          previous: {'--cluster-dns': null, '--cluster-domain': 'old.local'},
          removed: [],
          restart: true,
          service: 'kubelet',
          set: {'--cluster-dns': '10.152.183.10', '--cluster-domain': 'cluster.local'},
        },
      ],
      objects: [
        {apiVersion: 'v1', kind: 'Service', name: 's', namespace: 'kube-system'},
        {apiVersion: 'apps/v1', kind: 'Deployment', name: 'd', namespace: 'other'},
      ],
      options: {a: 1},
      repository: 'core',
      state: 'enabled' as const,
      updatedAt: 'now',
      version: '1',
    }
    const object = recordObject(record)
    expect(object.metadata.annotations).toEqual({
      'applyset.kubernetes.io/additional-namespaces': 'other',
      'applyset.kubernetes.io/contains-group-kinds': 'Deployment.apps,Service',
      'applyset.kubernetes.io/tooling': 'mk8s/v1',
    })
    expect(parseRecord(object)).toEqual({...record, overrides: {}})
  })
})

describe('ClusterLock', () => {
  it('lets one holder in, refuses another with the holder named, and takes over an expired lease', async () => {
    const client = new FakeKubeClient()
    const first = new ClusterLock(client)
    await first.acquire(100)
    const second = new ClusterLock(client)
    await expect(second.acquire(0)).rejects.toThrow(`held by ${first.holder}`)
    // The first holder dies without releasing: its lease stops being renewed and expires.
    const lease = [...client.objects.values()].find((o) => o.kind === 'Lease')!
    ;(lease.spec as {renewTime: string}).renewTime = new Date(Date.now() - 60_000).toISOString()
    await second.acquire(0)
    expect(
      ([...client.objects.values()].find((o) => o.kind === 'Lease')!.spec as {holderIdentity: string}).holderIdentity,
    ).toBe(second.holder)
    await second.release()
    expect([...client.objects.values()].some((o) => o.kind === 'Lease')).toBe(false)
  })
})

describe('waits that watch', () => {
  const available = {
    availableReplicas: 1,
    conditions: [{status: 'True', type: 'Available'}],
    observedGeneration: 1,
    readyReplicas: 1,
    replicas: 1,
    updatedReplicas: 1,
  }
  const refs = (names: string[]) => names.map((name) => refOf(obj('Deployment', name)))

  async function rollout(client: FakeKubeClient, names: string[], readyAfterMs: number[]) {
    await applyObjects(
      client,
      names.map((name) => obj('Deployment', name, {spec: {replicas: 1}})),
      {timeoutMs: 1000},
    )
    names.forEach((name, i) =>
      setTimeout(() => {
        client.objects.get(`apps/v1|Deployment|x|${name}`)!.status = available
      }, readyAfterMs[i]),
    )
  }

  it('returns as soon as the last object is ready, with one LIST and one WATCH per kind', async () => {
    const client = new FakeKubeClient()
    await rollout(client, ['a', 'b', 'c'], [50, 120, 300])
    const gets = client.requestCounts.GET ?? 0
    const start = Date.now()
    await waitReady(client, refs(['a', 'b', 'c']), {timeoutMs: 5000})
    const took = Date.now() - start
    // The last object is ready at 300 ms; a 500 ms poll would return at 500 ms at best.
    expect(took).toBeGreaterThanOrEqual(295)
    expect(took).toBeLessThan(420)
    expect((client.requestCounts.GET ?? 0) - gets).toBe(1)
    expect(client.requestCounts.WATCH).toBe(1)
  })

  it('falls back to listing when watches keep ending, and still sees the rollout', async () => {
    const client = new FakeKubeClient()
    client.watchesEnd = true
    await rollout(client, ['a'], [100])
    await waitReady(client, refs(['a']), {timeoutMs: 5000})
    expect(client.requestCounts.GET ?? 0).toBeGreaterThan(1)
  })

  it('asks for one custom resource of each CRD before deleting anything, so the server has their cache filled', async () => {
    const client = new FakeKubeClient()
    const crd = obj('CustomResourceDefinition', 'widgets.example.com', {
      spec: {
        group: 'example.com',
        names: {kind: 'Widget'},
        versions: [{name: 'v1alpha1', served: false}, {name: 'v1'}],
      },
    })
    await applyObjects(client, [crd], {timeoutMs: 1000})
    const calls: string[] = []
    const list = client.list.bind(client)
    client.list = async (apiVersion, kind, options) => {
      calls.push(`list ${apiVersion} ${kind} limit=${options?.limit}`)
      return list(apiVersion, kind, options)
    }
    const remove = client.delete.bind(client)
    client.delete = async (ref, options) => {
      calls.push(`delete ${ref.kind}`)
      return remove(ref, options)
    }

    const gone = obj('CustomResourceDefinition', 'gone.example.com')
    await deleteObjects(client, [refOf(crd), refOf(gone)], {timeoutMs: 1000})
    expect(calls.slice(0, 2)).toEqual(['list example.com/v1 Widget limit=1', 'delete CustomResourceDefinition'])
    expect(client.objects.size).toBe(0)
  })

  it('waits for deletion by watching, narrowed by the label selector', async () => {
    const client = new FakeKubeClient()
    const labelled = (name: string) =>
      obj('ConfigMap', name, {metadata: {labels: {set: 'one'}, name, namespace: 'x'}} as Partial<KubeObject>)
    await applyObjects(client, [labelled('a'), labelled('b')], {timeoutMs: 1000})
    // A finalizer-like delay: the object goes 150 ms after the delete request.
    const original = client.delete.bind(client)
    client.delete = async (ref, options) => {
      setTimeout(() => void original(ref, options), 150)
      return true
    }

    const start = Date.now()
    const lists: (string | undefined)[] = []
    const list = client.listVersioned.bind(client)
    client.listVersioned = async (apiVersion, kind, options) => {
      lists.push(options?.labelSelector)
      return list(apiVersion, kind, options)
    }

    await deleteObjects(client, [labelled('a'), labelled('b')].map(refOf), {labelSelector: 'set=one', timeoutMs: 5000})
    expect(Date.now() - start).toBeLessThan(400)
    expect(client.objects.size).toBe(0)
    expect(lists).toEqual(['set=one'])
  })
})
