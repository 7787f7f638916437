import {rmSync} from 'node:fs'
import {mkdir, mkdtemp, readdir, rename, rm} from 'node:fs/promises'
import {join} from 'node:path'

import {UserError, ValidationError} from '../errors.js'
import {type Runner, runProcess} from '../host/exec.js'
import {withFileLock} from '../host/file-lock.js'
import {pathExists} from '../host/fs.js'
import {userRepositoriesDir} from '../paths.js'
import {NAME_PATTERN} from '../util/text.js'
import {AddonCatalog, BUNDLED_REPOSITORIES} from '../addons/catalog.js'
import {repositoryProblems} from '../addons/repository.js'

export interface RepoServiceOptions {
  env?: NodeJS.ProcessEnv
  runner?: Runner
}

/** A clone or pull that takes longer is stuck (a server that never answers), not slow. */
const GIT_TIMEOUT_MS = 5 * 60_000
const LOCK_TIMEOUT_MS = 10 * 60_000

export interface RepositorySummary {
  addons: number
  description: string
  name: string
  source: string
}

/** Adds, removes, updates and lists addon repositories; user repositories are git clones under $MK8S_HOME. */
export class RepoService {
  private readonly env: NodeJS.ProcessEnv
  private readonly run: Runner

  constructor(options: RepoServiceOptions = {}) {
    this.env = options.env ?? process.env
    const run = options.runner ?? runProcess
    // git must never prompt: a URL that asks for credentials fails at once instead of waiting on a closed stdin.
    this.run = (command, args, runOptions = {}) =>
      run(command, args, {...runOptions, env: {GIT_TERMINAL_PROMPT: '0', ...runOptions.env}})
  }

  private get root(): string {
    return userRepositoriesDir(this.env)
  }

  private checkName(name: string, action: string): void {
    if (BUNDLED_REPOSITORIES.includes(name)) {
      throw new UserError(`Error: built-in repository '${name}' cannot be ${action}`)
    }

    if (!NAME_PATTERN.test(name) || name.length > 63) {
      throw new UserError(
        `Error: invalid repository name '${name.slice(0, 80)}' (use up to 63 lowercase letters, digits and '-')`,
      )
    }
  }

  /** `shownAs`: where the user knows the files from; a staging folder's path means nothing once it is deleted. */
  private async validate(dir: string, name: string, shownAs = dir): Promise<void> {
    const {problems} = await repositoryProblems(dir, name)
    if (problems.length === 0) return
    const shown = problems.map((p) =>
      p.file?.startsWith(dir) ? {...p, file: `${shownAs}${p.file.slice(dir.length)}`} : p,
    )
    throw new ValidationError(`Repository ${name} is invalid`, shown)
  }

  /**
   * Clones into a hidden staging folder and validates there; only a valid clone is moved into place, so a failed
   * add (or a failed --force replacement) leaves nothing behind and keeps what was there.
   */
  async add(options: {force?: boolean; name: string; reference?: string; source: string}): Promise<RepositorySummary> {
    this.checkName(options.name, 'replaced')
    await this.locked(() => this.addLocked(options))
    return (await this.list()).repositories.find((repo) => repo.name === options.name)!
  }

  /**
   * Repository commands change $MK8S_HOME one at a time: two `repo add` of one name give one repository and one clear
   * failure. Staging folders found under the lock were left by an interrupted add, and are removed.
   */
  private async locked<T>(work: () => Promise<T>): Promise<T> {
    await mkdir(this.root, {recursive: true})
    return withFileLock(join(this.root, '.lock'), LOCK_TIMEOUT_MS, async () => {
      for (const entry of await readdir(this.root)) {
        if (entry.startsWith('.staging-')) await rm(join(this.root, entry), {force: true, recursive: true})
      }

      return work()
    })
  }

  private async addLocked(options: {force?: boolean; name: string; reference?: string; source: string}): Promise<void> {
    const {name, source} = options
    const target = join(this.root, name)
    if ((await pathExists(target)) && !options.force) {
      throw new UserError(`Error: repository '${name}' already exists!`, {
        suggestions: ['Use the --force flag to overwrite it'],
      })
    }

    await mkdir(this.root, {recursive: true})
    const staging = await mkdtemp(join(this.root, `.staging-${name}-`))
    // Interrupted (Ctrl-C, a CI job cancelled): leave no staging folder and no lock behind.
    const interrupted = () => {
      rmSync(staging, {force: true, recursive: true})
      rmSync(join(this.root, '.lock'), {force: true})
      process.exit(130)
    }

    process.once('SIGINT', interrupted)
    process.once('SIGTERM', interrupted)
    try {
      const clone = join(staging, name)
      const args = ['clone', '--quiet', ...(options.reference ? ['--branch', options.reference] : []), source, clone]
      await this.run('git', args, {timeoutMs: GIT_TIMEOUT_MS})
      await this.validate(clone, name, source.replace(/\/+$/, ''))
      if (await pathExists(target)) await rm(target, {force: true, recursive: true})
      await rename(clone, target)
    } finally {
      process.off('SIGINT', interrupted)
      process.off('SIGTERM', interrupted)
      await rm(staging, {force: true, recursive: true})
    }
  }

