import {defineConfig} from 'vitest/config'

export default defineConfig({
  test: {
    disableConsoleIntercept: true,
    include: ['test/unit/**/*.test.ts'],
    testTimeout: 20_000,
  },
})
