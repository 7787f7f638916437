import {execFileSync} from 'node:child_process'
import {readdirSync, symlinkSync, writeFileSync} from 'node:fs'
import type {AddressInfo, Socket} from 'node:net'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'

import {loadCredentials} from '../../src/kube/kubeconfig.js'
import {RepoService} from '../../src/services/repos.js'
import {runMk8s} from '../helpers/cli.js'
import {commitAll, declarativeRepoFiles, gitRepo, tempDir, writeTree} from '../helpers/repos.js'

const secret = () =>
  writeTree(tempDir('mk8s-secret-'), {'secret.yaml.hbs': 'apiVersion: v1\nkind: Secret\nmetadata: {name: stolen}\n'})

/** A user repository placed directly in $MK8S_HOME (as one that changed on disk after it was added). */
function homeWith(files: Record<string, string>, edit?: (repo: string) => void): string {
  const home = tempDir('mk8s-home-')
  const repo = writeTree(join(home, 'repositories', 't'), files)
  edit?.(repo)
  return home
}

describe('containment: nothing a repository declares is read from outside it', () => {
  it('refuses a template that is a symbolic link leaving the repository, at repo add and at render', async () => {
    const outside = join(secret(), 'secret.yaml.hbs')
    const source = writeTree(tempDir('mk8s-src-'), declarativeRepoFiles())
    symlinkSync(outside, join(source, 'addons/demo/stolen.yaml.hbs'))
    execFileSync('git', ['init', '-q', '-b', 'main'], {cwd: source})
    commitAll(source)
    const home = tempDir('mk8s-home-')
    const added = await runMk8s(['addons', 'repo', 'add', 't', source], {MK8S_HOME: home})
    expect(added.code).toBe(1)
    expect(added.stderr).toContain('stolen.yaml.hbs: is a symbolic link that leaves the repository')
    // Nothing is left behind: no repository, no staging folder, no lock.
    expect(readdirSync(join(home, 'repositories'))).toEqual([])

    const changed = homeWith(declarativeRepoFiles(), (repo) =>
      symlinkSync(outside, join(repo, 'addons/demo/stolen.yaml.hbs')),
    )
    const render = await runMk8s(['render', 't/demo'], {MK8S_HOME: changed})
    expect(render.code).toBe(1)
    expect(render.stdout).not.toContain('stolen')
    expect(render.stderr).toContain('a symbolic link that leaves the repository')
  })

  it('refuses an addon folder that is a link to a folder outside', async () => {
    const files = declarativeRepoFiles()
    const outside = writeTree(tempDir(), {
      'addon.yaml': files['addons/demo/addon.yaml'],
      'x.yaml.hbs': 'apiVersion: v1\nkind: Secret\nmetadata: {name: stolen}\n',
    })
    const home = homeWith({'addons.yaml': files['addons.yaml']}, (repo) => {
      execFileSync('mkdir', ['-p', join(repo, 'addons')])
      symlinkSync(outside, join(repo, 'addons/demo'))
    })
    const render = await runMk8s(['render', 't/demo'], {MK8S_HOME: home})
    expect(render.code).toBe(1)
    expect(render.stdout).not.toContain('stolen')
  })

  it('refuses .. and absolute paths in manifests, at lint and at render', async () => {
    const files = declarativeRepoFiles({
      'addon.yaml': `${declarativeRepoFiles()['addons/demo/addon.yaml']}manifests: [../../../../etc/hostname]\n`,
    })
    const lint = await runMk8s(['addons', 'lint', writeTree(tempDir(), files)])
    expect(lint.code).toBe(1)
    expect(lint.stderr).toContain('../../../../etc/hostname: must be a path inside the repository')
    const render = await runMk8s(['render', 't/demo'], {MK8S_HOME: homeWith(files)})
    expect(render.code).toBe(1)
    expect(render.stderr).toContain('must be a path inside the repository')
  })

  it('refuses an addon name that is not a plain name', async () => {
    const files = declarativeRepoFiles()
    files['addons.yaml'] = files['addons.yaml'].replace('name: "demo"', 'name: "../demo"')
    const lint = await runMk8s(['addons', 'lint', writeTree(tempDir(), files)])
    expect(lint.code).toBe(1)
    expect(lint.stderr).toMatch(/addons\[0\]\.name: must match pattern/)
  })

  it('refuses a FIFO where a template is expected, without blocking on it', async () => {
    const home = homeWith(declarativeRepoFiles(), (repo) =>
      execFileSync('mkfifo', [join(repo, 'addons/demo/pipe.yaml.hbs')]),
    )
    const started = Date.now()
    const render = await runMk8s(['render', 't/demo'], {MK8S_HOME: home})
    expect(render.code).toBe(1)
    expect(render.stderr).toContain('not a regular file')
    expect(Date.now() - started).toBeLessThan(10_000)
  })
})

