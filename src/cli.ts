import {type Interfaces, execute} from '@oclif/core'

/**
 * Runs the CLI. The command classes are not listed here: the build writes dist/main.js, which exports `COMMANDS`
 * made from the oclif manifest of dist/commands, so a command file is found however it was added.
 */
export async function run(loadOptions: Interfaces.LoadOptions): Promise<void> {
  await execute({loadOptions})
}
