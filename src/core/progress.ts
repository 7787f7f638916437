/** How services tell a user what they are doing; the commands pick listr2, plain lines, or nothing (--json). */
export interface Reporter {
  notice(line: string): void
  step<T>(title: string, run: (update: (detail: string) => void) => Promise<T>): Promise<T>
}

export const silentReporter: Reporter = {
  notice() {},
  step: (_title, run) => run(() => {}),
}
