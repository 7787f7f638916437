import {describe, expect, it} from 'vitest'

import {apiserverArgsFile, editApiserverArgs, eventually, kubectl, kubectlJson} from './cluster.js'
import {readFileSync} from 'node:fs'

describe('the test control plane', () => {
  it('runs three Ready kwok nodes with InternalIPs on loopback and no taints', () => {
    const nodes = kubectlJson<{
      items: {
        metadata: {name: string}
        spec: {taints?: unknown[]}
        status: {addresses: {address: string; type: string}[]; conditions: {status: string; type: string}[]}
      }[]
    }>(['get', 'nodes'])
    expect(
      nodes.items.map((n) => [n.metadata.name, n.status.addresses.find((a) => a.type === 'InternalIP')?.address]),
    ).toEqual([
      ['node-1', '127.0.0.2'],
      ['node-2', '127.0.0.3'],
      ['node-3', '127.0.0.4'],
    ])
    for (const node of nodes.items) {
      expect(node.spec.taints ?? []).toEqual([])
      expect(node.status.conditions.find((c) => c.type === 'Ready')?.status).toBe('True')
    }
  })

  it('rolls a Deployment out to Available on kwok nodes', async () => {
    kubectl(['create', 'namespace', 'harness-deploy'])
    kubectl([
      '-n',
      'harness-deploy',
      'create',
      'deployment',
      'web',
      '--image=registry.k8s.io/pause:3.10',
      '--replicas=3',
    ])
    kubectl(['-n', 'harness-deploy', 'wait', '--for=condition=Available', 'deployment/web', '--timeout=60s'])
    const pods = kubectlJson<{items: {spec: {nodeName: string}; status: {phase: string}}[]}>([
      '-n',
      'harness-deploy',
      'get',
      'pods',
    ])
    expect(pods.items).toHaveLength(3)
    expect(pods.items.every((p) => p.status.phase === 'Running' && p.spec.nodeName.startsWith('node-'))).toBe(true)
    kubectl(['delete', 'namespace', 'harness-deploy', '--wait=false'])
  })

  it('establishes a CRD and stores a custom resource of it', async () => {
    const crd = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.harness.mk8s.io}
spec:
  group: harness.mk8s.io
  names: {kind: Widget, plural: widgets, singular: widget}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec: {type: object, x-kubernetes-preserve-unknown-fields: true}
`
    kubectl(['apply', '-f', '-'], crd)
    kubectl(['wait', '--for=condition=Established', 'crd/widgets.harness.mk8s.io', '--timeout=30s'])
    await eventually(() =>
      kubectl(
        ['apply', '-f', '-'],
        'apiVersion: harness.mk8s.io/v1\nkind: Widget\nmetadata: {name: w1, namespace: default}\nspec: {size: 3, colour: blue}\n',
      ),
    )
    const widget = kubectlJson<{spec: {colour: string; size: number}}>(['get', 'widget', 'w1', '-n', 'default'])
    expect(widget.spec).toEqual({colour: 'blue', size: 3})
    kubectl(['delete', 'crd', 'widgets.harness.mk8s.io'])
  })

  it('restarts the API server from its args file: AlwaysAllow to RBAC,Node makes can-i answer no', async () => {
    const original = readFileSync(apiserverArgsFile, 'utf8')
    const canI = () => {
      try {
        return kubectl(['auth', 'can-i', 'list', 'pods', '--as=system:serviceaccount:default:default']).trim()
      } catch (error) {
        return String((error as {stdout?: string}).stdout ?? '').trim()
      }
    }

    expect(canI()).toBe('yes')
    try {
      await editApiserverArgs((text) =>
        text.replace('--authorization-mode=AlwaysAllow', '--authorization-mode=RBAC,Node'),
      )
      expect(canI()).toBe('no')
    } finally {
      await editApiserverArgs(() => original)
    }

    expect(canI()).toBe('yes')
  })
})