describe('bounded input', () => {
  it('fails fast on --kubeconfig /dev/zero', async () => {
    const started = Date.now()
    const result = await runMk8s(['status', '--kubeconfig', '/dev/zero'])
    expect(result.code).toBe(1)
    expect(result.stderr).toBe('Invalid kubeconfig /dev/zero: /dev/zero is larger than 1024 KiB\n')
    expect(Date.now() - started).toBeLessThan(2000 + 1500)
  })

  it('fails fast on a values file that is a billion laughs of YAML aliases', async () => {
    const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for (let i = 1; i < 9; i++)
      levels.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9)
          .fill(`*${String.fromCharCode(96 + i)}`)
          .join(',')}]`,
      )
    const file = join(tempDir(), 'bomb.yaml')
    writeFileSync(file, `${levels.join('\n')}\n`)
    const started = Date.now()
    const result = await runMk8s(['render', 'dns', '-f', file])
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('expands to more than 200000 values (aliases?)')
    expect(Date.now() - started).toBeLessThan(2000 + 1500)
  })
})

describe('repository commands take a lock', () => {
  it('six concurrent repo add of one name leave exactly one repository and clear failures', async () => {
    const home = tempDir('mk8s-home-')
    const source = gitRepo(declarativeRepoFiles())
    const results = await Promise.all(
      Array.from({length: 6}, () => runMk8s(['addons', 'repo', 'add', 'same', source], {MK8S_HOME: home})),
    )
    expect(results.filter((r) => r.code === 0)).toHaveLength(1)
    for (const failed of results.filter((r) => r.code !== 0))
      expect(failed.stderr).toContain("Error: repository 'same' already exists!")
    expect(readdirSync(join(home, 'repositories')).filter((f) => !f.startsWith('.'))).toEqual(['same'])
    const listed = await new RepoService({env: {...process.env, MK8S_HOME: home}}).list()
    expect(listed.repositories.find((r) => r.name === 'same')?.addons).toBe(1)
  })
})

describe('kubeconfig transport', () => {
  const kubeconfig = (server: string, user = 'token: abc') =>
    writeTree(tempDir(), {
      config: `apiVersion: v1\nclusters: [{name: c, cluster: {server: "${server}"}}]\nusers: [{name: u, user: {${user}}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n`,
    })

  it('never sends a bearer token or a password over plain HTTP', async () => {
    await expect(loadCredentials({kubeconfig: join(kubeconfig('http://127.0.0.1:8080'), 'config')})).rejects.toThrow(
      'Refusing to send the credentials of user "u" over plain HTTP to http://127.0.0.1:8080',
    )
    await expect(
      loadCredentials({kubeconfig: join(kubeconfig('http://127.0.0.1:8080', 'username: a, password: b'), 'config')}),
    ).rejects.toThrow('over plain HTTP')
  })

  it('reads a server without a scheme as https, and says what is wrong with one that is not a URL', async () => {
    expect((await loadCredentials({kubeconfig: join(kubeconfig('127.0.0.1:6443'), 'config')})).server).toBe(
      'https://127.0.0.1:6443',
    )
    await expect(loadCredentials({kubeconfig: join(kubeconfig('https://exa mple:x'), 'config')})).rejects.toThrow(
      'server "https://exa mple:x" is not a URL',
    )
    await expect(loadCredentials({kubeconfig: join(kubeconfig('ftp://host'), 'config')})).rejects.toThrow(
      'server must be http:// or https://',
    )
  })

  it('refuses a token with control characters', async () => {
    await expect(
      loadCredentials({kubeconfig: join(kubeconfig('https://h:1', 'token: "a\\nb"'), 'config')}),
    ).rejects.toThrow('the token contains control characters')
  })
})

describe('deadlines', () => {
  it('an API server that accepts connections and never answers makes enable dns --timeout 5s fail in about 5s, saying so', async () => {
    const {createServer} = await import('node:net')
    const sockets: Socket[] = []
    const server = createServer((socket) => void sockets.push(socket))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as AddressInfo).port
    const dir = writeTree(tempDir(), {
      config: `apiVersion: v1\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:${port}", insecure-skip-tls-verify: true}}]\nusers: [{name: u, user: {token: abc}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n`,
    })
    try {
      const started = Date.now()
      const result = await runMk8s(['enable', 'dns', '--timeout', '5s', '--kubeconfig', join(dir, 'config')])
      const elapsed = Date.now() - started
      expect(result.code).toBe(1)
      // The request's own wait: the command's 5 s budget less what start-up spent before it (4.9 s on a busy machine).
      expect(result.stderr).toMatch(/did not answer GET \/version within [4-7]\.\ds/)
      expect(elapsed).toBeGreaterThan(4500)
      expect(elapsed).toBeLessThan(9000)
    } finally {
      for (const socket of sockets) socket.destroy()
      server.close()
    }
  }, 30_000)
})

