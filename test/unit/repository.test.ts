import {chmodSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'

import {loadAddon, loadRepositoryIndex, repositoryProblems} from '../../src/addons/repository.js'
import {ValidationError} from '../../src/errors.js'
import {
  declarativeRepoFiles,
  fixtures,
  needsUpstreamFixtures,
  tempDir,
  upstreamFixtures,
  writeTree,
} from '../helpers/repos.js'

const ours = (name: string) => readFileSync(join(fixtures, name), 'utf8')
const upstream = (name: string) => readFileSync(join(upstreamFixtures, name), 'utf8')

async function problemsOf(files: Record<string, string>) {
  const dir = writeTree(tempDir(), files)
  return {dir, ...(await repositoryProblems(dir, 'repo'))}
}

describe('addons.yaml', () => {
  it('loads a MicroK8s-format addons.yaml with every field as written', async () => {
    const dir = writeTree(tempDir(), {'addons.yaml': ours('core-addons.yaml')})
    const index = await loadRepositoryIndex(dir, 'core')
    expect(index.entries.map((e) => e.name)).toEqual([
      'dns',
      'rbac',
      'ingress',
      'hostpath-storage',
      'storage',
      'gpu',
      'metrics-server',
      'host-access',
      'ha-cluster',
    ])
    expect(index.entries.find((e) => e.name === 'dns')).toMatchObject({checkStatus: 'pod/coredns', version: '1.12.0'})
    expect(index.entries.find((e) => e.name === 'rbac')?.version).toBe('')
    expect(index.entries.find((e) => e.name === 'host-access')).toMatchObject({
      checkStatus: '${SNAP_DATA}/var/lock/host-access-enabled',
      confinement: 'classic',
    })
    expect(index.entries.find((e) => e.name === 'ingress')?.architectures).toEqual(['arm64', 'amd64', 's390x'])
  })

  it.for(['core-addons.yaml', 'community-addons.yaml'])(
    'loads the real upstream %s unchanged (needs ../shared/fixtures/microk8s-upstream)',
    async (fixture, context) => {
      needsUpstreamFixtures(context)
      const text = upstream(fixture)
      const dir = writeTree(tempDir(), {'addons.yaml': text})
      const index = await loadRepositoryIndex(dir, 'up')
      // Every entry of the file, by name, in order: nothing dropped or renamed.
      const names = [...text.matchAll(/^ {4}- name: "([^"]+)"/gm)].map((m) => m[1])
      expect(names.length).toBeGreaterThan(10)
      expect(index.entries.map((e) => e.name)).toEqual(names)
      if (fixture === 'core-addons.yaml')
        expect(index.entries.find((e) => e.name === 'dns')?.checkStatus).toBe('pod/coredns')
    },
  )

  it('names the file, field and line of a missing check_status', async () => {
    const text = ours('core-addons.yaml').replace('      check_status: "pod/coredns"\n', '')
    const dir = writeTree(tempDir(), {'addons.yaml': text})
    const error = await loadRepositoryIndex(dir, 'up').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ValidationError)
    const [problem] = (error as ValidationError).problems
    expect(problem).toEqual({
      field: 'microk8s-addons.addons[0].check_status',
      file: join(dir, 'addons.yaml'),
      line: 4,
      message: 'is required',
    })
    expect((error as ValidationError).message).toMatch(
      /^Invalid addons.yaml file\n {2}.*addons.yaml:4: microk8s-addons.addons\[0\].check_status: is required$/,
    )
  })

  it('names the line of an unsupported architecture', async () => {
    const text = ours('core-addons.yaml').replace('        - s390x\n', '        - riscv64\n')
    const dir = writeTree(tempDir(), {'addons.yaml': text})
    const error = (await loadRepositoryIndex(dir, 'up').catch((e: unknown) => e)) as ValidationError
    expect(error.problems[0]).toMatchObject({field: 'microk8s-addons.addons[0].supported_architectures[2]', line: 11})
    expect(error.problems[0].message).toContain('must be one of: amd64, arm64, s390x, ppc64le')
  })

  it('reports a YAML syntax error with its line', async () => {
    const dir = writeTree(tempDir(), {'addons.yaml': 'microk8s-addons:\n  addons: [\n    - name: x\n'})
    const error = (await loadRepositoryIndex(dir, 'up').catch((e: unknown) => e)) as ValidationError
    expect(error.message).toMatch(/^Yaml format error in addons.yaml file/)
    expect(error.problems[0].line).toBeGreaterThan(1)
  })

  it('says when a repository has no addons.yaml, as MicroK8s does', async () => {
    await expect(loadRepositoryIndex(tempDir(), 'repo')).rejects.toThrow(
      'Error: repository repo does not contain an addons.yaml file',
    )
  })
})

