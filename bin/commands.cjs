// oclif loads the command index from a file it names in package.json's oclif.commands (set by bin/run.js): loading
// the bundle a second time would start every module again, so this file hands over the index the bundle already has.
module.exports = {COMMANDS: globalThis[Symbol.for('mk8s.commands')]}
