import {execFileSync} from 'node:child_process'
import {cpSync, readFileSync, symlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'

import {type CliResult, runMk8s} from '../helpers/cli.js'
import {repoRoot, tempDir, writeTree} from '../helpers/repos.js'

/** No cluster, no user repositories: every command runs the same on any machine. */
const isolated = () => ({KUBECONFIG: join(tempDir(), 'no-kubeconfig'), MK8S_HOME: tempDir('mk8s-home-')})
const mk8s = (args: string[], env: Record<string, string> = {}) => runMk8s(args, {...isolated(), ...env})

/** Asserts stdout is exactly one JSON document of the envelope's shape, and that its exit code is the process's. */
function envelope(result: CliResult): {
  error?: {exitCode: number; message: string; name: string; problems: unknown[]}
  result?: unknown
  status: string
  warnings: string[]
} {
  const document = JSON.parse(result.stdout)
  expect(Object.keys(document).sort()).toEqual(
    document.status === 'ok'
      ? ['result', 'status', 'warnings']
      : expect.arrayContaining(['error', 'status', 'warnings']),
  )
  expect(Array.isArray(document.warnings)).toBe(true)
  if (document.status === 'ok') {
    expect(result.code === 0 || result.code === 1).toBe(true)
  } else {
    expect(document.status).toBe('failed')
    expect(Object.keys(document.error).sort()).toEqual(['exitCode', 'message', 'name', 'problems'])
    expect(typeof document.error.message).toBe('string')
    expect(document.error.exitCode).toBe(result.code)
    expect(result.code).toBeGreaterThan(0)
  }

  return document
}

const manifest = () =>
  JSON.parse(readFileSync(join(repoRoot, 'oclif.manifest.json'), 'utf8')) as {
    commands: Record<string, {args: Record<string, {required?: boolean}>}>
  }

describe('the --json envelope', () => {
  it('is one document on stdout for every command of the manifest, with its arguments and without', async () => {
    const ids = Object.keys(manifest().commands)
    expect(ids.length).toBeGreaterThanOrEqual(12)
    for (const id of ids) {
      const words = id.split(':')
      // Without arguments: a usage error for commands that need one, the result (or a failure) for the others.
      const bare = await mk8s([...words, '--json'])
      const document = envelope(bare)
      const required = Object.values(manifest().commands[id].args).some((arg) => arg.required)
      if (required) expect([document.error?.name, bare.code]).toEqual(['UsageError', 2])
      expect(bare.stderr).not.toMatch(/\n\s+at /)
    }
  })

  it('carries results and warnings: render, lists, lint, new', async () => {
    const render = envelope(await mk8s(['render', 'dns', '--json']))
    expect(render.status).toBe('ok')
    expect((render.result as {objects: unknown[]}).objects.length).toBe(6)
    // The inferred repository is a warning inside the document, not text on stdout.
    expect(render.warnings).toEqual(['Infer repository core for addon dns'])

    const list = envelope(await mk8s(['addons', 'list', '--json']))
    expect((list.result as {name: string}[]).map((a) => a.name)).toContain('dns')
    const repos = envelope(await mk8s(['addons', 'repo', 'list', '--json']))
    expect((repos.result as {name: string}[]).map((r) => r.name)).toEqual(['core', 'community'])
    const lint = envelope(await mk8s(['addons', 'lint', join(repoRoot, 'addons/core'), '--json']))
    expect(lint.status).toBe('ok')

    const repo = tempDir('mk8s-new-')
    const created = envelope(await mk8s(['addons', 'new', 'hello', '--repo', repo, '--json']))
    expect((created.result as {files: string[]}).files).toContain(join(repo, 'addons/hello/addon.yaml'))
  })

  it("carries an addon's help when it is asked for among the addons", async () => {
    const document = envelope(await mk8s(['enable', 'dns', '--json', '--', '--help']))
    expect((document.result as {help: string}).help).toContain('core/dns')
  })

  it('carries every problem of a failed lint, with file and line', async () => {
    const repo = writeTree(tempDir(), {'addons.yaml': 'microk8s-addons:\n  addons:\n    - name: x\n'})
    const result = await mk8s(['addons', 'lint', repo, '--json'])
    const document = envelope(result)
    expect(document.error?.name).toBe('ValidationError')
    expect(document.error?.problems).toEqual(
      expect.arrayContaining([expect.objectContaining({field: 'microk8s-addons.addons[0].description', line: 3})]),
    )
  })

  it('puts a broken user repository in warnings, never on stdout as text', async () => {
    const home = tempDir('mk8s-home-')
    writeTree(home, {'repositories/broken/addons.yaml': 'not: [valid'})
    const result = await runMk8s(['addons', 'list', '--json'], {KUBECONFIG: '/nonexistent', MK8S_HOME: home})
    const document = envelope(result)
    expect(document.status).toBe('ok')
    expect(document.warnings.join('\n')).toContain('could not load addons from')
    expect(result.stderr).toBe('')
  })

  it('reports a cluster that cannot be reached as a failed document for status, enable and disable', async () => {
    for (const args of [['status'], ['enable', 'dns'], ['disable', 'dns']]) {
      const document = envelope(await mk8s([...args, '--json']))
      expect(document.error?.message).toContain('Invalid kubeconfig')
    }
  })
})

describe('exit codes (the README table)', () => {
  it('0: the command succeeded', async () => {
    expect((await mk8s(['render', 'dns'])).code).toBe(0)
    expect((await mk8s(['addons', 'list'])).code).toBe(0)
  })

  it('1: the operation failed', async () => {
    expect((await mk8s(['render', 'nosuchaddon'])).code).toBe(1)
    expect((await mk8s(['status'])).code).toBe(1)
    expect((await mk8s(['render', 'dns', '--set', 'serviceIp=1.2.3'])).code).toBe(1)
  })

  it('2: the command line is wrong', async () => {
    for (const args of [
      ['enable'],
      ['addons', 'list', '--format', 'xml'],
      ['enable', 'dns', '--timeout', 'soon'],
      ['render', 'dns', '--nosuchflag'],
    ]) {
      const {code, stderr} = await mk8s(args)
      expect([args.join(' '), code]).toEqual([args.join(' '), 2])
      expect(stderr).not.toMatch(/\n\s+at /)
    }
  })

  it('diff: an error is above 1, as kubectl diff', async () => {
    expect((await mk8s(['diff', 'dns'])).code).toBe(2)
    expect((await mk8s(['diff', 'nosuchaddon', '--json'])).code).toBe(2)
    expect((await mk8s(['diff'])).code).toBe(2)
  })
})

describe('templates', () => {
  it("send Handlebars' log helper to stderr, never into the manifests on stdout", async () => {
    // A user repository is a folder under $MK8S_HOME/repositories; this one has a template that logs.
    const home = tempDir('mk8s-home-')
    writeTree(join(home, 'repositories', 'talk'), {
      'addons.yaml':
        'microk8s-addons:\n  addons:\n    - {name: talk, description: d, version: "1", check_status: pod/x, supported_architectures: [amd64, arm64, s390x, ppc64le]}\n',
      'addons/talk/addon.yaml': 'name: talk\ndescription: d\nversion: "1"\n',
      'addons/talk/cm.yaml.hbs':
        '{{log "hello from the template"}}apiVersion: v1\nkind: ConfigMap\nmetadata: {name: talk}\n',
    })
    const text = await runMk8s(['render', 'talk/talk'], {MK8S_HOME: home})
    expect(text.code).toBe(0)
    expect(text.stdout).toContain('kind: ConfigMap')
    expect(text.stdout).not.toContain('hello from the template')
    expect(text.stderr).toContain('hello from the template')
    const json = await runMk8s(['render', 'talk/talk', '--json'], {MK8S_HOME: home})
    expect(envelope(json).status).toBe('ok')
  })
})

describe('the command list', () => {
  it('is derived by the build: a command file added without touching any list runs', async () => {
    // Given a copy of the project with one more command file and nothing else changed
    const copy = tempDir('mk8s-copy-')
    for (const entry of ['bin', 'src', 'scripts', 'addons', 'templates', 'package.json', 'tsconfig.json']) {
      cpSync(join(repoRoot, entry), join(copy, entry), {recursive: true})
    }

    symlinkSync(join(repoRoot, 'node_modules'), join(copy, 'node_modules'))
    writeFileSync(
      join(copy, 'src/commands/hello.ts'),
      "import {BaseCommand} from '../base-command.js'\n\nexport default class Hello extends BaseCommand {\n  static override description = 'say hello'\n\n  public async run(): Promise<{greeting: string}> {\n    await this.parse(Hello)\n    this.log('hello from a new command')\n    return {greeting: 'hello'}\n  }\n}\n",
    )
    // When it is built as `npm run build` builds it
    execFileSync(process.execPath, [join(copy, 'scripts/build.mjs')], {cwd: copy, stdio: 'pipe'})
    // Then the new command runs, is in --help, and speaks the envelope
    const run = (args: string[]) => execFileSync(join(copy, 'bin/run.js'), args, {encoding: 'utf8'})
    expect(run(['hello'])).toBe('hello from a new command\n')
    expect(run(['--help'])).toContain('hello')
    expect(JSON.parse(run(['hello', '--json']))).toEqual({result: {greeting: 'hello'}, status: 'ok', warnings: []})
  }, 120_000)
})

describe('shell completion', () => {
  it('completes commands, topics, flags and addon names in a real bash', async () => {
    // Given mk8s on PATH and its completion script sourced
    const binDir = tempDir('mk8s-path-')
    symlinkSync(join(repoRoot, 'bin/run.js'), join(binDir, 'mk8s'))
    const complete = (line: string) =>
      execFileSync(
        'bash',
        [
          '-c',
          'source <(mk8s completion bash); read -a COMP_WORDS <<< "$LINE"; [[ "$LINE" == *" " ]] && COMP_WORDS+=(""); COMP_CWORD=$((${#COMP_WORDS[@]}-1)); _mk8s_complete; echo "${COMPREPLY[*]}"',
        ],
        {encoding: 'utf8', env: {...process.env, ...isolated(), LINE: line, PATH: `${binDir}:${process.env.PATH}`}},
      ).trim()
    // When TAB is pressed after each of these, Then bash offers
    expect(complete('mk8s ena')).toBe('enable')
    expect(complete('mk8s addons ')).toBe('lint list new repo')
    expect(complete('mk8s addons repo ')).toBe('add list remove update')
    expect(complete('mk8s enable d')).toBe('dashboard dns')
    // An alias completes like a name.
    expect(complete('mk8s enable nv')).toBe('nvidia')
    expect(complete('mk8s disable core/r')).toBe('core/rbac core/registry')
    expect(complete('mk8s enable dns --ti')).toBe('--timeout')
    expect(complete('mk8s completion ')).toBe('bash zsh')
  })
})

describe('--version', () => {
  it("answers without loading the CLI, exactly as oclif's version flag would", async () => {
    const {Config} = await import('@oclif/core')
    const config = await Config.load(repoRoot)
    const {code, stdout} = await mk8s(['--version'])
    expect(code).toBe(0)
    expect(stdout.trim()).toBe(config.userAgent)
  })
})