describe('hook addons', () => {
  const hookRepo = {
    'addons.yaml': `microk8s-addons:
  addons:
    - {name: h, description: d, version: "1", check_status: pod/h, supported_architectures: [amd64]}
`,
    'addons/h/disable': '#!/bin/sh\n',
    'addons/h/enable': '#!/bin/sh\n',
  }

  it('accepts executable enable and disable hooks', async () => {
    expect((await problemsOf(hookRepo)).problems).toEqual([])
  })

  it('reports a missing hook with the MicroK8s message', async () => {
    const {disable, ...rest} = {disable: hookRepo['addons/h/disable'], ...hookRepo}
    delete (rest as Record<string, string>)['addons/h/disable']
    void disable
    const {problems} = await problemsOf(rest)
    expect(problems.map((p) => p.message)).toEqual(['Missing disable hook for h addon'])
  })

  it('reports a hook that is not executable', async () => {
    const dir = writeTree(tempDir(), hookRepo)
    chmodSync(join(dir, 'addons/h/enable'), 0o644)
    const {problems} = await repositoryProblems(dir, 'repo')
    expect(problems.map((p) => p.message)).toEqual(['enable hook for h addon needs execute permissions'])
  })
})

describe('addon.yaml', () => {
  it('accepts the minimal declarative addon and finds its manifests', async () => {
    const {dir, index, problems} = await problemsOf(declarativeRepoFiles())
    expect(problems).toEqual([])
    const addon = await loadAddon(index!, index!.entries[0])
    expect(addon).toMatchObject({dir: join(dir, 'addons/demo'), kind: 'declarative', manifests: ['deploy.yaml.hbs']})
  })

  it('refuses an unknown option type with file, field and line', async () => {
    const addonYaml = declarativeRepoFiles()['addons/demo/addon.yaml'].replace('type: integer', 'type: float')
    const {dir, problems} = await problemsOf(declarativeRepoFiles({'addon.yaml': addonYaml}))
    expect(problems).toHaveLength(1)
    expect(problems[0]).toMatchObject({
      field: 'options.replicas.type',
      file: join(dir, 'addons/demo/addon.yaml'),
      line: 6,
    })
    expect(problems[0].message).toContain('must be one of: string, integer')
  })

  it('refuses unknown fields, bad defaults, duplicate positions and bad ranges', async () => {
    const addonYaml = `name: demo
description: d
version: 1.0.0
kubernetes: "not a range"
colour: blue
options:
  a: {type: ip, position: 0, description: a, default: "nope"}
  b: {type: string, position: 0, description: b}
  c: {type: enum, description: c}
ready:
  - {kind: Pod, name: x}
`
    const {problems} = await problemsOf(declarativeRepoFiles({'addon.yaml': addonYaml}))
    const byField = Object.fromEntries(problems.map((p) => [p.field, [p.line, p.message]]))
    expect(byField).toMatchObject({
      colour: [5, 'is not a known field'],
    })
    // Schema errors stop before semantic checks; fix the schema error and look again.
    const second = await problemsOf(declarativeRepoFiles({'addon.yaml': addonYaml.replace('colour: blue\n', '')}))
    expect(Object.fromEntries(second.problems.map((p) => [p.field, [p.line, p.message]]))).toEqual({
      kubernetes: [4, '"not a range" is not a semver range'],
      'options.a.default': [6, '"nope" is not a valid IP address'],
      'options.b.position': [7, '0 is already taken by a'],
      'options.c.values': [8, 'is required for enum options'],
      'ready[0].kind': [10, expect.stringContaining('must be one of: APIService')],
    })
  })

  it('reports a template syntax error with its file and line', async () => {
    const template = declarativeRepoFiles()['addons/demo/deploy.yaml.hbs'].replace(
      '{{options.replicas}}',
      '{{#if options.replicas}}',
    )
    const {dir, problems} = await problemsOf(declarativeRepoFiles({'deploy.yaml.hbs': template}))
    expect(problems).toHaveLength(1)
    expect(problems[0].file).toBe(join(dir, 'addons/demo/deploy.yaml.hbs'))
    expect(problems[0].line).toBeGreaterThan(0)
  })

  it('refuses an addon.yaml whose name differs from its addons.yaml entry', async () => {
    const addonYaml = declarativeRepoFiles()['addons/demo/addon.yaml'].replace('name: demo', 'name: other')
    const {problems} = await problemsOf(declarativeRepoFiles({'addon.yaml': addonYaml}))
    expect(problems[0]).toMatchObject({field: 'name', line: 1})
  })
})
