import { defineConfig } from 'vitest/config'
import { crossPackageProject } from './test/vitest.config.js'

export default defineConfig({
  test: {
    projects: ['packages/*', crossPackageProject(5), crossPackageProject(4)],
    // The JSON report feeds the one-line summary that .ci/run prints last.
    reporters: ['default', 'json'],
    outputFile: { json: '.test-results/vitest.json' },
    coverage: {
      provider: 'v8',
      include: ['packages/*/src/**'],
    },
  },
})
