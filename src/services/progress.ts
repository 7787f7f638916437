/** How services tell a user what they are doing; commands pick listr2, plain lines, or the --json warnings. */
export interface Reporter {
  /** A line beside the result (a notice, a warning): stderr as text, the envelope's warnings with --json. */
  notice(line: string): void
  /**
   * A line that is part of what the command says, as MicroK8s says it on stdout ("Addon core/dns is already
   * enabled", an addon's closing message); with --json the result carries it, so it is not printed.
   */
  say(line: string): void
  step<T>(title: string, run: (update: (detail: string) => void) => Promise<T>): Promise<T>
}

/** Runs steps without showing them; notices go to `notice` (the --json warnings, or nowhere). */
export function quietReporter(
  notice: (line: string) => void = () => {},
  say: (line: string) => void = () => {},
): Reporter {
  return {notice, say, step: (_title, run) => run(() => {})}
}

export const silentReporter: Reporter = quietReporter()
