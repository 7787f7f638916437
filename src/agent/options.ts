/**
 * The agent's flags as plain data: the oclif command (help, --json, the manifest) and the lean start-up path of
 * bin/run.js (node:util parseArgs, no oclif loaded: a long-running server should not carry the CLI) both read them.
 */
export const AGENT_FLAGS = {
  'addon-command': {
    description:
      "how to enable or disable an addon on this node when asked (nodes_addon): COMMAND, {action} and {addon} replaced (default: mk8s itself, or the snap's wrappers with --microk8s)",
    type: 'string',
  },
  'args-dir': {
    description: 'folder of the service args files (default: $SNAP_DATA/args with --microk8s)',
    type: 'string',
  },
  bind: {default: '0.0.0.0:25000', description: 'address and port to listen on', type: 'string'},
  cert: {description: 'serving certificate (PEM); a self-signed pair is generated when none is given', type: 'string'},
  key: {description: 'private key of --cert (PEM)', type: 'string'},
  microk8s: {description: 'take every default from the MicroK8s snap on this node', type: 'boolean'},
  'restart-command': {
    description: 'how to restart services: SERVICE=COMMAND, or COMMAND for all ({service} is replaced)',
    multiple: true,
    type: 'string',
  },
  services: {
    description: 'comma-separated services the agent may change (default: the Kubernetes services)',
    type: 'string',
  },
  timeout: {default: '240', description: 'seconds a request may take, as the Go agent', type: 'string'},
  'token-file': {description: 'file holding the callback token requests must carry', type: 'string'},
} as const

export interface AgentFlagValues {
  'addon-command'?: string
  'args-dir'?: string
  bind: string
  cert?: string
  key?: string
  microk8s?: boolean
  'restart-command'?: string[]
  services?: string
  timeout: string
  'token-file'?: string
}
