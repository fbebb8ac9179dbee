import { defineProject } from 'vitest/config'

export default defineProject({
  test: {
    name: 'core',
    include: ['test/**/*.test.ts'],
    // options.test.ts proves with @ts-expect-error that an option table missing a key does not
    // compile: vitest runs tsc on it and fails the test on an unused directive or a type error.
    typecheck: { enabled: true, include: ['test/**/options.test.ts'] },
    // snapshots.test.ts collects a discarded owner with gc() to see its reader go.
    execArgv: ['--expose-gc'],
  },
})
