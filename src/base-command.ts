import {Command} from '@oclif/core'

import {isUserError} from './errors.js'

/** Prints user errors as one clear message without a stack trace; bugs keep theirs. */
export abstract class BaseCommand extends Command {
  protected async catch(error: Error & {exitCode?: number; oclif?: {exit?: number}}): Promise<unknown> {
    if (isUserError(error)) {
      if (this.jsonEnabled() || this.argv.includes('--json')) {
        this.logJson({error: {message: error.message, name: error.name}, status: 'failed'})
        this.exit(error.exitCode)
      }

      this.logToStderr(error.message)
      for (const suggestion of error.suggestions) this.logToStderr(suggestion)
      this.exit(error.exitCode)
    }

    return super.catch(error)
  }
}
