import type {Reporter} from '../core/progress.js'

/** Plain lines for logs and pipes: a line when a step starts, changes phase and ends. */
export function plainReporter(write: (line: string) => void): Reporter {
  return {
    notice: write,
    async step(title, run) {
      write(`${title}...`)
      let lastPhase = ''
      const result = await run((detail) => {
        // Counts change many times a second; print only when the kind of work changes.
        const phase = detail.replace(/\d+\/\d+/, '').replace(/, waiting for .*/, '').trim()
        if (phase !== lastPhase) write(`  ${detail}`)
        lastPhase = phase
      })
      write(`${title}: done`)
      return result
    },
  }
}

/** listr2 on a terminal: one task per addon whose title shows live counts and what is being waited for. */
export async function listrReporter(): Promise<Reporter> {
  const {Listr} = await import('listr2')
  return {
    notice: (line) => process.stderr.write(`${line}\n`),
    async step(title, run) {
      let result: Awaited<ReturnType<typeof run>> | undefined
      await new Listr(
        [
          {
            task: async (_ctx, task) => {
              result = await run((detail) => {
                task.title = `${title}: ${detail}`
              })
              task.title = title
            },
            title,
          },
        ],
        {exitOnError: true, rendererOptions: {collapseErrors: false}},
      ).run()
      return result as Awaited<ReturnType<typeof run>>
    },
  }
}

export async function chooseReporter(json: boolean, write: (line: string) => void): Promise<Reporter> {
  const {silentReporter} = await import('../core/progress.js')
  if (json) return silentReporter
  // A terminal that reports no width (some CI wrappers) cannot hold a live task line.
  return process.stdout.isTTY && (process.stdout.columns ?? 0) >= 40 ? listrReporter() : plainReporter(write)
}
