/**
 * MicroK8s service args files ($SNAP_DATA/args/<service>): one or more flags per line, `--flag=value` or
 * `--flag value`, quotes around values, `#` comments and blank lines. Edits follow the Go cluster agent
 * (UpdateServiceArguments): an updated flag is rewritten in place as `--flag=value`, a removed one is dropped, a new
 * one is appended at the end, and a flag both updated and removed is updated. Unlike the agent, comments, blank lines
 * and the other flags of a line are kept as written.
 */

/** One flag as written: its name (with dashes), its value (quotes removed; '' for a bare flag), its text. */
export interface ArgFlag {
  flag: string
  raw: string
  value: string
}

export interface ArgsEdit {
  remove?: string[]
  update?: Record<string, string>
}

export interface ArgsEditResult {
  changed: boolean
  /** Each flag's value before the edit, or null where the flag was not set: what a later restore puts back. */
  previous: Record<string, null | string>
  text: string
}

/** A flag name as the agent accepts it: dashes, then letters, digits, '-', '_' or '.'. */
export const FLAG_NAME = /^--?[A-Za-z0-9][-A-Za-z0-9_.]*$/

interface Token {
  raw: string
  text: string
}

/** Splits a line into words as a shell would: whitespace separates, quotes group and are removed. */
function tokenize(line: string): Token[] {
  const tokens: Token[] = []
  let i = 0
  while (i < line.length) {
    while (i < line.length && /\s/.test(line[i])) i++
    if (i >= line.length) break
    const start = i
    let text = ''
    let quote: string | undefined
    while (i < line.length && (quote || !/\s/.test(line[i]))) {
      const char = line[i]
      if (quote) {
        if (char === quote) quote = undefined
        else text += char
      } else if (char === '"' || char === "'") quote = char
      else text += char
      i++
    }

    tokens.push({raw: line.slice(start, i), text})
  }

  return tokens
}

/**
 * The flags of one line. As in the agent, a flag without `=` takes the rest of the words up to the next flag as its
 * value (`--key value value` is `value value`); a word before any flag is kept as a flag of its own, valueless.
 */
export function parseArgsLine(line: string): ArgFlag[] {
  const flags: ArgFlag[] = []
  for (const token of tokenize(line)) {
    const last = flags.at(-1)
    if (!token.text.startsWith('-') && last && !last.raw.includes('=')) {
      last.value = last.value ? `${last.value} ${token.text}` : token.text
      last.raw = `${last.raw} ${token.raw}`
      continue
    }

    const eq = token.text.indexOf('=')
    flags.push(
      eq === -1
        ? {flag: token.text, raw: token.raw, value: ''}
        : {flag: token.text.slice(0, eq), raw: token.raw, value: token.text.slice(eq + 1)},
    )
  }

  return flags
}

const isComment = (line: string) => line.trim() === '' || line.trim().startsWith('#')

/** Every flag of a file, in order; a flag set twice appears twice (the last one wins for kubelite). */
export function parseArgsFile(text: string): ArgFlag[] {
  return text.split('\n').flatMap((line) => (isComment(line) ? [] : parseArgsLine(line)))
}

/** The value a file gives each flag: the last occurrence, as a command line's last flag wins. */
export function argsMap(text: string): Map<string, string> {
  return new Map(parseArgsFile(text).map((f) => [f.flag, f.value]))
}

/** Applies an edit; `changed` is false when the text stays the same byte for byte. */
export function editArgs(text: string, edit: ArgsEdit): ArgsEditResult {
  const update = new Map(Object.entries(edit.update ?? {}))
  // The update wins over a removal of the same flag, as upstream.
  const remove = new Set((edit.remove ?? []).filter((flag) => !update.has(flag)))
  const current = argsMap(text)
  const previous: Record<string, null | string> = {}
  for (const flag of [...update.keys(), ...remove]) previous[flag] = current.get(flag) ?? null

  const written = new Set<string>()
  const lines = text === '' ? [] : text.replace(/\n$/, '').split('\n')
  const out: string[] = []
  for (const line of lines) {
    if (isComment(line)) {
      out.push(line)
      continue
    }

    const flags = parseArgsLine(line)
    if (!flags.some((f) => update.has(f.flag) || remove.has(f.flag))) {
      out.push(line)
      continue
    }

    const kept = flags.flatMap((f) => {
      if (remove.has(f.flag)) return []
      if (!update.has(f.flag)) return [f.raw]
      written.add(f.flag)
      return [`${f.flag}=${update.get(f.flag)}`]
    })
    if (kept.length > 0) out.push(kept.join(' '))
  }

  for (const [flag, value] of update) if (!written.has(flag)) out.push(`${flag}=${value}`)
  const result = out.length > 0 ? `${out.join('\n')}\n` : ''
  return {changed: result !== text, previous, text: result}
}

/**
 * Service flags from a command line (`--flag=value`, `--flag value`, `--flag`): what `nodes args set` takes after
 * `--`. A flag given twice keeps its last value.
 */
export function parseFlagTokens(tokens: string[]): Record<string, string> {
  const flags: Record<string, string> = {}
  let last: string | undefined
  for (const token of tokens) {
    if (token.startsWith('-')) {
      const eq = token.indexOf('=')
      last = eq === -1 ? token : token.slice(0, eq)
      flags[last] = eq === -1 ? '' : token.slice(eq + 1)
      if (eq !== -1) last = undefined
    } else if (last) {
      flags[last] = flags[last] ? `${flags[last]} ${token}` : token
    } else {
      throw new Error(`"${token}" is not a flag: service flags are written --name=value`)
    }
  }

  return flags
}
