import {closeSync, constants, openSync, readSync} from 'node:fs'
import {access, open, readdir, realpath, stat} from 'node:fs/promises'
import {isAbsolute, join, sep} from 'node:path'

import {UserError} from '../errors.js'

/** A regular file this process may execute: a hook, a program on PATH. */
export async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK)
    return (await stat(file)).isFile()
  } catch {
    return false
  }
}

export async function pathExists(path: string): Promise<boolean> {
  try {
    await stat(path)
    return true
  } catch {
    return false
  }
}

/**
 * The reading loop both forms of readBounded share: small buffers to read into (most files are tiny, and a buffer the
 * size of the limit for every read would be most of the memory of a long-running agent), what was read kept, and a
 * file larger than `limit` refused with its name as soon as the limit is passed.
 */
function boundedReader(path: string, limit: number) {
  const chunks: Buffer[] = []
  let size = 0
  return {
    buffer: () => Buffer.allocUnsafe(Math.min(16 * 1024, limit + 1 - size)),
    /** Keeps what a read put in `chunk`; false at the end of the file. */
    keep(chunk: Buffer, bytesRead: number): boolean {
      if (bytesRead === 0) return false
      chunks.push(chunk.subarray(0, bytesRead))
      size += bytesRead
      if (size > limit) throw new UserError(`${path} is larger than ${Math.round(limit / 1024)} KiB`)
      return true
    },
    text: () => Buffer.concat(chunks, size).toString('utf8'),
  }
}

/**
 * Reads a text file of at most `limit` bytes: a larger one (or a device that never ends) is refused with its name,
 * without reading more than the limit. Errors of the file system (ENOENT, EACCES) pass through.
 */
export async function readBounded(path: string, limit: number): Promise<string> {
  const handle = await open(path, 'r')
  try {
    const reader = boundedReader(path, limit)
    for (;;) {
      const chunk = reader.buffer()
      if (!reader.keep(chunk, (await handle.read(chunk, 0, chunk.length, null)).bytesRead)) break
    }

    return reader.text()
  } finally {
    await handle.close()
  }
}

/** Files a repository or a user hands mk8s are text of a few kilobytes: a megabyte is generous. */
export const MAX_INPUT_FILE_BYTES = 1024 * 1024

/** The synchronous form of readBounded, for the kubeconfig (read before anything else runs). */
export function readBoundedSync(path: string, limit: number): string {
  const fd = openSync(path, 'r')
  try {
    const reader = boundedReader(path, limit)
    for (;;) {
      const chunk = reader.buffer()
      if (!reader.keep(chunk, readSync(fd, chunk, 0, chunk.length, null))) break
    }

    return reader.text()
  } finally {
    closeSync(fd)
  }
}

/**
 * Why `relative` may not be read from inside `root`, or undefined when it may: an absolute path, a `..` segment, a
 * symbolic link that leads outside `root`, or something that is not a regular file (a folder, a FIFO, a device).
 * A missing file is left to the reader (ENOENT).
 */
export async function containmentProblem(root: string, relative: string): Promise<string | undefined> {
  if (isAbsolute(relative) || relative.split(/[/\\]/).includes('..')) return 'must be a path inside the repository'
  let real: string
  let realRoot: string
  try {
    ;[realRoot, real] = await Promise.all([realpath(root), realpath(join(root, relative))])
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }

  if (real !== realRoot && !real.startsWith(`${realRoot}${sep}`)) return 'a symbolic link that leaves the repository'
  const info = await stat(real)
  if (!info.isFile()) return `${info.isDirectory() ? 'a folder' : 'not a regular file'} where a file is expected`
  return undefined
}

/**
 * Reads a file of a repository: contained in it (checked every time, since a repository can change on disk) and
 * bounded in size. Never opens a FIFO or a device, which could block or never end.
 */
export async function readContained(root: string, relative: string, limit = MAX_INPUT_FILE_BYTES): Promise<string> {
  const problem = await containmentProblem(root, relative)
  if (problem) throw new UserError(`${join(root, relative)}: refused: ${problem}`)
  return readBounded(join(root, relative), limit)
}

/** Every symbolic link that leaves `root` and every special file (FIFO, device, socket) below it, .git excepted. */
export async function treeContainmentProblems(root: string): Promise<{file: string; message: string}[]> {
  const realRoot = await realpath(root)
  const problems: {file: string; message: string}[] = []
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, {withFileTypes: true})) {
      const path = join(dir, entry.name)
      if (entry.name === '.git' && dir === root) continue
      if (entry.isSymbolicLink()) {
        const target = await realpath(path).catch(() => undefined)
        if (target && target !== realRoot && !target.startsWith(`${realRoot}${sep}`)) {
          problems.push({file: path, message: 'is a symbolic link that leaves the repository'})
        }
      } else if (entry.isDirectory()) await walk(path)
      else if (!entry.isFile()) problems.push({file: path, message: 'is not a regular file (a FIFO, device or socket)'})
    }
  }

  await walk(root)
  return problems
}
