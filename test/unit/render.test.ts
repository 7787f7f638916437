import {join} from 'node:path'
import {describe, expect, it} from 'vitest'

import {planAddon} from '../../src/addons/plan.js'
import {loadAddon, loadRepositoryIndex} from '../../src/addons/repository.js'
import {ValidationError} from '../../src/errors.js'
import type {DeclarativeAddon} from '../../src/models/addon.js'
import {registryOf, resolveImages} from '../../src/render/images.js'
import {declarativeRepoFiles, repoRoot, tempDir, writeTree} from '../helpers/repos.js'

const cluster = {arch: 'amd64', version: '1.34.0'}

async function demo(overrides: Record<string, string> = {}): Promise<DeclarativeAddon> {
  const dir = writeTree(tempDir(), declarativeRepoFiles(overrides))
  const index = await loadRepositoryIndex(dir, 'test')
  return (await loadAddon(index, index.entries[0])) as DeclarativeAddon
}

async function dns(): Promise<DeclarativeAddon> {
  const index = await loadRepositoryIndex(join(repoRoot, 'addons/core'), 'core')
  return (await loadAddon(
    index,
    index.entries.find((e) => e.name === 'dns')!,
  )) as DeclarativeAddon
}

const find = (objects: {object: {kind: string; metadata: {name: string}}}[], kind: string) =>
  objects.find((o) => o.object.kind === kind)!.object as never

describe('dns', () => {
  it('renders MicroK8s defaults: 8.8.8.8 8.8.4.4, 10.152.183.10, cluster.local', async () => {
    const plan = await planAddon(await dns(), {}, cluster)
    const configMap = find(plan.objects, 'ConfigMap') as {data: {Corefile: string}}
    expect(configMap.data.Corefile).toContain('forward . 8.8.8.8 8.8.4.4\n')
    expect(configMap.data.Corefile).toContain('kubernetes cluster.local in-addr.arpa ip6.arpa')
    expect((find(plan.objects, 'Service') as {spec: {clusterIP: string}}).spec.clusterIP).toBe('10.152.183.10')
    expect(plan.objects.map((o) => o.object.kind)).toEqual([
      'ServiceAccount',
      'ClusterRole',
      'ClusterRoleBinding',
      'ConfigMap',
      'Deployment',
      'Service',
    ])
  })

  it('takes nameservers, service IP and domain positionally', async () => {
    const plan = await planAddon(await dns(), {args: ['1.1.1.1,9.9.9.9', '10.152.183.20', 'cluster.test']}, cluster)
    const corefile = (find(plan.objects, 'ConfigMap') as {data: {Corefile: string}}).data.Corefile
    expect(corefile).toContain('forward . 1.1.1.1 9.9.9.9\n')
    expect(corefile).toContain('kubernetes cluster.test ')
    expect((find(plan.objects, 'Service') as {spec: {clusterIP: string}}).spec.clusterIP).toBe('10.152.183.20')
  })

  it('lets --set win over values files and arguments', async () => {
    const plan = await planAddon(
      await dns(),
      {
        args: ['1.1.1.1'],
        set: ['nameservers=4.4.4.4'],
        values: [{clusterDomain: 'from.file', nameservers: ['2.2.2.2']}],
      },
      cluster,
    )
    const corefile = (find(plan.objects, 'ConfigMap') as {data: {Corefile: string}}).data.Corefile
    expect(corefile).toContain('forward . 4.4.4.4\n')
    expect(corefile).toContain('kubernetes from.file ')
  })

  it('accepts --flag value and name=value forms', async () => {
    const plan = await planAddon(
      await dns(),
      {args: ['--cluster-domain', 'a.test', 'service-ip=10.152.183.53']},
      cluster,
    )
    expect(plan.options).toMatchObject({clusterDomain: 'a.test', serviceIp: '10.152.183.53'})
  })

  it('names the option, the bad value and where it came from', async () => {
    const error = (await planAddon(await dns(), {args: ['8.8.8.8', '10.0.0.300']}, cluster).catch(
      (e: unknown) => e,
    )) as ValidationError
    expect(error.message).toBe(
      'Invalid options for core/dns\n  service-ip: "10.0.0.300" is not a valid IP address (from argument 2 ("10.0.0.300"))',
    )
    await expect(planAddon(await dns(), {set: ['colour=blue']}, cluster)).rejects.toThrow(
      '--set colour=blue: core/dns has no option "colour" (options: nameservers, service-ip, cluster-domain)',
    )
  })

  it('applies image overrides and registry mirrors to the rendered Deployment', async () => {
    const mirrored = await planAddon(
      await dns(),
      {imageOverrides: {registryMirrors: {'docker.io': 'mirror.local:5000'}}},
      cluster,
    )
    expect(mirrored.images.coredns).toBe('mirror.local:5000/coredns/coredns:1.14.3')
    const overridden = await planAddon(await dns(), {imageOverrides: {images: {coredns: 'my.reg/coredns:9'}}}, cluster)
    const deployment = find(overridden.objects, 'Deployment') as {
      spec: {template: {spec: {containers: {image: string}[]}}}
    }
    expect(deployment.spec.template.spec.containers[0].image).toBe('my.reg/coredns:9')
  })

  it('checks the kubernetes range against the server version', async () => {
    await expect(planAddon(await dns(), {}, {arch: 'amd64', version: 'v1.22.5'})).rejects.toThrow(
      'Addon core/dns needs Kubernetes >=1.24.0; the cluster runs 1.22.5',
    )
  })
})

