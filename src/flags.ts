import {Flags} from '@oclif/core'

import {UsageError} from './errors.js'

/** Flags shared by every command that renders addons: options, values files and image overrides. */
export const renderFlags = {
  image: Flags.string({
    description: 'override an addon image by its key (key=image-reference)',
    helpValue: 'KEY=REF',
    multiple: true,
  }),
  'registry-mirror': Flags.string({
    description: 'pull images of a registry from a mirror (registry=mirror)',
    helpValue: 'FROM=TO',
    multiple: true,
  }),
  set: Flags.string({description: 'set an addon option (key=value)', helpValue: 'KEY=VALUE', multiple: true}),
  values: Flags.string({
    char: 'f',
    description: 'read addon options from a YAML file',
    helpValue: 'FILE',
    multiple: true,
  }),
}

export const formatFlag = (options: readonly string[], defaultValue: string) =>
  Flags.string({default: defaultValue, description: 'output format', options: [...options]})

/** Flags of every command that talks to a cluster, named as kubectl names them. */
export const clusterFlags = {
  context: Flags.string({description: 'kubeconfig context to use'}),
  kubeconfig: Flags.string({description: 'path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)'}),
}

export const changeFlags = {
  'dry-run': Flags.string({
    description: 'client: print the plan without a cluster write; server: server-side dry run',
    options: ['client', 'server'],
  }),
  'force-conflicts': Flags.boolean({description: 'take over fields another field manager owns'}),
  'no-wait': Flags.boolean({description: 'do not wait for the addon objects to become ready'}),
  timeout: Flags.string({
    default: '5m',
    description: 'how long to wait for readiness and for the cluster lock (for example 90s, 5m)',
  }),
}

/** How far enable waits; `full` is the only way to wait for what fake or absent pods cannot serve. */
export const waitFlags = {
  wait: Flags.string({
    default: 'ready',
    description:
      "ready: wait for the addon's objects, and for its own pods where an APIService is served by them; full: also wait until those APIServices answer",
    exclusive: ['no-wait'],
    options: ['ready', 'full'],
  }),
}

/** `90s`, `5m`, `1h` or plain seconds, in milliseconds. */
export function parseDuration(value: string, flag = '--timeout'): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim())
  if (!match) throw new UsageError(`${flag} ${value}: expected a duration such as 90s, 5m or 1h`)
  const unit = {h: 3_600_000, m: 60_000, ms: 1, s: 1000}[match[2] ?? 's']!
  return Number(match[1]) * unit
}

/** Flags of every command that talks to the nodes' agents. */
export const agentFlags = {
  'agent-ca': Flags.string({
    description: "CA that signs the agents' certificates (default: the kubeconfig's cluster CA)",
    helpValue: 'FILE',
  }),
  'agent-timeout': Flags.string({default: '30s', description: 'how long each node may take to answer'}),
  'agent-token-file': Flags.string({
    description:
      "callback token of the agents (default: $MK8S_AGENT_TOKEN_FILE, or MicroK8s's credentials/callback-token.txt)",
    helpValue: 'FILE',
  }),
  'insecure-skip-tls-verify': Flags.boolean({description: "do not verify the agents' certificates (insecure)"}),
  node: Flags.string({
    description: "a node's agent (HOST:PORT); repeat for more (default: every Node's InternalIP:25000)",
    multiple: true,
  }),
}

/** Flags of the commands that run MicroK8s hook addons: the programs their wrappers call. */
export const hookFlags = {
  helm: Flags.string({description: "helm for hook addons' helm wrappers (default: helm on PATH)", helpValue: 'PATH'}),
  kubectl: Flags.string({
    description: "kubectl for hook addons' kubectl wrappers (default: kubectl on PATH)",
    helpValue: 'PATH',
  }),
}

/**
 * The command line with what is not the command's own set apart, for commands whose arguments carry flags of their
 * own: an addon's (`enable hostpath-storage --reclaim-policy Retain`, as MicroK8s passes them to the addon) or a
 * service's (`nodes args set kubelet --max-pods=200`). From the first argument on, every token that is not one of the
 * command's flags (with its value) goes behind `--`, in order, so oclif hands it over as an argument. The command's
 * own flags keep their meaning wherever they are written, and come after the arguments (a flag taking many values
 * would swallow them); before the first argument an unknown flag stays an error.
 */
export function ownFlagsFirst(argv: string[], flags: Record<string, {char?: string; type: string}>): string[] {
  // --json is oclif's own, added by enableJsonFlag.
  const known = new Map<string, {type: string}>([['--json', {type: 'boolean'}]])
  for (const [name, flag] of Object.entries(flags)) {
    known.set(`--${name}`, flag)
    if (flag.type === 'boolean') known.set(`--no-${name}`, flag)
    if (flag.char) known.set(`-${flag.char}`, flag)
  }

  const positional: string[] = []
  const own: string[] = []
  const passed: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]
    if (token === '--') {
      passed.push(...argv.slice(i + 1))
      break
    }

    const flag = token.startsWith('-') && token !== '-' ? known.get(token.split('=')[0]) : undefined
    if (flag) {
      own.push(token)
      if (flag.type === 'option' && !token.includes('=') && i + 1 < argv.length) own.push(argv[++i])
    } else if (positional.length === 0 && token.startsWith('-') && token !== '-') own.push(token)
    else if (positional.length === 0) positional.push(token)
    else passed.push(token)
  }

  return [...positional, ...own, '--', ...passed]
}

/** Flags of `nodes args set` and `nodes args remove`. */
export const nodeChangeFlags = {
  ...clusterFlags,
  ...agentFlags,
  'no-restart': Flags.boolean({description: 'change the files without restarting the service'}),
}
