import {defineConfig} from 'vitest/config'

// One real control plane per run, shared by every file: files run one at a time.
export default defineConfig({
  test: {
    disableConsoleIntercept: true,
    fileParallelism: false,
    globalSetup: ['test/helpers/temp-root.ts', 'test/integration/global-setup.ts'],
    hookTimeout: 180_000,
    include: ['test/integration/**/*.test.ts'],
    testTimeout: 120_000,
  },
})
