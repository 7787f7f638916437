import {mkdir, open, readFile, rm} from 'node:fs/promises'
import {dirname} from 'node:path'

import {UserError} from '../errors.js'
import {sleep} from '../util/async.js'

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Runs `work` holding an exclusive lock file (created with O_EXCL, holding this process's pid). A lock whose holder
 * is no longer running is taken over; a live holder is waited for up to `timeoutMs`.
 */
export async function withFileLock<T>(file: string, timeoutMs: number, work: () => Promise<T>): Promise<T> {
  await mkdir(dirname(file), {recursive: true})
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      const handle = await open(file, 'wx', 0o600)
      await handle.writeFile(`${process.pid}\n`)
      await handle.close()
      break
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      const holder = Number((await readFile(file, 'utf8').catch(() => '')).trim())
      // A holder that died (or a file still being written, read as no pid) is not waited for forever.
      if (holder > 0 && !alive(holder)) {
        await rm(file, {force: true})
        continue
      }

      if (Date.now() >= deadline) {
        throw new UserError(
          `Another mk8s (pid ${holder || 'unknown'}) is changing the addon repositories; try again when it has finished`,
        )
      }

      await sleep(50)
    }
  }

  try {
    return await work()
  } finally {
    await rm(file, {force: true})
  }
}
