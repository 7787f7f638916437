import {Flags} from '@oclif/core'
import {join} from 'node:path'

import {BaseCommand} from '../base-command.js'

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

  static override flags = {
    'args-dir': Flags.string({
      description: 'folder of the service args files (default: $SNAP_DATA/args with --microk8s)',
    }),
    bind: Flags.string({default: '0.0.0.0:25000', description: 'address and port to listen on'}),
    cert: Flags.string({description: 'serving certificate (PEM); a self-signed pair is generated when none is given'}),
    key: Flags.string({description: 'private key of --cert (PEM)'}),
    microk8s: Flags.boolean({description: 'take every default from the MicroK8s snap on this node'}),
    'restart-command': Flags.string({
      description: 'how to restart services: SERVICE=COMMAND, or COMMAND for all ({service} is replaced)',
      multiple: true,
    }),
    services: Flags.string({
      description: 'comma-separated services the agent may change (default: the Kubernetes services)',
    }),
    timeout: Flags.integer({default: 240, description: 'seconds a request may take, as the Go agent'}),
    'token-file': Flags.string({description: 'file holding the callback token requests must carry'}),
  }

  public async run(): Promise<{address: string; fingerprint: string}> {
    const {flags} = await this.parse(AgentCommand)
    const [{Agent}, config, {UsageError}, {mk8sHome}] = await Promise.all([
      import('../agent/server.js'),
      import('../agent/config.js'),
      import('../errors.js'),
      import('../paths.js'),
    ])
    const snapData = process.env.SNAP_DATA ?? config.MICROK8S_SNAP_DATA
    const microk8s = flags.microk8s ? {snapData} : undefined
    const argsDir = flags['args-dir'] ?? (microk8s && join(snapData, 'args'))
    const tokenFile = flags['token-file'] ?? (microk8s && join(snapData, 'credentials', 'callback-token.txt'))
    if (!argsDir) throw new UsageError('--args-dir is required (or --microk8s)')
    if (!tokenFile) throw new UsageError('--token-file is required (or --microk8s)')
    const {host, port} = config.parseBind(flags.bind)
    const certificate = await config.servingCertificate({
      cert: flags.cert ?? (microk8s && join(snapData, 'certs', 'server.crt')),
      hosts: [host],
      key: flags.key ?? (microk8s && join(snapData, 'certs', 'server.key')),
      stateDir: join(mk8sHome(), 'agent'),
    })
    const {commands, fallback} = config.parseRestartCommands(flags['restart-command'] ?? [])
    const agent = new Agent({
      addon: async (action, name) => {
        const {runProcess} = await import('../host/exec.js')
        if (microk8s)
          await runProcess(join(process.env.SNAP ?? '/snap/microk8s/current', `microk8s-${action}.wrapper`), [name])
        else await runProcess(process.execPath, [process.argv[1], action, name], {timeoutMs: flags.timeout * 1000})
      },
      argsDir,
      cert: certificate.cert,
      key: certificate.key,
      restart: config.restarter({commands, fallback, microk8s}),
      services: flags.services
        ? flags.services
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
        : config.DEFAULT_SERVICES,
      timeoutMs: flags.timeout * 1000,
      tokenFile,
      version: this.config.version,
    })
    const address = await agent.listen(host, port)
    const where = `${address.address}:${address.port}`
    this.notice(`mk8s agent listening on https://${where} (args ${argsDir})`)
    this.notice(
      `certificate SHA-256 fingerprint ${certificate.fingerprint}${certificate.generated ? ' (self-signed, generated)' : ''}`,
    )
    await new Promise<void>((resolve) => {
      const stop = () => void agent.close().then(resolve)
      process.once('SIGTERM', stop)
      process.once('SIGINT', stop)
    })
    return {address: where, fingerprint: certificate.fingerprint}
  }
}
