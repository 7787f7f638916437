/** MicroK8s's pattern for addon and repository names: lowercase letters, digits and '-', no '-' at either end. */
export const NAME_PATTERN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/

/** `clusterDomain` → `cluster-domain`: how option names read on a command line. */
export const kebabCase = (name: string): string => name.replaceAll(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)

/** Expands `${VAR}` and `$VAR` as a shell would, an unset variable becoming empty. */
export function expandVariables(text: string, env: NodeJS.ProcessEnv): string {
  return text.replaceAll(
    /\$\{([A-Za-z_]\w*)\}|\$([A-Za-z_]\w*)/g,
    (_, braced?: string, bare?: string) => env[(braced ?? bare)!] ?? '',
  )
}

/** `repo/name` or a bare `name`: the repository part is undefined for a bare name. */
export function splitAddonRef(ref: string): {name: string; repository?: string} {
  const slash = ref.indexOf('/')
  return slash === -1 ? {name: ref} : {name: ref.slice(slash + 1), repository: ref.slice(0, slash)}
}

/** True when `candidate` is the addon `ref` names, by `name` or by `repo/name`. */
export function matchesAddonRef(
  candidate: {aliases?: string[]; name: string; repository: string},
  ref: string,
): boolean {
  const {name, repository} = splitAddonRef(ref)
  const named = candidate.name === name || (candidate.aliases?.includes(name) ?? false)
  return named && (repository === undefined || candidate.repository === repository)
}

export const plural = (count: number, noun: string): string => `${count} ${noun}${count === 1 ? '' : 's'}`

/**
 * Orders strings by code point, the same on every machine whatever its locale. Not localeCompare: its first call
 * builds ICU's collator, about 5 ms of every start of a command that sorts.
 */
export const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)