describe('validation that says what is wrong', () => {
  const lint = (files: Record<string, string>) => runMk8s(['addons', 'lint', writeTree(tempDir(), files)])
  const addonYaml = declarativeRepoFiles()['addons/demo/addon.yaml']

  it('refuses an addon listed twice in addons.yaml, naming the line', async () => {
    const files = declarativeRepoFiles()
    files['addons.yaml'] +=
      '    - {name: demo, description: again, version: "1", check_status: pod/x, supported_architectures: [amd64]}\n'
    const result = await lint(files)
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/addons\.yaml:9: microk8s-addons\.addons\[1\]\.name: "demo" is listed twice/)
  })

  it('refuses a requirement cycle at lint and at repo add', async () => {
    const files = declarativeRepoFiles({'addon.yaml': `${addonYaml}requires: [other]\n`})
    files['addons.yaml'] +=
      '    - {name: other, description: o, version: "1", check_status: pod/x, supported_architectures: [amd64, arm64, s390x, ppc64le]}\n'
    files['addons/other/addon.yaml'] = 'name: other\ndescription: o\nversion: "1"\nrequires: [t/demo]\n'
    files['addons/other/cm.yaml.hbs'] = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: other}\n'
    const result = await lint(files)
    expect(result.stderr).toContain('requirements form a cycle: demo -> other -> demo')
    const added = await runMk8s(['addons', 'repo', 'add', 't', gitRepo(files)], {MK8S_HOME: tempDir('mk8s-home-')})
    expect([added.code, added.stderr.includes('requirements form a cycle')]).toEqual([1, true])
  })

  it('refuses option names that are object built-ins, and image references that are not references', async () => {
    const builtIn = await lint(
      declarativeRepoFiles({
        'addon.yaml': addonYaml.replace('  replicas:', '  toString:').replace('{{options.replicas}}', '1'),
      }),
    )
    expect(builtIn.code).toBe(1)
    expect(builtIn.stderr).toContain('options.toString: "toString" is the name of a member of every JavaScript object')
    const image = await lint(
      declarativeRepoFiles({'addon.yaml': addonYaml.replace('registry.k8s.io/pause:3.10', 'Not An Image!')}),
    )
    expect(image.stderr).toContain('images.main: "Not An Image!" is not an image reference')
  })

  it('refuses integers beyond the safe range instead of rendering 1e+23', async () => {
    const home = homeWith(declarativeRepoFiles())
    const result = await runMk8s(['render', 't/demo:100000000000000000000000'], {MK8S_HOME: home})
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('100000000000000000000000 is beyond the integers a number can hold exactly')
  })

  it('hints at the space form for an IPv6 address in the colon form, and refuses the same addon twice', async () => {
    const ipv6 = await runMk8s(['render', 'dns:2001:db8::1'])
    expect(ipv6.stderr).toContain('give it in the space form: mk8s enable dns 2001:db8::1')
    const {parseAddonArgs} = await import('../../src/addons/grammar.js')
    const available = [
      {name: 'dns', repository: 'core'},
      {name: 'rbac', repository: 'core'},
    ]
    expect(() => parseAddonArgs(['dns', 'core/dns'], available)).toThrow('Addon core/dns is named twice')
  })

  it('checks --image references and --registry-mirror specs (usage errors)', async () => {
    expect((await runMk8s(['render', 'dns', '--image', 'coredns=bad ref'])).code).toBe(2)
    const mirror = await runMk8s(['render', 'dns', '--registry-mirror', 'docker.io=not a host'])
    expect([mirror.code, mirror.stderr]).toEqual([
      2,
      '--registry-mirror docker.io=not a host: "not a host" is not a registry (host[:port])\n',
    ])
    expect((await runMk8s(['render', 'dns', '--registry-mirror', 'docker.io=mirror.local:5000'])).code).toBe(0)
  })

  it('never echoes an unbounded argument in a message', async () => {
    const result = await runMk8s(['render', 'x'.repeat(20_000)])
    expect(result.code).toBe(1)
    expect(result.stderr.length).toBeLessThan(200)
  })

  it('says a repository name is too long without printing all of it', async () => {
    const name = 'a'.repeat(5000)
    const result = await runMk8s(['addons', 'repo', 'add', name, '/nowhere'], {MK8S_HOME: tempDir('mk8s-home-')})
    expect(result.code).toBe(1)
    expect(result.stderr.length).toBeLessThan(200)
  })
})

