// `npm test`: compile, type-check the tests, lint and check formatting, run the unit tests, make sure the Go-built
// control plane exists (building it on a cold machine), then run the integration tests.
// MK8S_SKIP_INTEGRATION=1 stops after the unit tests. Ends with one `N passed, N failed` line.
import {spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const bin = (name) => join(root, 'node_modules', '.bin', name)
const reports = mkdtempSync(join(tmpdir(), 'mk8s-test-'))
const totals = {failed: 0, passed: 0, skipped: 0}

function summary() {
  console.log(`\nmk8s: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`)
}

function run(title, command, args) {
  console.log(`\n== ${title}`)
  return spawnSync(command, args, {cwd: root, stdio: 'inherit'}).status
}

function stopOnFailure(title, status) {
  if (status === 0) return
  console.error(`\n${title} failed (exit ${status})`)
  summary()
  process.exit(status || 1)
}

const step = (title, command, args) => stopOnFailure(title, run(title, command, args))

function vitest(title, config) {
  const report = join(reports, `${config}.json`)
  const status = run(title, bin('vitest'), [
    'run',
    '--config',
    config,
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${report}`,
  ])
  if (existsSync(report)) {
    const {numFailedTests, numPassedTests, numPendingTests, numTodoTests, testResults} = JSON.parse(
      readFileSync(report, 'utf8'),
    )
    totals.passed += numPassedTests
    totals.failed += numFailedTests
    totals.skipped += numPendingTests + numTodoTests
    // A skipped test says why (for example, ../shared is absent): list them so a skip is never silent.
    for (const file of testResults) {
      for (const test of file.assertionResults) {
        if (test.status === 'skipped' || test.status === 'pending')
          console.log(
            `skipped: ${test.fullName}${test.failureMessages?.length ? ` (${test.failureMessages.join('; ')})` : ''}`,
          )
      }
    }
  }

  stopOnFailure(title, status)
}

process.on('exit', (code) => {
  rmSync(reports, {force: true, recursive: true})
  if (code === 0) summary()
})

step('compile', process.execPath, [join(root, 'scripts/build.mjs')])
step('type-check tests', bin('tsc'), ['-p', 'test', '--noEmit'])
step('lint', bin('eslint'), ['.'])
step('format', bin('prettier'), ['--check', '--log-level', 'warn', '.'])
vitest('unit tests', 'vitest.config.ts')
if (process.env.MK8S_SKIP_INTEGRATION !== '1') {
  step('control-plane binaries', 'bash', [join(root, 'scripts/cluster/build.sh')])
  vitest('integration tests', 'vitest.integration.config.ts')
}
