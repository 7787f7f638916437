import fc from 'fast-check'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'

import {parseAddonArgs} from '../../src/addons/grammar.js'
import {loadAddon, loadRepositoryIndex} from '../../src/addons/repository.js'
import {UserError} from '../../src/errors.js'
import {loadCredentials} from '../../src/kube/kubeconfig.js'
import {argsMap, editArgs, parseArgsFile} from '../../src/nodes/args-file.js'
import {tempDir, writeTree} from '../helpers/repos.js'

/** A property holds when the call returns, or throws a UserError (one clear line): anything else is a raw error. */
async function endsCleanly(call: () => unknown): Promise<boolean> {
  try {
    await call()
    return true
  } catch (error) {
    if (error instanceof UserError) return true
    throw error
  }
}

const runs = {numRuns: Number(process.env.MK8S_PROPERTY_RUNS) || 300}
// Text shaped like the files: YAML punctuation, flags, quotes, anchors and aliases, not only random characters.
const piece = fc.oneof(
  fc.string(),
  fc.constantFrom(
    'microk8s-addons:',
    'addons:',
    '  - name: x',
    '    description: d',
    'version: "1"',
    'check_status: pod/x',
    'supported_architectures: [amd64]',
    '- ',
    ': ',
    '&a ',
    '*a',
    '[',
    ']',
    '{',
    '}',
    '"',
    "'",
    '\t',
    '#',
    '---',
    'options:',
    '  a: {type: integer, description: d, default: 1}',
    'clusters:',
    'users:',
    'contexts:',
    'current-context: x',
    'server: https://h:1',
    'token: t',
  ),
)
const yamlish = fc
  .array(fc.tuple(piece, fc.constantFrom('\n', ' ', '\n  ')), {maxLength: 30})
  .map((parts) => parts.map(([text, separator]) => text + separator).join(''))

describe('for arbitrary input, parsers end with a result or a user error', () => {
  it('the addon grammar', async () => {
    const available = [
      {name: 'dns', repository: 'core'},
      {name: 'dns', repository: 'community'},
      {name: 'metallb', repository: 'core'},
    ]
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(fc.string(), fc.constantFrom('dns', 'core/dns', 'metallb:1.2.3.4', ':', '--', '-h', 'a/b/c')),
          {maxLength: 8},
        ),
        (tokens) => endsCleanly(() => parseAddonArgs(tokens, available)),
      ),
      runs,
    )
  })

  it('the args-file parser and editor: never throws, and an update is what the file then says', () => {
    const flag = fc.stringMatching(/^--[a-z][a-z0-9-]{0,12}$/)
    const value = fc.stringMatching(/^[A-Za-z0-9.,=:/_-]{0,20}$/)
    fc.assert(
      fc.property(
        fc.string(),
        fc.dictionary(flag, value, {maxKeys: 4}),
        fc.array(flag, {maxLength: 3}),
        (text, update, remove) => {
          parseArgsFile(text)
          const edited = editArgs(text, {remove, update})
          const after = argsMap(edited.text)
          for (const [name, wanted] of Object.entries(update)) expect(after.get(name)).toBe(wanted)
          for (const name of remove) if (!(name in update)) expect(after.has(name)).toBe(false)
        },
      ),
      runs,
    )
  })

  it('the addons.yaml and addon.yaml loaders', async () => {
    await fc.assert(
      fc.asyncProperty(yamlish, async (text) => {
        const dir = writeTree(tempDir('mk8s-prop-'), {'addons.yaml': text, 'addons/x/addon.yaml': text})
        const entry = {
          architectures: ['amd64'],
          checkStatus: '',
          description: '',
          name: 'x',
          repository: 'r',
          version: '1',
        }
        return (
          (await endsCleanly(() => loadRepositoryIndex(dir, 'r'))) &&
          (await endsCleanly(() => loadAddon({description: '', dir, entries: [entry], name: 'r'}, entry)))
        )
      }),
      {numRuns: Math.round(runs.numRuns * 0.7)},
    )
  })

  it('the kubeconfig loader', async () => {
    const dir = tempDir('mk8s-prop-')
    const file = join(dir, 'config')
    await fc.assert(
      fc.asyncProperty(yamlish, async (text) => {
        writeFileSync(file, text)
        return endsCleanly(() => loadCredentials({kubeconfig: file}))
      }),
      // A counterexample CI once found: a section that is a mapping where a list belongs.
      {
        ...runs,
        examples: [['users:\n  microk8s-addons:\n'], ['clusters: {a: b}\n'], ['contexts: [{name: x, context: 3}]\n']],
      },
    )
  })
})
