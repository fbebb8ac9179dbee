import { defineProject } from 'vitest/config'

export default defineProject({
  test: { name: 'issuer', include: ['test/**/*.test.ts'] },
})
