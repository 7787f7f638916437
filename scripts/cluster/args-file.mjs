// Reads a MicroK8s service args file the way kubelite does: one or more flags per line,
// `#` comments, surrounding quotes stripped, ${VAR} and $VAR expanded from the given environment.

/** Splits one line into tokens, honouring single and double quotes and dropping them. */
export function splitArgsLine(line) {
  const tokens = []
  let current = ''
  let quote = null
  let started = false
  for (const char of line) {
    if (quote) {
      if (char === quote) quote = null
      else current += char
    } else if (char === '"' || char === "'") {
      quote = char
      started = true
    } else if (/\s/.test(char)) {
      if (started || current) tokens.push(current)
      current = ''
      started = false
    } else {
      current += char
    }
  }

  if (started || current) tokens.push(current)
  return tokens
}

export function expandVariables(text, env) {
  return text.replaceAll(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (_, braced, bare) => env[braced ?? bare] ?? '',
  )
}

export function parseArgsFile(text, env = {}) {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .flatMap((line) => splitArgsLine(expandVariables(line, env)))
}