describe('no raw errors', () => {
  const kubeconfigWith = (cluster: string) =>
    join(
      writeTree(tempDir(), {
        config: `apiVersion: v1\nclusters: [{name: c, cluster: {${cluster}}}]\nusers: [{name: u, user: {}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n`,
      }),
      'config',
    )

  it('names the field of junk certificate data, and a folder where the kubeconfig should be', async () => {
    const junk = await runMk8s([
      'status',
      '--kubeconfig',
      kubeconfigWith('server: "https://h:1", certificate-authority-data: "bm90IGEgY2VydA=="'),
    ])
    expect(junk.stderr).toMatch(/^Invalid kubeconfig .*: cluster "c": certificate-authority is not PEM data\n$/)
    const folder = await runMk8s(['status', '--kubeconfig', tempDir()])
    expect(folder.stderr).toMatch(/^Invalid kubeconfig .*: is a folder, not a file\n$/)
  })

  it("shows the user's source path in repo add problems, never the deleted staging folder", async () => {
    const files = declarativeRepoFiles()
    files['addons/demo/addon.yaml'] = files['addons/demo/addon.yaml'].replace('type: integer', 'type: float')
    const source = gitRepo(files)
    const result = await runMk8s(['addons', 'repo', 'add', 't', source], {MK8S_HOME: tempDir('mk8s-home-')})
    expect(result.stderr).toContain(`${source}/addons/demo/addon.yaml:6`)
    expect(result.stderr).not.toContain('.staging-')
  })

  it('stops a template that renders more than the limit', async () => {
    // Three nested loops over a 100-item list: a million 20-byte lines, about 20 MiB.
    const list = `[${Array.from({length: 100}, (_, i) => i).join(', ')}]`
    const addonYaml = `name: demo\ndescription: d\nversion: "1"\noptions:\n  l: {type: list, items: integer, description: l, default: ${list}}\n`
    const template =
      '{{#each @root.options.l}}{{#each @root.options.l}}{{#each @root.options.l}}# xxxxxxxxxxxxxxxxx\n{{/each}}{{/each}}{{/each}}apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n'
    const home = homeWith(declarativeRepoFiles({'addon.yaml': addonYaml, 'deploy.yaml.hbs': template}))
    const result = await runMk8s(['render', 't/demo'], {MK8S_HOME: home})
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('renders to more than 16 MiB of manifests')
    expect(result.stdout).toBe('')
  })
})

describe('exec credential plugins', () => {
  const withPlugin = (script: string) => {
    const dir = writeTree(tempDir(), {plugin: `#!/bin/sh\n${script}\n`})
    return join(
      writeTree(dir, {
        config: `apiVersion: v1\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]\nusers: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: "${join(dir, 'plugin')}", args: [a], env: [{name: GREETING, value: hi}]}}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n`,
      }),
      'config',
    )
  }

  it('runs the plugin as kubectl does and uses the token it prints', async () => {
    const config = withPlugin(
      'echo "{\\"apiVersion\\":\\"client.authentication.k8s.io/v1\\",\\"kind\\":\\"ExecCredential\\",\\"status\\":{\\"token\\":\\"tok-$1-$GREETING\\"}}"',
    )
    const credentials = await loadCredentials({kubeconfig: config})
    expect(credentials.headers.Authorization).toBe('Bearer tok-a-hi')
  })

  it("stops a plugin that never answers at the command's --timeout, saying so", async () => {
    const started = Date.now()
    await expect(loadCredentials({kubeconfig: withPlugin('sleep 30'), timeoutMs: 1500})).rejects.toThrow(
      /Cannot get credentials for context "x": .*plugin.* did not finish within 2s/,
    )
    expect(Date.now() - started).toBeLessThan(5000)
  })
})
