/** How services tell a user what they are doing; commands pick listr2, plain lines, or the --json warnings. */
export interface Reporter {
  /** A line beside the result (a notice, a warning): stderr as text, the envelope's warnings with --json. */
  notice(line: string): void
  step<T>(title: string, run: (update: (detail: string) => void) => Promise<T>): Promise<T>
}

/** Runs steps without showing them; notices go to `notice` (the --json warnings, or nowhere). */
export function quietReporter(notice: (line: string) => void = () => {}): Reporter {
  return {notice, step: (_title, run) => run(() => {})}
}

export const silentReporter: Reporter = quietReporter()
