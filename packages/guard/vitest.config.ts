import { defineProject } from 'vitest/config'

export default defineProject({
  test: {
    name: 'guard',
    include: ['test/**/*.test.ts'],
    // The files whose assertions are types (expectTypeOf, @ts-expect-error): vitest runs tsc on
    // this package's tsconfig.json and fails their tests on a type error (runtime tests run too).
    typecheck: {
      enabled: true,
      include: [
        'test/**/augment.test.ts',
        'test/**/index.test.ts',
        'test/**/options/resolve.test.ts',
      ],
    },
  },
})
