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
      reporter: ['text-summary'],
      // Floors just under today's figures (statements 99.45, branches 97.69, functions 99.62,
      // lines 99.8) so coverage can only go up; STYLE.md's goal is 100.
      thresholds: { statements: 99.35, branches: 97.5, functions: 99.5, lines: 99.7 },
    },
  },
})
