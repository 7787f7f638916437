export const defaultClusterDir: string
export const NODES: {ip: string; name: string}[]
export function up(dir?: string): Promise<void>
export function down(dir?: string): Promise<void>
export function restartApiserver(dir?: string): Promise<void>
export function status(dir?: string): void
