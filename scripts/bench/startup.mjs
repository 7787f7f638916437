// Start-up benchmark: median wall time of `mk8s --version` and `mk8s render dns` next to
// bare `node -e 0`, all measured in this run. Target: render dns within 3x of bare Node.
import {spawnSync} from 'node:child_process'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const runs = Number(process.env.BENCH_RUNS ?? 15)
const cli = join(root, 'bin', 'run.js')

function median(command, args) {
  const times = []
  spawnSync(command, args, {stdio: 'ignore'}) // warm the file cache
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint()
    const result = spawnSync(command, args, {stdio: 'ignore'})
    if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${result.status}`)
    times.push(Number(process.hrtime.bigint() - start) / 1e6)
  }

  times.sort((a, b) => a - b)
  return times[Math.floor(times.length / 2)]
}

const baseline = median(process.execPath, ['-e', '0'])
const cases = [
  ['node -e 0', baseline],
  ['mk8s --version', median(process.execPath, [cli, '--version'])],
  ['mk8s render dns', median(process.execPath, [cli, 'render', 'dns'])],
]
console.log(`start-up, median of ${runs} runs`)
for (const [name, ms] of cases)
  console.log(`${name.padEnd(18)} ${ms.toFixed(1).padStart(7)} ms  ${(ms / baseline).toFixed(2)}x node`)
const ratio = cases[2][1] / baseline
console.log(`render dns / node: ${ratio.toFixed(2)}x (target <= 3x): ${ratio <= 3 ? 'met' : 'NOT met'}`)
