// `npm test`: compile, type-check the tests, run the unit tests, make sure the Go-built
// control plane exists (building it on a cold machine), then run the integration tests.
// MK8S_SKIP_INTEGRATION=1 stops after the unit tests.
import {spawnSync} from 'node:child_process'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const bin = (name) => join(root, 'node_modules', '.bin', name)

function step(title, command, args) {
  console.log(`\n== ${title}`)
  const result = spawnSync(command, args, {cwd: root, stdio: 'inherit'})
  if (result.status !== 0) {
    console.error(`\n${title} failed (exit ${result.status ?? result.signal})`)
    process.exit(result.status ?? 1)
  }
}

step('compile', process.execPath, [join(root, 'scripts/build.mjs')])
step('type-check tests', bin('tsc'), ['-p', 'test', '--noEmit'])
step('unit tests', bin('vitest'), ['run', '--config', 'vitest.config.ts'])
if (process.env.MK8S_SKIP_INTEGRATION === '1') process.exit(0)
step('control-plane binaries', 'bash', [join(root, 'scripts/cluster/build.sh')])
step('integration tests', bin('vitest'), ['run', '--config', 'vitest.integration.config.ts'])
