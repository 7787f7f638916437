import {defineConfig} from 'vitest/config'

export default defineConfig({
  test: {
    disableConsoleIntercept: true,
    globalSetup: ['test/helpers/temp-root.ts'],
    include: ['test/unit/**/*.test.ts'],
    testTimeout: 20_000,
  },
})
