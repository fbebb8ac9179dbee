import { createRequire } from 'node:module'
import { defineProject } from 'vitest/config'

const require = createRequire(import.meta.url)

/**
 * The cross-package suite runs twice: once on Express 5 and once on Express 4.
 * For the Express 4 run the built packages are inlined so that their own
 * `import express from 'express'` resolves to the same Express 4 the app uses.
 */
export function crossPackageProject(major: 4 | 5): ReturnType<typeof defineProject> {
  return defineProject({
    test: {
      name: `e2e-express${major}`,
      root: import.meta.dirname,
      include: ['**/*.test.ts'],
      exclude: ['**/node_modules/**'],
      env: { CCFLOW_EXPRESS_MAJOR: String(major) },
      server: {
        deps: {
          inline:
            major === 4 ? [/@ccflow\//, /packages\/(core|issuer|guard|client|cli)\/dist/] : [],
        },
      },
      testTimeout: 30_000,
      hookTimeout: 30_000,
      // The type assertions (expectTypeOf) of the contract test: vitest runs tsc on
      // test/tsconfig.json and fails their tests on a type error. Types do not depend on the
      // Express major, so the Express 5 run checks them once.
      typecheck: { enabled: major === 5, include: ['**/token-contract.test.ts'] },
    },
    resolve: major === 4 ? { alias: { express: require.resolve('express4') } } : {},
  })
}
