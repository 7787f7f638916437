import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'

import {tempDir} from '../helpers/repos.js'
import {apiserverArgsFile, clusterDir, editApiserverArgs, kubeconfig, kubectl} from './cluster.js'
import {mk8s} from './cli.js'

const noStack = (text: string) => expect(text).not.toMatch(/\n\s+at /)

describe('failures a user can act on', () => {
  it('reports a field-manager conflict with the object and the other manager; --force-conflicts takes over', async () => {
    expect((await mk8s(['enable', 'dns'])).code).toBe(0)
    kubectl(
      ['apply', '--server-side', '--force-conflicts', '--field-manager=someone-else', '-f', '-'],
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: coredns, namespace: kube-system}\ndata: {Corefile: "hand edited"}\n',
    )
    const refused = await mk8s(['enable', 'dns:9.9.9.9'])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain(
      'Conflict: cannot apply ConfigMap kube-system/coredns: conflict with "someone-else"',
    )
    expect(refused.stderr).toContain('.data.Corefile')
    expect(refused.stderr).toContain('Use --force-conflicts to take these fields over')
    noStack(refused.stderr)

    const forced = await mk8s(['enable', 'dns:9.9.9.9', '--force-conflicts'])
    expect(forced.code).toBe(0)
    expect(kubectl(['get', 'configmap', 'coredns', '-n', 'kube-system', '-o', 'jsonpath={.data.Corefile}'])).toContain(
      'forward . 9.9.9.9',
    )
    expect((await mk8s(['disable', 'dns'])).code).toBe(0)
  })

  it('says in one line when the API server cannot be reached', async () => {
    const broken = join(tempDir(), 'kubeconfig')
    writeFileSync(broken, readFileSync(kubeconfig, 'utf8').replace(':16443', ':1'))
    for (const args of [['status'], ['enable', 'dns'], ['disable', 'dns']]) {
      const {code, stderr, stdout} = await mk8s([...args, '--kubeconfig', broken])
      expect(code).toBe(1)
      expect(`${stdout}${stderr}`).toContain(
        'Cannot reach the Kubernetes API server at https://127.0.0.1:1 (connection refused)',
      )
      noStack(stderr)
    }
  })

  it('says in one line when RBAC denies the user', async () => {
    const original = readFileSync(apiserverArgsFile, 'utf8')
    try {
      await editApiserverArgs((text) =>
        text.replace('--authorization-mode=AlwaysAllow', '--authorization-mode=RBAC,Node'),
      )
      kubectl(['create', 'serviceaccount', 'viewer', '-n', 'default'])
      const token = kubectl(['create', 'token', 'viewer', '-n', 'default']).trim()
      const ca = join(clusterDir, 'nodes', 'node-1', 'certs', 'ca.crt')
      const limited = join(tempDir(), 'kubeconfig')
      writeFileSync(
        limited,
        `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:16443", certificate-authority: "${ca}"}}]\nusers: [{name: viewer, user: {token: "${token}"}}]\ncontexts: [{name: v, context: {cluster: c, user: viewer}}]\ncurrent-context: v\n`,
      )
      const status = await mk8s(['status', '--kubeconfig', limited])
      expect(status.code).toBe(1)
      expect(status.stderr.trim()).toBe(
        'Forbidden: cannot list ConfigMap: configmaps is forbidden: User "system:serviceaccount:default:viewer" cannot list resource "configmaps" in API group "" in the namespace "kube-system"',
      )
      const enable = await mk8s(['enable', 'dns', '--kubeconfig', limited])
      expect(enable.code).toBe(1)
      expect(enable.stderr).toMatch(
        /^(Infer repository core for addon dns\n)?Forbidden: cannot read ConfigMap kube-system\/mk8s.core.dns: configmaps "mk8s.core.dns" is forbidden: User "system:serviceaccount:default:viewer"/,
      )
      noStack(enable.stderr)
    } finally {
      await editApiserverArgs(() => original)
      kubectl(['delete', 'serviceaccount', 'viewer', '-n', 'default', '--ignore-not-found'])
    }
  })
})
