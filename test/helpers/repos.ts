import {execFileSync} from 'node:child_process'
import {chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {parse} from 'yaml'

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
/** Our own fixtures in the MicroK8s formats: always present. */
export const fixtures = join(repoRoot, 'test', 'fixtures', 'microk8s')
/** The real upstream files, beside the project in ../shared; absent where the project is cloned on its own. */
export const upstreamFixtures = join(repoRoot, '..', 'shared', 'fixtures', 'microk8s-upstream')
export const hasUpstreamFixtures = existsSync(upstreamFixtures)
export const NO_UPSTREAM = `../shared/fixtures/microk8s-upstream is absent (the project was cloned on its own)`

/** Skips the running test, with the reason, where the upstream fixtures are absent. */
export function needsUpstreamFixtures(context: {skip: (note?: string) => void}): void {
  if (!hasUpstreamFixtures) context.skip(NO_UPSTREAM)
}

export function tempDir(prefix = 'mk8s-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix))
}

/** Writes files (path → content) under dir; a content starting with #! is made executable. */
export function writeTree(dir: string, files: Record<string, string>): string {
  for (const [path, content] of Object.entries(files)) {
    const file = join(dir, path)
    mkdirSync(dirname(file), {recursive: true})
    writeFileSync(file, content)
    if (content.startsWith('#!')) chmodSync(file, 0o755)
  }

  return dir
}

export function git(dir: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd: dir,
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_AUTHOR_EMAIL: 't@e.st',
      GIT_AUTHOR_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@e.st',
      GIT_COMMITTER_NAME: 't',
    },
  }).trim()
}

export function commitAll(dir: string, message = 'commit'): string {
  git(dir, 'add', '-A')
  git(dir, 'commit', '-q', '-m', message)
  return git(dir, 'rev-parse', 'HEAD')
}

export function gitRepo(files: Record<string, string>): string {
  const dir = writeTree(tempDir('mk8s-src-'), files)
  git(dir, 'init', '-q', '-b', 'main')
  commitAll(dir, 'initial')
  return dir
}

/**
 * A hook repository made from a MicroK8s addons.yaml (ours by default, or the real upstream one with `from`), with
 * executable enable/disable hooks for each addon.
 */
export function microk8sHookRepo(
  fixture: 'community-addons.yaml' | 'core-addons.yaml',
  from: string = fixtures,
): {dir: string; names: Record<string, string[]>} {
  const text = readFileSync(join(from, fixture), 'utf8')
  const addons = (parse(text) as {'microk8s-addons': {addons: {name: string; supported_architectures: string[]}[]}})[
    'microk8s-addons'
  ].addons
  const files: Record<string, string> = {'addons.yaml': text}
  for (const addon of addons) {
    files[`addons/${addon.name}/enable`] = '#!/bin/sh\necho enabled\n'
    files[`addons/${addon.name}/disable`] = '#!/bin/sh\necho disabled\n'
  }

  const names: Record<string, string[]> = {}
  for (const addon of addons) for (const arch of addon.supported_architectures) (names[arch] ??= []).push(addon.name)
  return {dir: gitRepo(files), names}
}

export function copyBundled(name: string): string {
  const dir = tempDir('mk8s-copy-')
  cpSync(join(repoRoot, 'addons', name), dir, {recursive: true})
  return dir
}

export const minimalAddon = {
  'addon.yaml': `name: demo
description: Demo addon
version: 1.0.0
options:
  replicas:
    type: integer
    position: 0
    description: replicas
    default: 1
images:
  main: registry.k8s.io/pause:3.10
`,
  'deploy.yaml.hbs': `apiVersion: apps/v1
kind: Deployment
metadata:
  name: demo
  namespace: default
spec:
  replicas: {{options.replicas}}
  selector: {matchLabels: {app: demo}}
  template:
    metadata: {labels: {app: demo}}
    spec:
      containers:
        - name: demo
          image: {{images.main}}
`,
}

/** A one-addon declarative repository; `overrides` replaces files of the addon (path relative to the addon dir). */
export function declarativeRepoFiles(overrides: Record<string, string> = {}, name = 'demo'): Record<string, string> {
  const files: Record<string, string> = {
    'addons.yaml': `microk8s-addons:
  description: "test repository"
  addons:
    - name: "${name}"
      description: "Demo addon"
      version: "1.0.0"
      check_status: "deployment.apps/${name}"
      supported_architectures: [amd64, arm64, s390x, ppc64le]
`,
  }
  for (const [path, content] of Object.entries({...minimalAddon, ...overrides}))
    files[`addons/${name}/${path}`] = content
  return files
}

/**
 * A declarative addon whose Deployment runs only on a node labelled `<label>=ready`: it cannot become ready until a
 * test labels one, so the test decides when it does. `extra` is more manifest text for the same template.
 */
export function labelGatedAddon(
  name: string,
  options: {deployment?: string; extra?: string; label: string},
): Record<string, string> {
  const deployment = options.deployment ?? name
  const title = name[0].toUpperCase() + name.slice(1)
  return {
    [`addons/${name}/addon.yaml`]: `name: ${name}\ndescription: ${title}\nversion: 1.0.0\nimages: {app: registry.k8s.io/pause:3.10}\n`,
    [`addons/${name}/${name}.yaml.hbs`]: `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${deployment}, namespace: default}
spec:
  selector: {matchLabels: {app: ${deployment}}}
  template:
    metadata: {labels: {app: ${deployment}}}
    spec:
      nodeSelector: {${options.label}: ready}
      containers: [{name: app, image: "{{images.app}}"}]
${options.extra ?? ''}`,
  }
}
