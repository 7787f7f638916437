import {Flags} from '@oclif/core'

import {AGENT_FLAGS} from '../agent/options.js'
import {BaseCommand} from '../base-command.js'

const spec = AGENT_FLAGS

/** The agent's flags for oclif, read from the same table the lean start-up path parses with. */
const flags = {
  'addon-command': Flags.string({description: spec['addon-command'].description}),
  'args-dir': Flags.string({description: spec['args-dir'].description}),
  bind: Flags.string({default: spec.bind.default, description: spec.bind.description}),
  cert: Flags.string({description: spec.cert.description}),
  key: Flags.string({description: spec.key.description}),
  microk8s: Flags.boolean({description: spec.microk8s.description}),
  'restart-command': Flags.string({description: spec['restart-command'].description, multiple: true}),
  services: Flags.string({description: spec.services.description}),
  timeout: Flags.string({default: spec.timeout.default, description: spec.timeout.description}),
  'token-file': Flags.string({description: spec['token-file'].description}),
}

export default class AgentCommand extends BaseCommand {
  static override description = `Run the cluster agent of this node: the MicroK8s protocol over HTTPS on port 25000.

It answers GET /health and POST /cluster/api/v1.0/configure: with the node's callback token, it changes service
arguments in the args files (atomically, keeping a .backup), restarts the services whose file changed, and enables or
disables addons. With --microk8s it takes every default from the MicroK8s snap, so it can replace the Go agent there.`

  static override examples = [
    '<%= config.bin %> <%= command.id %> --microk8s',
    "<%= config.bin %> <%= command.id %> --args-dir /etc/kubernetes/args --token-file /etc/mk8s/token --restart-command 'systemctl restart {service}'",
    "<%= config.bin %> <%= command.id %> --bind 10.0.0.5:25000 --cert server.crt --key server.key --restart-command 'kubelet=systemctl restart kubelet'",
  ]

  static override flags = flags

  public async run(): Promise<{address: string; fingerprint: string}> {
    const parsed = await this.parse(AgentCommand)
    const {serveAgent} = await import('../agent/main.js')
    return serveAgent(parsed.flags, {notice: (line) => this.notice(line), version: this.config.version})
  }
}
