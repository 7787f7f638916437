import {readFileSync, readdirSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'

import {AddonCatalog, BUNDLED_REPOSITORIES} from '../../src/addons/catalog.js'
import {bundledAddonsDir, templatesDir} from '../../src/paths.js'
import {hasMustache, templateKey} from '../../src/render/compiled-templates.js'
import * as fromSource from '../../src/services/render.js'
import {runMk8s} from '../helpers/cli.js'
import {repoRoot, tempDir} from '../helpers/repos.js'

/** The build's render service, which renders from its precompiled table. */
const builtRender = async (): Promise<typeof fromSource> =>
  (await import(join(repoRoot, 'dist/services/render.js'))) as typeof fromSource

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
      ...templates(join(templatesDir, 'partials')),
      ...BUNDLED_REPOSITORIES.flatMap((repo) => templates(join(bundledAddonsDir, repo, 'addons'))),
    ].filter(hasMustache)
    expect(sources.length).toBeGreaterThan(10)
    expect(sources.filter((source) => !(templateKey(source) in table))).toEqual([])
  })

  // The build's modules render from its precompiled table; these tests run from src, where every template is compiled
  // at run time: both must give the same manifests, byte for byte, the same node arguments and the same message.
  it('every bundled addon renders from the precompiled table exactly as from a run-time compile', async () => {
    const env = {MK8S_ARCH: 'amd64', MK8S_HOME: tempDir()}
    const built = await builtRender()
    const catalog = await AddonCatalog.load({arch: 'amd64', env})
    const ids = catalog.available().map((entry) => `${entry.repository}/${entry.name}`)
    const outcome = (service: typeof built) => (id: string) =>
      service.renderOffline({arch: 'amd64', tokens: [id]}).then(
        ({plan}) => ({manifests: service.formatManifests(plan), message: plan.message, nodeArgs: plan.nodeArgs}),
        (error: Error) => ({error: error.message}),
      )
    let compared = 0
    for (const id of ids) {
      const compiled = await outcome(fromSource)(id)
      expect({id, ...(await outcome(built)(id))}).toEqual({id, ...compiled})
      if ('manifests' in compiled) compared++
    }

    // Most bundled addons render with their defaults; a few need an option, or are MicroK8s hook addons.
    expect(compared).toBeGreaterThan(ids.length / 2)
  })

  it('the built CLI prints the manifests the built modules render', async () => {
    const env = {MK8S_ARCH: 'amd64', MK8S_HOME: tempDir()}
    const built = await builtRender()
    for (const id of ['core/dns', 'core/ingress', 'community/whoami']) {
      const {plan} = await built.renderOffline({arch: 'amd64', tokens: [id]})
      expect((await runMk8s(['render', id], env)).stdout).toBe(built.formatManifests(plan))
    }
  })
})