describe('rendering errors', () => {
  it('names the addon, template and line of an unknown variable (strict mode)', async () => {
    const template = declarativeRepoFiles()['addons/demo/deploy.yaml.hbs'].replace(
      '{{options.replicas}}',
      '{{options.replicaz}}',
    )
    const addon = await demo({'deploy.yaml.hbs': template})
    const error = (await planAddon(addon, {}, cluster).catch((e: unknown) => e)) as ValidationError
    expect(error).toBeInstanceOf(ValidationError)
    expect(error.message).toMatch(/^Cannot render test\/demo\n {2}.*deploy.yaml.hbs:7: "replicaz" not defined/)
  })

  it('refuses documents without apiVersion, kind or metadata.name', async () => {
    const addon = await demo({
      'extra.yaml.hbs':
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  namespace: x\n---\nkind: Secret\nmetadata: {name: s}\n',
    })
    const error = (await planAddon(addon, {}, cluster).catch((e: unknown) => e)) as ValidationError
    expect(error.problems.map((p) => [p.line, p.message])).toEqual([
      [1, 'document is missing metadata.name'],
      [6, 'document is missing apiVersion'],
    ])
  })

  it('refuses an image that has no key in images', async () => {
    const template = declarativeRepoFiles()['addons/demo/deploy.yaml.hbs'].replace(
      '{{images.main}}',
      'docker.io/library/nginx:1',
    )
    const error = (await planAddon(await demo({'deploy.yaml.hbs': template}), {}, cluster).catch(
      (e: unknown) => e,
    )) as ValidationError
    expect(error.problems[0].message).toBe(
      'image docker.io/library/nginx:1 of Deployment/demo has no key in addon.yaml images',
    )
  })

  it('provides the helper set and shared partials', async () => {
    const template = `apiVersion: v1
kind: ConfigMap
metadata:
  name: helpers
  labels:
    {{> labels}}
data:
  quoted: {{quote addon.name}}
  b64: {{b64enc "hi"}}
  fallback: {{default options.missing "dflt"}}
  joined: {{join (default options.list "") "+"}}
  newer: "{{#if (semver ">=1.30.0" cluster.version)}}yes{{else}}no{{/if}}"
  cmp: "{{#if (and (gt 3 2) (le 2 2) (ne 1 2) (lt "1.9" "1.10") (not false))}}ok{{/if}}"
  block: |
{{indent 4 (toYaml options)}}
`
    const addonYaml = declarativeRepoFiles()['addons/demo/addon.yaml'].replace(
      'images:',
      '  missing: {type: string, description: m}\n  list: {type: list, description: l, default: [a, b]}\nimages:',
    )
    const plan = await planAddon(await demo({'addon.yaml': addonYaml, 'z.yaml.hbs': template}), {}, cluster)
    const configMap = plan.objects.find((o) => o.object.metadata.name === 'helpers')!.object as unknown as {
      data: Record<string, string>
      metadata: {labels: Record<string, string>}
    }
    expect(configMap.metadata.labels['app.kubernetes.io/managed-by']).toBe('mk8s')
    expect(configMap.data).toEqual({
      b64: 'aGk=',
      block: 'replicas: 1\nmissing: null\nlist:\n  - a\n  - b\n',
      cmp: 'ok',
      fallback: 'dflt',
      joined: 'a+b',
      newer: 'yes',
      quoted: 'demo',
    })
  })
})

describe('images', () => {
  it('knows the registry of a reference', () => {
    expect(registryOf('coredns/coredns:1')).toEqual({path: 'coredns/coredns:1', registry: 'docker.io'})
    expect(registryOf('nginx')).toEqual({path: 'library/nginx', registry: 'docker.io'})
    expect(registryOf('registry.k8s.io/pause:3')).toEqual({path: 'pause:3', registry: 'registry.k8s.io'})
    expect(registryOf('localhost:5000/x')).toEqual({path: 'x', registry: 'localhost:5000'})
  })

  it('refuses an --image key the addon does not have', () => {
    expect(() => resolveImages('core/dns', {coredns: 'a'}, {images: {nope: 'b'}})).toThrow(
      'core/dns has no image key "nope" (keys: coredns)',
    )
  })
})

describe('ready targets', () => {
  it('must name rendered objects', async () => {
    const addonYaml = `${declarativeRepoFiles()['addons/demo/addon.yaml']}ready:\n  - {kind: Deployment, namespace: default, name: demo}\n  - {kind: Deployment, name: ghost}\n`
    const error = (await planAddon(await demo({'addon.yaml': addonYaml}), {}, cluster).catch(
      (e: unknown) => e,
    )) as ValidationError
    expect(error.problems).toEqual([
      {
        field: 'ready[1]',
        file: expect.stringMatching(/addons\/demo\/addon.yaml$/),
        message: 'no rendered Deployment ghost',
      },
    ])
  })
})
