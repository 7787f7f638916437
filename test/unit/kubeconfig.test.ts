import {join} from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'

import {loadCredentials} from '../../src/kube/kubeconfig.js'
import {tempDir, writeTree} from '../helpers/repos.js'

const config = (server = 'https://10.0.0.1:6443/') => `apiVersion: v1
kind: Config
clusters:
  - name: c1
    cluster: {server: "${server}", certificate-authority: ca.crt}
users:
  - name: u1
    user: {token: s3cret}
  - name: u2
    user: {client-certificate-data: ${Buffer.from('-----BEGIN CERT').toString('base64')}, client-key: key.pem}
contexts:
  - {name: one, context: {cluster: c1, user: u1}}
  - {name: two, context: {cluster: c1, user: u2}}
current-context: one
`

const saved = process.env.KUBECONFIG
afterEach(() => {
  process.env.KUBECONFIG = saved
})

describe('loadCredentials', () => {
  it('reads the current context, with paths relative to the kubeconfig file', async () => {
    const dir = writeTree(tempDir(), {'ca.crt': '-----BEGIN CA', config: config(), 'key.pem': '-----BEGIN KEY'})
    const one = await loadCredentials({kubeconfig: join(dir, 'config')})
    expect(one).toMatchObject({headers: {Authorization: 'Bearer s3cret'}, server: 'https://10.0.0.1:6443'})
    expect(one.ca?.toString()).toBe('-----BEGIN CA')
    const two = await loadCredentials({context: 'two', kubeconfig: join(dir, 'config')})
    expect([two.cert?.toString(), two.key?.toString()]).toEqual(['-----BEGIN CERT', '-----BEGIN KEY'])
  })

  it('merges $KUBECONFIG files, the first definition winning', async () => {
    const a = writeTree(tempDir(), {config: 'apiVersion: v1\nkind: Config\ncurrent-context: one\n'})
    const b = writeTree(tempDir(), {'ca.crt': '-----BEGIN CA', config: config('https://b:6443')})
    process.env.KUBECONFIG = `${join(a, 'config')}:${join(b, 'config')}`
    expect((await loadCredentials()).server).toBe('https://b:6443')
  })

  it('gives one clear line for each kind of bad kubeconfig', async () => {
    const dir = writeTree(tempDir(), {broken: 'a: [', config: config(), empty: 'apiVersion: v1\nkind: Config\n'})
    await expect(loadCredentials({kubeconfig: join(dir, 'missing')})).rejects.toThrow(
      `Invalid kubeconfig ${join(dir, 'missing')}: no such file`,
    )
    await expect(loadCredentials({kubeconfig: join(dir, 'broken')})).rejects.toThrow(/^Invalid kubeconfig .*broken: /)
    await expect(loadCredentials({kubeconfig: join(dir, 'empty')})).rejects.toThrow('has no current context')
    await expect(loadCredentials({context: 'three', kubeconfig: join(dir, 'config')})).rejects.toThrow(
      'Context "three" is not in kubeconfig',
    )
  })
})
