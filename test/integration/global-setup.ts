import {defaultClusterDir, down, up} from '../../scripts/cluster/cluster.mjs'

/** Starts the control plane once for the run and always stops it, even when tests fail. */
export async function setup(): Promise<() => Promise<void>> {
  try {
    await up(defaultClusterDir)
  } catch (error) {
    await down(defaultClusterDir).catch(() => {})
    throw error
  }

  return () => down(defaultClusterDir)
}
