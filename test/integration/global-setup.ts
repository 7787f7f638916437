import {defaultClusterDir, down, up} from '../../scripts/cluster/cluster.mjs'

/** Starts the control plane once for the run and always stops it, even when tests fail. */
export async function setup(): Promise<() => Promise<void>> {
  // up stops what it started when it fails, and leaves alone a cluster someone else has running.
  await up(defaultClusterDir)
  return () => down(defaultClusterDir)
}
