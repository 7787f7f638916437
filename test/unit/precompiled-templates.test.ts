import {readFileSync, readdirSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'

import {AddonCatalog} from '../../src/addons/catalog.js'
import {templateKey} from '../../src/render/compiled-templates.js'
import {formatManifests, renderOffline} from '../../src/services/render.js'
import {runMk8s} from '../helpers/cli.js'
import {repoRoot, tempDir} from '../helpers/repos.js'

/** Every .hbs file under dir, as text. */
const templates = (dir: string): string[] =>
  readdirSync(dir, {recursive: true, encoding: 'utf8'})
    .filter((file) => file.endsWith('.hbs'))
    .map((file) => readFileSync(join(dir, file), 'utf8'))

describe('precompiled bundled templates', () => {
  it('the build precompiled every bundled manifest template and shared partial', async () => {
    const table = (await import(join(repoRoot, 'dist/render/precompiled-templates.js'))).default as Record<
      string,
      unknown
    >
    const sources = [
      ...templates(join(repoRoot, 'templates', 'partials')),
      ...['core', 'community'].flatMap((repo) => templates(join(repoRoot, 'addons', repo, 'addons'))),
    ].filter((source) => source.includes('{{'))
    expect(sources.length).toBeGreaterThan(10)
    expect(sources.filter((source) => !(templateKey(source) in table))).toEqual([])
  })

  // The built CLI renders from the build's precompiled table; these tests run from src, where every template is
  // compiled at run time: both must print the same manifests, byte for byte.
  it('the built CLI renders every bundled addon exactly as a run-time compile does', async () => {
    const env = {MK8S_ARCH: 'amd64', MK8S_HOME: tempDir()}
    const catalog = await AddonCatalog.load({arch: 'amd64', env})
    const ids = catalog.available().map((entry) => `${entry.repository}/${entry.name}`)
    let compared = 0
    for (const id of ids) {
      const compiled = await renderOffline({arch: 'amd64', tokens: [id]}).then(
        ({plan}) => formatManifests(plan),
        () => undefined,
      )
      const built = await runMk8s(['render', id], env)
      expect({code: built.code === 0, id}).toEqual({code: compiled !== undefined, id})
      if (compiled === undefined) continue
      expect({id, manifests: built.stdout}).toEqual({id, manifests: compiled})
      compared++
    }

    // Most bundled addons render with their defaults; a few need an option, or are MicroK8s hook addons.
    expect(compared).toBeGreaterThan(ids.length / 2)
  }, 120_000)
})