  async remove({name}: {name: string}): Promise<void> {
    this.checkName(name, 'removed')
    await this.locked(() => this.removeLocked(name))
  }

  private async removeLocked(name: string): Promise<void> {
    const target = join(this.root, name)
    if (!(await pathExists(target))) throw new UserError(`Error: repository '${name}' does not exist`)
    await rm(target, {force: true, recursive: true})
  }

  /** Pulls, validates, and rolls back to the previous commit when the new one is invalid. */
  async update({name}: {name: string}): Promise<{from: string; to: string}> {
    this.checkName(name, 'updated')
    return this.locked(() => this.updateLocked(name))
  }

  private async updateLocked(name: string): Promise<{from: string; to: string}> {
    const target = join(this.root, name)
    if (!(await pathExists(target))) throw new UserError(`Error: repository '${name}' does not exist`)
    const head = async () => (await this.run('git', ['rev-parse', 'HEAD'], {cwd: target})).stdout.trim()
    const before = await head()
    const onBranch = await this.run('git', ['symbolic-ref', '-q', 'HEAD'], {cwd: target}).then(
      () => true,
      () => false,
    )
    if (!onBranch) {
      throw new UserError(
        `Error: repository '${name}' is pinned to a tag or commit (${before.slice(0, 7)}), so there is nothing to pull`,
        {
          suggestions: [`Move it with: mk8s addons repo add ${name} <source> --reference <ref> --force`],
        },
      )
    }

    await this.run('git', ['pull', '--ff-only', '--quiet'], {cwd: target, timeoutMs: GIT_TIMEOUT_MS})
    const after = await head()
    try {
      await this.validate(target, name)
    } catch (error) {
      await this.run('git', ['reset', '--hard', '--quiet', before], {cwd: target})
      if (error instanceof ValidationError) {
        throw new ValidationError(`${error.message}\nRolling back repository ${name} to ${before.slice(0, 7)}`, [])
      }

      throw error
    }

    return {from: before, to: after}
  }

  /**
   * What a user repository is now: its source and whether its checkout is `reference` (a branch, a tag at HEAD or a
   * commit); undefined when there is no such repository.
   */
  async inspect(name: string, reference?: string): Promise<{atReference: boolean; source?: string} | undefined> {
    const dir = join(this.root, name)
    if (!(await pathExists(dir))) return undefined
    const git = async (...args: string[]) =>
      (await this.run('git', args, {cwd: dir, timeoutMs: GIT_TIMEOUT_MS}).catch(() => ({stdout: ''}))).stdout.trim()
    const source = (await git('remote', 'get-url', 'origin')) || undefined
    if (!reference) return {atReference: true, source}
    const [branch, tags, head] = await Promise.all([
      git('symbolic-ref', '--short', '-q', 'HEAD'),
      git('tag', '--points-at', 'HEAD'),
      git('rev-parse', 'HEAD'),
    ])
    const atReference =
      branch === reference ||
      tags.split('\n').includes(reference) ||
      (reference.length >= 7 && head.startsWith(reference))
    return {atReference, source}
  }

  /** Every repository; one that cannot load is a warning, never a failure of the listing. */
  async list(): Promise<{repositories: RepositorySummary[]; warnings: string[]}> {
    const catalog = await AddonCatalog.load({env: this.env})
    const repositories = await Promise.all(
      catalog.repositories.map(async (repo) => {
        let source = '(built-in)'
        if (!repo.bundled) {
          try {
            const url = (await this.run('git', ['remote', 'get-url', 'origin'], {cwd: repo.dir})).stdout.trim()
            const sha = (await this.run('git', ['rev-parse', 'HEAD'], {cwd: repo.dir})).stdout.trim()
            source = `${url}@${sha.slice(0, 6)}`
          } catch {
            // Not a git clone (copied by hand): listed without a source.
          }
        }

        const addons = repo.entries.filter((entry) => entry.architectures.includes(catalog.arch)).length
        return {addons, description: repo.description, name: repo.name, source}
      }),
    )
    return {repositories, warnings: catalog.warnings}
  }
}
