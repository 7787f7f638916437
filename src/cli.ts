import {type Interfaces, execute} from '@oclif/core'

import AddonsLint from './commands/addons/lint.js'
import AddonsList from './commands/addons/list.js'
import AddonsNew from './commands/addons/new.js'
import AddonsRepoAdd from './commands/addons/repo/add.js'
import AddonsRepoList from './commands/addons/repo/list.js'
import AddonsRepoRemove from './commands/addons/repo/remove.js'
import AddonsRepoUpdate from './commands/addons/repo/update.js'
import Diff from './commands/diff.js'
import Disable from './commands/disable.js'
import Enable from './commands/enable.js'
import Render from './commands/render.js'
import Status from './commands/status.js'

/** Every command, for oclif's explicit command discovery: the bundled CLI finds them here, not on disk. */
export const COMMANDS = {
  'addons:lint': AddonsLint,
  'addons:list': AddonsList,
  'addons:new': AddonsNew,
  'addons:repo:add': AddonsRepoAdd,
  'addons:repo:list': AddonsRepoList,
  'addons:repo:remove': AddonsRepoRemove,
  'addons:repo:update': AddonsRepoUpdate,
  diff: Diff,
  disable: Disable,
  enable: Enable,
  render: Render,
  status: Status,
}

export async function run(loadOptions: Interfaces.LoadOptions): Promise<void> {
  await execute({loadOptions})
}
