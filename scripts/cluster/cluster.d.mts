export const defaultClusterDir: string
export const NODES: {ip: string; name: string}[]
export function up(dir?: string): Promise<void>
export function down(dir?: string): Promise<void>
export function restartApiserver(dir?: string): Promise<void>
export function status(dir?: string): void
export const AGENT_PORT: number
export function agentTokenFile(dir?: string): string
export function nodeDir(dir: string, node: string): string
export function restartLog(dir: string, node: string): string
export function addonLog(dir: string, node: string): string
export function startAgent(dir: string | undefined, name: string): Promise<void>
export function stopAgent(dir: string | undefined, name: string): Promise<void>
