import {
  type ConfigureBody,
  type ConfigureReply,
  type AgentClient,
  type HealthReply,
  type NodeTarget,
} from '../../src/nodes/agent-client.js'
import {argsMap, editArgs, parseArgsFile} from '../../src/nodes/args-file.js'
import type {NodeFleet} from '../../src/nodes/fleet.js'
import {sleep} from '../../src/util/async.js'

/**
 * Agents for unit tests: each node's args files in memory, edited by the same rules as the real agent, answering
 * after a few milliseconds as a network would; a node in `down` refuses connections as a stopped agent does.
 */
export class FakeAgents implements AgentClient {
  /** `node/enable name` for each addon a configure asked a node for (nodes_addon). */
  readonly addons: string[] = []
  readonly down = new Set<string>()
  readonly files = new Map<string, Map<string, string>>()
  readonly restarts: string[] = []
  readonly nodes: NodeTarget[]

  constructor(names: string[], initial: Record<string, string> = {}) {
    this.nodes = names.map((name, i) => ({address: `127.0.0.${i + 2}:25000`, name}))
    for (const node of this.nodes) this.files.set(node.address, new Map(Object.entries(initial)))
  }

  get fleet(): NodeFleet {
    return {client: this, nodes: this.nodes}
  }

  args(name: string, service: string): Map<string, string> {
    const node = this.nodes.find((n) => n.name === name)!
    return argsMap(this.files.get(node.address)!.get(service) ?? '')
  }

  private async reach(node: NodeTarget): Promise<Map<string, string>> {
    await sleep(3)
    if (this.down.has(node.name)) throw new Error('connection refused (is the agent running?)')
    return this.files.get(node.address)!
  }

  async health(node: NodeTarget): Promise<HealthReply> {
    await this.reach(node)
    return {agent: 'mk8s', status: 'OK', version: 'fake'}
  }

  async arguments(node: NodeTarget, service: string): Promise<{flag: string; value: string}[]> {
    return parseArgsFile((await this.reach(node)).get(service) ?? '').map(({flag, value}) => ({flag, value}))
  }

  async configure(node: NodeTarget, body: Omit<ConfigureBody, 'callback'>): Promise<ConfigureReply> {
    const files = await this.reach(node)
    const services = (body.service ?? []).map((service) => {
      const update = Object.assign({}, ...(service.arguments_update ?? [])) as Record<string, string>
      const result = editArgs(files.get(service.name) ?? '', {remove: service.arguments_remove, update})
      files.set(service.name, result.text)
      // As the real agent: a request that only restarts restarts; one that changes arguments, when they changed.
      const onlyRestart = (service.arguments_remove ?? []).length === 0 && Object.keys(update).length === 0
      const restarted = Boolean(service.restart) && (result.changed || onlyRestart)
      if (restarted) this.restarts.push(`${node.name}/${service.name}`)
      return {changed: result.changed, name: service.name, previous: result.previous, restarted}
    })
    for (const addon of body.addon ?? []) {
      const action = addon.enable ? 'enable' : addon.disable ? 'disable' : undefined
      if (action) this.addons.push(`${node.name}/${action} ${addon.name}`)
    }

    return {result: 'ok', services}
  }
}
