import {constants} from 'node:fs'
import {copyFile, open, rename, rm} from 'node:fs/promises'
import {join} from 'node:path'

import {UserError} from '../errors.js'
import {type ArgsEdit, type ArgsEditResult, editArgs} from '../nodes/args-file.js'
import {readBounded} from '../host/fs.js'

/** An args file larger than this is not an args file: refuse it rather than hold it in memory. */
export const MAX_ARGS_FILE_BYTES = 1024 * 1024

/**
 * The args files of one node: reads are bounded, writes are atomic (a temporary file, fsync, rename) and keep the
 * previous content as `<file>.backup`, and edits of one file are serialised so that concurrent requests lose nothing.
 */
export class ArgsStore {
  private readonly queues = new Map<string, Promise<unknown>>()

  constructor(readonly dir: string) {}

  file(service: string): string {
    return join(this.dir, service)
  }

  /** The file's text; a missing file is empty, as the agent treats it. */
  async read(service: string): Promise<string> {
    try {
      return await readBounded(this.file(service), MAX_ARGS_FILE_BYTES)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return ''
      throw error
    }
  }

  /** Runs `work` after every earlier edit of the same service has finished. */
  private serialised<T>(service: string, work: () => Promise<T>): Promise<T> {
    const before = this.queues.get(service) ?? Promise.resolve()
    const next = before.then(work, work)
    const settled = next.catch(() => {})
    this.queues.set(service, settled)
    void settled.then(() => {
      if (this.queues.get(service) === settled) this.queues.delete(service)
    })
    return next
  }

  async edit(service: string, edit: ArgsEdit): Promise<ArgsEditResult> {
    return this.serialised(service, async () => {
      const text = await this.read(service)
      const result = editArgs(text, edit)
      if (result.changed) await this.write(service, result.text)
      return result
    })
  }

  private async write(service: string, text: string): Promise<void> {
    const target = this.file(service)
    const temporary = `${target}.mk8s-${process.pid}-${Date.now()}.tmp`
    try {
      await copyFile(target, `${target}.backup`).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error
      })
      const handle = await open(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o660)
      try {
        await handle.writeFile(text)
        await handle.sync()
      } finally {
        await handle.close()
      }

      await rename(temporary, target)
    } catch (error) {
      await rm(temporary, {force: true})
      throw new UserError(`Cannot write ${target}: ${(error as Error).message}`)
    }
  }
}
