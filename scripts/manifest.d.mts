export function buildManifest(
  root: string,
): Promise<{commands: Record<string, {flags: Record<string, unknown>; id: string}>}>
export function writeManifest(root: string): Promise<{commands: Record<string, unknown>}>
export function writeCommandIndex(root: string, manifest: {commands: Record<string, unknown>}): void
