import {join} from 'node:path'
import {describe, expect, it} from 'vitest'

import {runMk8s} from '../helpers/cli.js'
import {declarativeRepoFiles, gitRepo, repoRoot, tempDir, microk8sHookRepo} from '../helpers/repos.js'

const mk8s = runMk8s

describe('mk8s CLI', () => {
  it('renders dns with the upstream nameserver given as dns:1.1.1.1', async () => {
    const {code, stderr, stdout} = await mk8s(['render', 'dns:1.1.1.1', '--kube-version', '1.34.0'])
    expect(code).toBe(0)
    expect(stderr).toBe('Infer repository core for addon dns\n')
    expect(stdout).toContain('        forward . 1.1.1.1\n')
    expect(stdout).toMatch(/kind: Service\nmetadata:\n {2}name: kube-dns[\s\S]*clusterIP: 10.152.183.10/)
  })

  it("passes flags written after the addon to it, as MicroK8s does, keeping mk8s's own wherever they are", async () => {
    const {code, stdout} = await mk8s([
      'render',
      'storage',
      '--reclaim-policy',
      'Retain',
      '--json',
      '--default-class=false',
    ])
    expect(code).toBe(0)
    const {result} = JSON.parse(stdout) as {result: {objects: {object: Record<string, unknown>}[]}}
    const storageClass = result.objects.find(({object}) => object.kind === 'StorageClass')!.object
    expect(storageClass.reclaimPolicy).toBe('Retain')
    expect(storageClass.metadata).toMatchObject({annotations: {'storageclass.kubernetes.io/is-default-class': 'false'}})
    const before = await mk8s(['render', '--reclaim-policy', 'Retain', 'storage'])
    expect(before.code).toBe(2)
    expect(before.stderr).toContain('Nonexistent flag: --reclaim-policy')
    const unknown = await mk8s(['render', 'storage', '--no-such-option'])
    expect(unknown.stderr).toContain('core/hostpath-storage has no option "no-such-option"')
  })

  it('exits 1 with the MicroK8s message for an unknown addon, without a stack trace', async () => {
    const {code, stderr, stdout} = await mk8s(['render', 'nosuchaddon'])
    expect(code).toBe(1)
    expect(stdout).toBe('')
    expect(stderr).toBe('Addon nosuchaddon was not found in any repository\n')
  })

  it('exits 1 on a bad option value with one clear message', async () => {
    const {code, stderr} = await mk8s(['render', 'dns', '--set', 'serviceIp=1.2.3'])
    expect(code).toBe(1)
    expect(stderr).toContain('service-ip: "1.2.3" is not a valid IP address (from --set serviceIp=1.2.3)')
    expect(stderr).not.toMatch(/\n\s+at /)
  })

  it('lints the bundled core repository', async () => {
    const {code, stdout} = await mk8s(['addons', 'lint', join(repoRoot, 'addons/core')])
    expect(code).toBe(0)
    expect(stdout).toContain('ok  core/dns (declarative, 6 objects)')
  })

  it('scaffolds an addon that passes lint', async () => {
    const repo = tempDir('mk8s-new-')
    expect((await mk8s(['addons', 'new', 'hello', '--repo', repo])).code).toBe(0)
    const lint = await mk8s(['addons', 'lint', repo])
    expect(lint.stdout).toContain('(declarative, 2 objects)')
    expect(lint.code).toBe(0)
    expect((await mk8s(['addons', 'new', 'hello', '--repo', repo])).stderr).toContain('already exists')
  })

  it('lint fails with every problem listed', async () => {
    const files = declarativeRepoFiles()
    files['addons/demo/addon.yaml'] = files['addons/demo/addon.yaml'].replace('type: integer', 'type: float')
    const repo = gitRepo(files)
    const {code, stderr} = await mk8s(['addons', 'lint', repo])
    expect(code).toBe(1)
    expect(stderr).toMatch(/1 problem in .*:\n {2}.*addons\/demo\/addon.yaml:6: options.replicas.type: must be one of/)
  })

  it('adds, lists and removes a repository, and lists its addons', async () => {
    const home = tempDir('mk8s-home-')
    const env = {MK8S_HOME: home}
    const {dir, names} = microk8sHookRepo('core-addons.yaml')
    expect((await mk8s(['addons', 'repo', 'add', 'upstream', dir], env)).code).toBe(0)
    const list = JSON.parse((await mk8s(['addons', 'repo', 'list', '--format', 'json'], env)).stdout)
    expect(list.find((r: {name: string}) => r.name === 'upstream').addons).toBe(names.amd64.length)
    const addons = await mk8s(['addons', 'list', '--repo', 'upstream', '--format', 'json'], env)
    const listed = JSON.parse(addons.stdout) as {kind: string; name: string}[]
    expect(listed.map((a) => a.name).sort()).toEqual([...names.amd64].sort())
    expect(new Set(listed.map((a) => a.kind))).toEqual(new Set(['hook']))
    // dns is now in core and upstream: a bare name is ambiguous, as in MicroK8s.
    const ambiguous = await mk8s(['render', 'dns'], env)
    expect(ambiguous.code).toBe(1)
    expect(ambiguous.stderr).toContain('    core/dns\n    upstream/dns\n')
    expect((await mk8s(['render', 'upstream/dns'], env)).stderr).toContain('is a MicroK8s hook addon')
    expect((await mk8s(['addons', 'repo', 'remove', 'upstream'], env)).code).toBe(0)
    expect((await mk8s(['addons', 'repo', 'remove', 'core'], env)).stderr).toBe(
      "Error: built-in repository 'core' cannot be removed\n",
    )
  })

  it('answers `enable dns -- --help` with the addon help and enables nothing (no cluster needed)', async () => {
    const {code, stdout} = await mk8s(['enable', 'dns', '--', '--help'], {KUBECONFIG: '/nonexistent'})
    expect(code).toBe(0)
    expect(stdout).toContain('core/dns 1.14.3: CoreDNS')
    expect(stdout).toContain('Usage: dns:<nameservers>:<service-ip>:<cluster-domain>')
    expect(stdout).toContain('--service-ip <ip>  cluster IP of the kube-dns Service. Default: the tenth address')
    expect(stdout).toContain('--cluster-domain <dnsName>  cluster domain served by CoreDNS (default: cluster.local)')
  })

  it('gives MicroK8s usage errors: no addon is exit 2', async () => {
    const {code, stderr} = await mk8s(['enable'])
    expect(code).toBe(2)
    expect(stderr).toContain('Missing 1 required arg')
  })

  it('prints the plan of --dry-run client without a cluster', async () => {
    const {code, stdout} = await mk8s(['enable', 'dns:1.1.1.1', '--dry-run', 'client'], {KUBECONFIG: '/nonexistent'})
    expect(code).toBe(0)
    expect(stdout).toContain('applyset.kubernetes.io/part-of: applyset-')
    expect(stdout).toContain('Would apply 6 objects for core/dns')
  })

  it('prints a usage error with exit 2 for an unknown format', async () => {
    const {code, stderr} = await mk8s(['addons', 'list', '--format', 'xml'])
    expect(code).toBe(2)
    expect(stderr).toContain('Expected --format=xml to be one of: table, json, yaml')
  })
})
