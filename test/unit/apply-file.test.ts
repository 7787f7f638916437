import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'

import {loadDesiredState} from '../../src/apply/desired-state.js'
import {UserError, ValidationError} from '../../src/errors.js'
import {tempDir} from '../helpers/repos.js'

function write(files: Record<string, string>): string {
  const dir = tempDir('mk8s-apply-file-')
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), {recursive: true})
    writeFileSync(join(dir, name), text)
  }

  return dir
}

async function problemsOf(inputs: string[]): Promise<string[]> {
  const error = await loadDesiredState(inputs).then(
    () => undefined,
    (error: unknown) => error,
  )
  expect(error).toBeInstanceOf(ValidationError)
  expect((error as ValidationError).exitCode).toBe(2)
  return (error as ValidationError).problems.map(
    (p) => `${p.file?.split('/').pop()}:${p.line} ${p.field}: ${p.message}`,
  )
}

describe('apply files', () => {
  it('reads an mk8s file: repositories, addons, mirrors and node flags exactly as written', async () => {
    const dir = write({
      'cluster.yaml': `# yaml-language-server: $schema=cluster-addons.schema.json
apiVersion: mk8s.io/v1
kind: ClusterAddons
repositories:
  - {name: extras, source: https://example.com/addons.git, reference: 1.10}
addons:
  - name: dns
    options: {nameservers: [1.1.1.1]}
  - name: extras/web
    images: {app: mirror.local/web:1.0}
  - {name: rbac, disabled: true}
  - {name: extras/hooked, args: [--port, 1.10]}
registryMirrors: {docker.io: mirror.local:5000}
nodeArgs:
  kubelet:
    --max-pods: 200
    --image-gc-high-threshold: 1.10
    --fail-swap-on: false
    --event-qps: null
`,
    })
    const [part] = await loadDesiredState([join(dir, 'cluster.yaml')])
    expect(part.format).toBe('mk8s')
    expect(part.at.line).toBe(2)
    expect(part.repositories).toEqual([
      expect.objectContaining({name: 'extras', reference: '1.10', source: 'https://example.com/addons.git'}),
    ])
    expect(part.addons.map((a) => [a.name, a.disabled, a.options, a.images, a.args, a.at.line])).toEqual([
      ['dns', false, {nameservers: ['1.1.1.1']}, undefined, [], 7],
      ['extras/web', false, undefined, {app: 'mirror.local/web:1.0'}, [], 9],
      ['rbac', true, undefined, undefined, [], 11],
      // A hook addon's arguments, as written: 1.10 stays 1.10.
      ['extras/hooked', false, undefined, undefined, ['--port', '1.10'], 12],
    ])
    expect(part.registryMirrors).toEqual({'docker.io': 'mirror.local:5000'})
    // Values as written: 1.10 stays 1.10, not the number 1.1.
    expect(part.nodeArgs).toEqual([
      {
        at: expect.objectContaining({line: 16}) as unknown,
        remove: ['--event-qps'],
        service: 'kubelet',
        update: {'--fail-swap-on': 'false', '--image-gc-high-threshold': '1.10', '--max-pods': '200'},
      },
    ])
  })

  it('reads a multi-document launch configuration: each part in order, local-only and unknown fields named', async () => {
    const dir = write({
      'launch.yaml': `# header comment, an empty document
---
version: 0.1.0
persistentClusterToken: abc
extraSANs: [10.0.0.1]
extraContainerdEnv: {http_proxy: http://proxy:3128}
extraKubeletArgs:
  --cluster-dns: 10.152.183.10
  --max-pods: null
extraKubeAPIServerArgs: {--event-ttl: 90m}
addons:
  - name: metallb
    args: [10.64.140.43-10.64.140.49, 1.10]
addonRepositories:
  - {name: extra, url: /srv/addons, reference: v1.0}
futureField: {a: 1}
---
version: 0.2.0
addons:
  - {name: dns, disable: true}
`,
    })
    const parts = await loadDesiredState([join(dir, 'launch.yaml')])
    expect(parts).toHaveLength(2)
    const [first, second] = parts
    expect(first.format).toBe('launch-configuration')
    expect(first.nodeArgs.map((s) => [s.service, s.update, s.remove])).toEqual([
      ['kubelet', {'--cluster-dns': '10.152.183.10'}, ['--max-pods']],
      ['kube-apiserver', {'--event-ttl': '90m'}, []],
    ])
    expect(first.addons.map((a) => [a.name, a.args, a.disabled])).toEqual([
      ['metallb', ['10.64.140.43-10.64.140.49', '1.10'], false],
    ])
    expect(first.repositories).toEqual([
      expect.objectContaining({name: 'extra', reference: 'v1.0', source: '/srv/addons'}),
    ])
    expect(first.notApplied.map((f) => `${f.field}@${f.at.line}`)).toEqual([
      'persistentClusterToken@4',
      'extraSANs@5',
      'extraContainerdEnv@6',
    ])
    expect(first.unknown.map((f) => `${f.field}@${f.at.line}`)).toEqual(['futureField@16'])
    expect(second.addons.map((a) => [a.name, a.disabled])).toEqual([['dns', true]])
  })

  it('accepts launch-configuration versions 0.1.0 to 0.2.0 only, and refuses one that is not semantic', async () => {
    const dir = write(
      Object.fromEntries(
        ['0.1.0', '0.2.0', '0.3.0', '0.0.9', '"1"', '0.1'].map((version, i) => [`${i}.yaml`, `version: ${version}\n`]),
      ),
    )
    expect(await loadDesiredState([join(dir, '0.yaml'), join(dir, '1.yaml')])).toHaveLength(2)
    expect(
      await problemsOf([join(dir, '2.yaml'), join(dir, '3.yaml'), join(dir, '4.yaml'), join(dir, '5.yaml')]),
    ).toEqual([
      '2.yaml:1 version: 0.3.0 is not supported: launch configurations from 0.1.0 to 0.2.0 are',
      '3.yaml:1 version: 0.0.9 is not supported: launch configurations from 0.1.0 to 0.2.0 are',
      '4.yaml:1 version: "1" is not a semantic version (for example 0.1.0)',
      '5.yaml:1 version: "0.1" is not a semantic version (for example 0.1.0)',
    ])
  })

  it('reports every problem of every file at once, with its line', async () => {
    const dir = write({
      'a.yaml': `apiVersion: mk8s.io/v1
kind: ClusterAddons
addons:
  - name: Bad_Name
  - name: dns
    colour: blue
  - name: dns
nodeArgs:
  kubelet: {max-pods: 1}
`,
      'b.yaml': 'version: 0.1.0\naddons: {name: dns}\n',
      'c.yaml': 'just: [a, list\n',
      'd.yaml': 'kind: Deployment\napiVersion: apps/v1\n',
      'e.yaml': 'name: dns\n',
    })
    expect(await problemsOf([dir])).toEqual([
      'a.yaml:4 addons[0].name: must match pattern "^([a-z0-9]([-a-z0-9]*[a-z0-9])?/)?[a-z0-9]([-a-z0-9]*[a-z0-9])?$"',
      'a.yaml:6 addons[1].colour: is not a known field',
      'a.yaml:9 nodeArgs.kubelet.max-pods: is not a valid name (must match ^--?[A-Za-z0-9][-A-Za-z0-9_.]*$)',
      'b.yaml:2 addons: must be array',
      expect.stringMatching(/^c\.yaml:2 undefined: /),
      'd.yaml:2 apiVersion: must be "mk8s.io/v1"',
      'd.yaml:1 kind: must be "ClusterAddons"',
      'e.yaml:1 (root): neither an mk8s file (apiVersion: mk8s.io/v1, kind: ClusterAddons) nor a MicroK8s launch configuration (version: 0.1.0)',
    ])
  })

  it('names an addon listed twice', async () => {
    const dir = write({
      'twice.yaml': 'apiVersion: mk8s.io/v1\nkind: ClusterAddons\naddons:\n  - name: dns\n  - name: dns\n',
    })
    expect(await problemsOf([join(dir, 'twice.yaml')])).toEqual([
      'twice.yaml:5 addons[1].name: addon dns is listed twice',
    ])
  })

  it('reads a folder in name order, YAML files only, and refuses an empty input', async () => {
    const dir = write({
      'b.yaml': 'version: 0.1.0\naddons: [{name: rbac}]\n',
      'a.yml': 'version: 0.1.0\naddons: [{name: dns}]\n',
      'notes.txt': 'not yaml',
    })
    const parts = await loadDesiredState([dir])
    expect(parts.map((p) => p.addons[0].name)).toEqual(['dns', 'rbac'])
    const empty = write({'empty.yaml': '# nothing\n'})
    await expect(loadDesiredState([join(empty, 'empty.yaml')])).rejects.toThrow(/nothing to apply/)
    await expect(loadDesiredState([join(empty, 'missing.yaml')])).rejects.toThrow(UserError)
  })

  it('reads standard input for -, and refuses more than 1 MiB', async () => {
    const parts = await loadDesiredState(['-'], {readStdin: async () => 'version: 0.1.0\naddons: [{name: dns}]\n'})
    expect(parts[0].at.file).toBe('(stdin)')
    const dir = write({'big.yaml': `version: 0.1.0\n# ${'x'.repeat(1024 * 1024)}\n`})
    await expect(loadDesiredState([join(dir, 'big.yaml')])).rejects.toThrow(/larger than/)
  })
})
