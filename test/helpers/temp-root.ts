import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

/**
 * Gives the run one private temporary folder and removes it at the end: every folder a test or mk8s itself makes
 * under os.tmpdir() lands inside it, so a run leaves nothing behind in /tmp, even from a test that fails halfway.
 * The workers inherit TMPDIR: they start after this setup.
 */
export function setup(): () => void {
  const root = mkdtempSync(join(tmpdir(), 'mk8s-run-'))
  const previous = process.env.TMPDIR
  process.env.TMPDIR = root
  return () => {
    if (previous === undefined) delete process.env.TMPDIR
    else process.env.TMPDIR = previous
    rmSync(root, {force: true, recursive: true})
  }
}
