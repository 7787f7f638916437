import {readFileSync, readdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'

import {ArgsStore} from '../../src/agent/args-store.js'
import {argsMap, editArgs, parseArgsLine, parseFlagTokens} from '../../src/nodes/args-file.js'
import {fixtures, needsUpstreamFixtures, tempDir, upstreamFixtures} from '../helpers/repos.js'

describe('args file parsing (the Go agent: ParseArgumentLine)', () => {
  it.each([
    ['--key=value', '--key', 'value'],
    ['--key value', '--key', 'value'],
    ['--key value value', '--key', 'value value'],
    ['--key=', '--key', ''],
    ['--key', '--key', ''],
    ['--etcd-servers="unix://x/kine.sock:12379"', '--etcd-servers', 'unix://x/kine.sock:12379'],
    [
      "--service-account-issuer='https://kubernetes.default.svc'",
      '--service-account-issuer',
      'https://kubernetes.default.svc',
    ],
    ['--bind 0.0.0.0:25000', '--bind', '0.0.0.0:25000'],
    ['--a=b=c', '--a', 'b=c'],
  ])('%s → %s = %s', (line, flag, value) => {
    expect(parseArgsLine(line)[0]).toMatchObject({flag, value})
  })

  it('reads several flags on one line', () => {
    expect(parseArgsLine('--multiple=keys --in-the-same-row=x').map((f) => [f.flag, f.value])).toEqual([
      ['--multiple', 'keys'],
      ['--in-the-same-row', 'x'],
    ])
  })

  it('skips comments and blank lines, and the last occurrence of a flag wins', () => {
    expect([...argsMap('# comment\n\n--a=1\n#~ also a comment\n--a=2 --b\n')]).toEqual([
      ['--a', '2'],
      ['--b', ''],
    ])
  })
})

describe('args file editing (the Go agent: UpdateServiceArguments)', () => {
  it('rewrites an updated flag in place as --key=value, converting the space form', () => {
    const {changed, previous, text} = editArgs('--a=1\n--key value\n--z=9\n', {update: {'--key': 'new'}})
    expect(text).toBe('--a=1\n--key=new\n--z=9\n')
    expect(changed).toBe(true)
    expect(previous).toEqual({'--key': 'value'})
  })

  it('appends new flags at the end, and records that they were not set', () => {
    const {previous, text} = editArgs('--a=1\n', {update: {'--new': 'x'}})
    expect(text).toBe('--a=1\n--new=x\n')
    expect(previous).toEqual({'--new': null})
  })

  it('removes flags, and the update wins when a flag is both updated and removed', () => {
    expect(editArgs('--a=1\n--b=2\n--c=3\n', {remove: ['--b', '--c'], update: {'--c': '4'}}).text).toBe(
      '--a=1\n--c=4\n',
    )
  })

  it('keeps comments, blank lines and the other flags of a line as written', () => {
    const text = '# header\n--a="quoted value"\n\n--multiple=keys --in-the-same-row=x\n#~ trailer\n'
    const {text: edited} = editArgs(text, {remove: ['--multiple'], update: {'--in-the-same-row': 'y'}})
    expect(edited).toBe('# header\n--a="quoted value"\n\n--in-the-same-row=y\n#~ trailer\n')
  })

  it('treats a missing file as empty and ends the file with a newline', () => {
    expect(editArgs('', {update: {'--a': '1'}}).text).toBe('--a=1\n')
    expect(editArgs('--a=1', {update: {'--b': '2'}}).text).toBe('--a=1\n--b=2\n')
  })

  it('says unchanged when the value is already there, and when removing an absent flag', () => {
    expect(editArgs('--a=1\n', {update: {'--a': '1'}}).changed).toBe(false)
    expect(editArgs('--a=1\n', {remove: ['--b']}).changed).toBe(false)
  })

  it('edits every one of our MicroK8s-format default args files and restores them exactly', () => {
    const dir = join(fixtures, 'default-args')
    for (const service of readdirSync(dir)) {
      const original = readFileSync(join(dir, service), 'utf8')
      const changed = editArgs(original, {remove: ['--profiling'], update: {'--cluster-dns': '10.152.183.10'}})
      expect(changed.text).toContain('--cluster-dns=10.152.183.10\n')
      // Restoring the previous values gives the file back byte for byte, except a removed flag's place.
      const restoreUpdate = Object.fromEntries(
        Object.entries(changed.previous).filter(([, v]) => v !== null),
      ) as Record<string, string>
      const restoreRemove = Object.entries(changed.previous)
        .filter(([, v]) => v === null)
        .map(([k]) => k)
      const restored = editArgs(changed.text, {remove: restoreRemove, update: restoreUpdate}).text
      expect(argsMap(restored)).toEqual(argsMap(original))
    }
  })

  it('edits the real upstream default args files (needs ../shared/fixtures/microk8s-upstream)', (context) => {
    needsUpstreamFixtures(context)
    const dir = join(upstreamFixtures, 'default-args')
    for (const service of readdirSync(dir)) {
      const original = readFileSync(join(dir, service), 'utf8')
      const before = argsMap(original)
      const {text} = editArgs(original, {update: {'--mk8s-test': 'x'}})
      expect(text.startsWith(original.endsWith('\n') ? original : `${original}\n`)).toBe(true)
      expect(argsMap(text)).toEqual(new Map([...before, ['--mk8s-test', 'x']]))
      expect(editArgs(text, {remove: ['--mk8s-test']}).text).toBe(original.endsWith('\n') ? original : `${original}\n`)
    }
  })
})

describe('service flags on the command line', () => {
  it('takes --flag=value, --flag value and bare flags', () => {
    expect(parseFlagTokens(['--cluster-dns=10.152.183.10', '--cluster-domain', 'cluster.local', '--v'])).toEqual({
      '--cluster-dns': '10.152.183.10',
      '--cluster-domain': 'cluster.local',
      '--v': '',
    })
    expect(() => parseFlagTokens(['value'])).toThrow('"value" is not a flag')
  })
})

describe('ArgsStore', () => {
  it('keeps the previous content as .backup and writes atomically', async () => {
    const dir = tempDir('mk8s-args-')
    writeFileSync(join(dir, 'kubelet'), '--a=1\n')
    const store = new ArgsStore(dir)
    await store.edit('kubelet', {update: {'--a': '2'}})
    expect(readFileSync(join(dir, 'kubelet'), 'utf8')).toBe('--a=2\n')
    expect(readFileSync(join(dir, 'kubelet.backup'), 'utf8')).toBe('--a=1\n')
    expect(readdirSync(dir).sort()).toEqual(['kubelet', 'kubelet.backup'])
  })

  it('loses no update when 50 edits of one file run at once', async () => {
    const dir = tempDir('mk8s-args-')
    writeFileSync(join(dir, 'kubelet'), '# kept\n')
    const store = new ArgsStore(dir)
    await Promise.all(Array.from({length: 50}, (_, i) => store.edit('kubelet', {update: {[`--flag-${i}`]: String(i)}})))
    const flags = argsMap(readFileSync(join(dir, 'kubelet'), 'utf8'))
    expect(flags.size).toBe(50)
    for (let i = 0; i < 50; i++) expect(flags.get(`--flag-${i}`)).toBe(String(i))
  })
})
