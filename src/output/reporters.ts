import type {Reporter} from '../services/progress.js'

/** Plain lines for logs and pipes: a line when a step starts, changes phase and ends. */
export function plainReporter(write: (line: string) => void, notice: (line: string) => void): Reporter {
  return {
    notice,
    say: write,
    async step(title, run) {
      write(`${title}...`)
      let lastPhase = ''
      const result = await run((detail) => {
        // Counts change many times a second; print only when the kind of work changes.
        const phase = detail
          .replace(/\d+\/\d+/, '')
          .replace(/, waiting for .*/, '')
          .trim()
        if (phase !== lastPhase) write(`  ${detail}`)
        lastPhase = phase
      })
      write(`${title}: done`)
      return result
    },
  }
}

/** listr2 on a terminal: one task per step whose title shows live counts and what is being waited for. */
export async function listrReporter(write: (line: string) => void, notice: (line: string) => void): Promise<Reporter> {
  const {Listr} = await import('listr2')
  return {
    notice,
    say: write,
    async step(title, run) {
      let result: Awaited<ReturnType<typeof run>> | undefined
      await new Listr(
        [
          {
            async task(_ctx, task) {
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

/** listr2 on a wide enough terminal, plain lines otherwise. */
export async function chooseReporter(write: (line: string) => void, notice: (line: string) => void): Promise<Reporter> {
  // A terminal that reports no width (some CI wrappers) cannot hold a live task line.
  return process.stdout.isTTY && (process.stdout.columns ?? 0) >= 40
    ? listrReporter(write, notice)
    : plainReporter(write, notice)
}
