import { defineProject } from 'vitest/config'

export default defineProject({
  test: {
    name: 'client',
    include: ['test/**/*.test.ts'],
    // index.test.ts checks the public types (expectTypeOf): vitest runs tsc on this package's
    // tsconfig.json and fails its tests on a type error (runtime tests run too).
    typecheck: { enabled: true, include: ['test/**/index.test.ts'] },
  },
})
