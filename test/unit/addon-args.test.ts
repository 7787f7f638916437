import {describe, expect, it} from 'vitest'

import {parseAddonArgs} from '../../src/addons/grammar.js'
import {type UserError} from '../../src/errors.js'

// The repositories of MicroK8s's tests/unit/test_addons.py.
const ADDONS = [
  {name: 'addon1', repository: 'core'},
  {name: 'addon2', repository: 'core'},
  {name: 'addon3', repository: 'community'},
  {name: 'conflict', repository: 'core'},
  {name: 'conflict', repository: 'community'},
]

const tuples = (tokens: string[]) => parseAddonArgs(tokens, ADDONS).requests.map((r) => [r.repository, r.name, r.args])

function failure(tokens: string[], available = ADDONS, community?: Set<string>): UserError {
  try {
    parseAddonArgs(tokens, available, community)
  } catch (error) {
    return error as UserError
  }

  throw new Error('expected a failure')
}

describe('parseAddonArgs (MicroK8s parse_xable_addon_args)', () => {
  it.each([
    [['addon1'], [['core', 'addon1', []]]],
    [['core/conflict'], [['core', 'conflict', []]]],
    [['community/conflict', '--with-arg'], [['community', 'conflict', ['--with-arg']]]],
    [['addon1', '--with-arg'], [['core', 'addon1', ['--with-arg']]]],
    [
      ['addon1:arg1', 'addon2:arg2', 'addon3'],
      [
        ['core', 'addon1', ['arg1']],
        ['core', 'addon2', ['arg2']],
        ['community', 'addon3', []],
      ],
    ],
    [
      ['core/addon1:arg1', 'addon2:arg2', 'community/conflict:arg3'],
      [
        ['core', 'addon1', ['arg1']],
        ['core', 'addon2', ['arg2']],
        ['community', 'conflict', ['arg3']],
      ],
    ],
  ])('%j parses as MicroK8s does', (tokens, expected) => {
    expect(tuples(tokens)).toEqual(expected)
  })

  it('splits every further colon into one more argument', () => {
    expect(tuples(['addon1:8.8.8.8,1.1.1.1:x'])).toEqual([['core', 'addon1', ['8.8.8.8,1.1.1.1', 'x']]])
  })

  it('passes unix-style tokens verbatim, positionals and flags alike', () => {
    expect(tuples(['addon1', '10.0.0.1-10.0.0.9', '--flag', 'v'])).toEqual([
      ['core', 'addon1', ['10.0.0.1-10.0.0.9', '--flag', 'v']],
    ])
  })

  it('reports the repository it inferred for a bare name', () => {
    expect(parseAddonArgs(['addon3'], ADDONS).notices).toEqual(['Infer repository community for addon addon3'])
  })

  it('refuses an ambiguous bare name, listing each repo/name, with exit 1', () => {
    const error = failure(['conflict'])
    expect(error.exitCode).toBe(1)
    expect(error.message).toBe(
      'Addon conflict exists in more than repository. Please explicitly specify\nthe repository using any of:\n\n    core/conflict\n    community/conflict\n',
    )
  })

  it('refuses an unknown name with the MicroK8s message', () => {
    const error = failure(['foo'])
    expect(error.exitCode).toBe(1)
    expect(error.message).toBe('Addon foo was not found in any repository')
  })

  it('hints at the community repository when the unknown name is a community addon', () => {
    const available = ADDONS.filter((a) => a.repository === 'core')
    expect(failure(['addon3'], available, new Set(['addon3'])).message).toContain('mk8s enable community')
  })

  it('refuses a name with more than one slash', () => {
    expect(failure(['a/b/c', '--x']).message).toBe('Invalid addon name a/b/c')
  })

  it('refuses colon arguments mixed with flag arguments', () => {
    expect(failure(['addon1:x', '--flag']).message).toContain(
      "Can't pass string arguments and flag arguments simultaneously!",
    )
  })

  it('falls back to the unix form when every available addon is named (the strict-subset quirk)', () => {
    const two = [
      {name: 'a', repository: 'core'},
      {name: 'b', repository: 'core'},
    ]
    // {a, b, core/a, core/b} is the whole set only when all four are named.
    expect(parseAddonArgs(['a', 'b'], two).requests).toHaveLength(2)
    expect(parseAddonArgs(['a', 'b', 'core/a', 'core/b'], two).requests).toEqual([
      {args: ['b', 'core/a', 'core/b'], name: 'a', repository: 'core'},
    ])
  })

  it('takes repo/name as given without checking it exists', () => {
    expect(tuples(['nosuch/thing'])).toEqual([['nosuch', 'thing', []]])
  })

  it('needs at least one addon (a usage error, exit 2)', () => {
    expect(failure([]).exitCode).toBe(2)
  })
})
