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
    const buffer = Buffer.alloc(limit + 1)
    let size = 0
    while (size <= limit) {
      const {bytesRead} = await handle.read(buffer, size, limit + 1 - size, null)
      if (bytesRead === 0) break
      size += bytesRead
    }

    if (size > limit) throw new UserError(`${path} is larger than ${Math.round(limit / 1024)} KiB`)
    return buffer.subarray(0, size).toString('utf8')
  } finally {
    await handle.close()
  }
}
