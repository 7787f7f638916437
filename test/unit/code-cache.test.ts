import {execFileSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {cpSync, mkdirSync, readFileSync, readdirSync, statSync, utimesSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'

import {runMk8s} from '../helpers/cli.js'
import {repoRoot, tempDir} from '../helpers/repos.js'

/** The code caches bin/run.js keeps in this user's cache folder. */
const ownCaches = (cacheHome: string): string[] => {
  try {
    return readdirSync(join(cacheHome, 'mk8s')).filter((name) => name.startsWith('code-'))
  } catch {
    return []
  }
}

describe('the code cache', () => {
  // A V8 flag the build did not run with makes V8 refuse the cache the build made, as another Node version would.
  const otherFlags = {NODE_OPTIONS: '--max-old-space-size=300'}

  it('uses the cache the build made, and writes none of its own', async () => {
    const cacheHome = tempDir()
    const result = await runMk8s(['render', 'dns'], {XDG_CACHE_HOME: cacheHome})
    expect(result.code).toBe(0)
    expect(ownCaches(cacheHome)).toEqual([])
  })

  it('where the built cache is refused, writes one for this Node once, then starts from it', async () => {
    const cacheHome = tempDir()
    const first = await runMk8s(['render', 'dns'], {...otherFlags, XDG_CACHE_HOME: cacheHome})
    expect(first.code).toBe(0)
    const [cache] = ownCaches(cacheHome)
    expect(cache).toMatch(/^code-v\d+\.\d+\.\d+-/)
    const file = join(cacheHome, 'mk8s', cache)
    const written = statSync(file).mtimeMs

    const second = await runMk8s(['render', 'dns'], {...otherFlags, XDG_CACHE_HOME: cacheHome})
    expect(second.stdout).toBe(first.stdout)
    // Accepted, so not written again.
    expect(statSync(file).mtimeMs).toBe(written)
    expect(ownCaches(cacheHome)).toEqual([cache])
  })

  it('never starts one bundle from the cache of another of the same length and time', () => {
    // Given two installs of mk8s whose bundles differ by one character (a one-character fix; npm gives every file the
    // same mtime), sharing one cache folder, on a Node that refuses the build's cache
    const cacheHome = tempDir()
    const install = (answer: string) => {
      const dir = tempDir()
      cpSync(join(repoRoot, 'bin'), join(dir, 'bin'), {recursive: true})
      writeFileSync(join(dir, 'package.json'), JSON.stringify({name: 'mk8s', oclif: {}, version: '0.0.0'}))
      mkdirSync(join(dir, 'dist', 'bundle'), {recursive: true})
      const bundle = join(dir, 'dist', 'bundle', 'main.cjs')
      writeFileSync(bundle, `exports.COMMANDS = {}\nexports.run = function () { console.log('${answer}') }\n`)
      writeFileSync(
        join(dir, 'dist', 'bundle', 'main.id'),
        createHash('sha256').update(readFileSync(bundle)).digest('hex'),
      )
      utimesSync(bundle, new Date('1985-10-26T08:15:00Z'), new Date('1985-10-26T08:15:00Z'))
      return (): string =>
        execFileSync(process.execPath, [join(dir, 'bin', 'run.js'), 'anything'], {
          encoding: 'utf8',
          env: {...process.env, XDG_CACHE_HOME: cacheHome},
        }).trim()
    }

    const first = install('first')
    const other = install('other')
    // When each runs twice
    // Then each runs its own code, from a cache of its own
    expect([first(), first(), other(), other()]).toEqual(['first', 'first', 'other', 'other'])
    expect(ownCaches(cacheHome)).toHaveLength(2)
  })

  it('names its own cache by the content id the build wrote beside the bundle', () => {
    const bundle = join(repoRoot, 'dist', 'bundle', 'main.cjs')
    const id = readFileSync(join(repoRoot, 'dist', 'bundle', 'main.id'), 'utf8')
    expect(id).toBe(createHash('sha256').update(readFileSync(bundle)).digest('hex').slice(0, 32))
  })

  it('a damaged cache of its own is refused by V8 and written again; the command still runs', async () => {
    const cacheHome = tempDir()
    await runMk8s(['render', 'dns'], {...otherFlags, XDG_CACHE_HOME: cacheHome})
    const [cache] = ownCaches(cacheHome)
    const file = join(cacheHome, 'mk8s', cache)
    const good = readFileSync(file)
    writeFileSync(file, Buffer.alloc(good.length, 7))

    const result = await runMk8s(['render', 'dns'], {...otherFlags, XDG_CACHE_HOME: cacheHome})
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('kind: Deployment')
    expect(readFileSync(file).equals(Buffer.alloc(good.length, 7))).toBe(false)
  })
})
