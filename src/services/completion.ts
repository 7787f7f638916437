import {AddonCatalog} from '../addons/catalog.js'

export interface CompletableCommand {
  /** Values an argument is limited to (`completion bash|zsh`). */
  argOptions?: string[]
  flags: {char?: string; name: string}[]
  /** oclif's id: topics joined by ':' (`addons:repo:add`). */
  id: string
}

/** Commands whose arguments are addon names, and the repository commands whose argument is a user repository. */
const TAKES_ADDONS = new Set(['diff', 'disable', 'enable', 'render'])
const TAKES_USER_REPOSITORY = new Set(['addons:repo:remove', 'addons:repo:update'])

/**
 * The words that may come next on a command line: subcommands while no command is complete, then the command's
 * flags when the current word starts with '-', else addon or repository names. The shell filters by prefix.
 */
export async function completionCandidates(options: {
  commands: CompletableCommand[]
  current: string
  env?: NodeJS.ProcessEnv
  previous: string[]
}): Promise<string[]> {
  const {commands, current, previous} = options
  const words = previous.filter((word) => !word.startsWith('-'))
  const command = commands
    .filter((c) => {
      const parts = c.id.split(':')
      return parts.every((part, i) => words[i] === part)
    })
    .sort((a, b) => b.id.split(':').length - a.id.split(':').length)[0]
  if (
    !command ||
    (commands.some((c) => c.id.startsWith(`${command.id}:`)) && words.length === command.id.split(':').length)
  ) {
    // Not a whole command yet: the next word of every command id the words so far lead to.
    const depth = words.length
    const next = commands
      .map((c) => c.id.split(':'))
      .filter((parts) => parts.length > depth && words.every((word, i) => parts[i] === word))
      .map((parts) => parts[depth])
    return [...new Set(next)].sort()
  }

  if (current.startsWith('-')) {
    return command.flags.flatMap((flag) => [`--${flag.name}`, ...(flag.char ? [`-${flag.char}`] : [])]).sort()
  }

  if (TAKES_ADDONS.has(command.id)) {
    const catalog = await AddonCatalog.load({env: options.env})
    return [
      ...new Set(
        catalog
          .available()
          .flatMap((entry) =>
            [entry.name, ...(entry.aliases ?? [])].flatMap((name) => [name, `${entry.repository}/${name}`]),
          ),
      ),
    ].sort()
  }

  if (TAKES_USER_REPOSITORY.has(command.id)) {
    const catalog = await AddonCatalog.load({env: options.env})
    return catalog.repositories.filter((repo) => !repo.bundled).map((repo) => repo.name)
  }

  return command.argOptions ?? []
}
