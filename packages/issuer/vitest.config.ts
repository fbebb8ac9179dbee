import { defineProject } from 'vitest/config'

export default defineProject({
  test: {
    name: 'issuer',
    include: ['test/**/*.test.ts'],
    // The file whose assertions are types (expectTypeOf, @ts-expect-error): vitest runs tsc on
    // this package's tsconfig.json and fails its tests on a type error (runtime tests run too).
    typecheck: {
      enabled: true,
      include: ['test/**/index.test.ts', 'test/**/options/defaults.test.ts'],
    },
  },
})
