import {UsageError, UserError} from '../errors.js'

export interface AddonRef {
  name: string
  repository: string
}

export interface AddonRequest extends AddonRef {
  /** Positional and flag tokens for the addon, as MicroK8s passes them to a hook. */
  args: string[]
}

export interface ParsedAddonArgs {
  /** Lines MicroK8s prints on stderr while parsing, such as "Infer repository core for addon dns". */
  notices: string[]
  requests: AddonRequest[]
}

/** A token as an error message quotes it: a user's 10,000-character argument is not echoed whole. */
const shown = (token: string) => (token.length > 80 ? `${token.slice(0, 80)}…` : token)

/** Ports MicroK8s's parse_xable_single_arg: `[repo/]name[:arg[:arg…]]`. */
function parseSingle(
  token: string,
  available: AddonRef[],
  notices: string[],
  communityNames: Set<string>,
): AddonRequest {
  const [addonName, ...args] = token.split(':')
  const parts = addonName.split('/')
  if (parts.length === 2) return {args, name: parts[1], repository: parts[0]}
  if (parts.length > 2) throw new UserError(`Invalid addon name ${shown(addonName)}`)
  const matches = available.filter((addon) => addon.name === addonName).map((addon) => addon.repository)
  if (matches.length === 0) {
    const hint = communityNames.has(addonName)
      ? [
          'To use the community maintained flavor enable the respective repository:',
          '',
          '    mk8s enable community',
          '',
        ]
      : []
    throw new UserError([`Addon ${shown(addonName)} was not found in any repository`, ...hint].join('\n'))
  }

  if (matches.length > 1) {
    throw new UserError(
      [
        `Addon ${addonName} exists in more than repository. Please explicitly specify`,
        'the repository using any of:',
        '',
        ...matches.map((repository) => `    ${repository}/${addonName}`),
        '',
      ].join('\n'),
    )
  }

  notices.push(`Infer repository ${matches[0]} for addon ${addonName}`)
  return {args, name: addonName, repository: matches[0]}
}

/**
 * Ports MicroK8s's parse_xable_addon_args. When every token names a known addon (a strict subset of the known
 * names), each token is one addon with `:`-separated arguments; otherwise the first token is the addon and the
 * rest are passed to it verbatim, unix style.
 */
export function parseAddonArgs(
  tokens: string[],
  available: AddonRef[],
  communityNames: Set<string> = new Set(),
): ParsedAddonArgs {
  if (tokens.length === 0) throw new UsageError('Error: Missing argument "ADDONS...".')
  const notices: string[] = []
  const known = new Set([...available.map((a) => a.name), ...available.map((a) => `${a.repository}/${a.name}`)])
  const names = new Set(tokens.map((token) => token.split(':')[0]))
  const strictSubset = [...names].every((name) => known.has(name)) && names.size < known.size
  if (strictSubset) {
    const requests = tokens.map((token) => parseSingle(token, available, notices, communityNames))
    const ids = requests.map((r) => `${r.repository}/${r.name}`)
    const twice = ids.find((id, i) => ids.indexOf(id) !== i)
    if (twice) throw new UsageError(`Addon ${twice} is named twice: name each addon once`)
    return {notices, requests}
  }

  const [first, ...rest] = tokens
  if (first.includes(':') && rest.length > 0) {
    throw new UserError(
      [
        "Can't pass string arguments and flag arguments simultaneously!",
        '',
        'Use either of the following forms:',
        '    mk8s enable <addon>:<arg1>:<arg2>',
        '    mk8s enable <addon> --flag value <positional>',
      ].join('\n'),
    )
  }

  const request = parseSingle(first, available, notices, communityNames)
  return {notices, requests: [{...request, args: [...request.args, ...rest]}]}
}
