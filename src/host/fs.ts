import {open, stat} from 'node:fs/promises'

import {UserError} from '../errors.js'

export async function pathExists(path: string): Promise<boolean> {
  try {
    await stat(path)
    return true
  } catch {
    return false
  }
}

/**
 * Reads a text file of at most `limit` bytes: a larger one (or a device that never ends) is refused with its name,
 * without reading more than the limit. Errors of the file system (ENOENT, EACCES) pass through.
 */
export async function readBounded(path: string, limit: number): Promise<string> {
  const handle = await open(path, 'r')
  try {
    // Small chunks: most files are tiny, and a buffer the size of the limit for every read would be most of the
    // memory of a long-running agent.
    const chunks: Buffer[] = []
    let size = 0
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(16 * 1024, limit + 1 - size))
      const {bytesRead} = await handle.read(chunk, 0, chunk.length, null)
      if (bytesRead === 0) break
      chunks.push(chunk.subarray(0, bytesRead))
      size += bytesRead
      if (size > limit) throw new UserError(`${path} is larger than ${Math.round(limit / 1024)} KiB`)
    }

    return Buffer.concat(chunks, size).toString('utf8')
  } finally {
    await handle.close()
  }
}
