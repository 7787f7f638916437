import {readFileSync, readdirSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'

import {runMk8s} from '../helpers/cli.js'
import {tempDir} from '../helpers/repos.js'

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
