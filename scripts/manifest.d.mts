export function buildManifest(root: string): Promise<string>
export function writeManifest(root: string): Promise<void>
export function readManifest(root: string): string
