import { readdirSync, readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ON_EXPRESS_4 } from './helpers.js'
import { ROOT } from './support/processes.js'

interface Manifest {
  name: string
  private?: boolean
  license?: string
  repository?: { type: string; url: string; directory: string }
  homepage?: string
  bugs?: string
  engines?: { node?: string }
}

const read = (file: string): string => readFileSync(resolve(ROOT, file), 'utf8')
const published = readdirSync(resolve(ROOT, 'packages')).filter(
  (dir) => (JSON.parse(read(`packages/${dir}/package.json`)) as Manifest).private !== true,
)

describe.skipIf(ON_EXPRESS_4)('metadata of the published packages (e2e-express5 only)', () => {
  describe.each(published)('packages/%s', (dir) => {
    const pkg = JSON.parse(read(`packages/${dir}/package.json`)) as Manifest

    // npm packs a LICENSE found in the package folder whatever `files` says; the copy must be
    // the root's, word for word.
    it('ships the root LICENSE as its own copy', () => {
      expect(pkg.license).toBe('MIT')
      expect(read(`packages/${dir}/LICENSE`)).toBe(read('LICENSE'))
    })

    it('points repository, homepage and bugs at its own folder of the repository', () => {
      expect(pkg.name).toBe(`@ccflow/${dir}`)
      expect(pkg.repository).toEqual({
        type: 'git',
        url: 'git+https://github.com/ccflow/ccflow.git',
        directory: `packages/${dir}`,
      })
      expect(pkg.homepage).toBe(`https://github.com/ccflow/ccflow/tree/main/packages/${dir}#readme`)
      expect(pkg.bugs).toBe('https://github.com/ccflow/ccflow/issues')
    })

    // AbortSignal.any (the guard's JWKS fetch) arrived in Node 20.3.0.
    it('declares the Node floor of the code, 20.3.0', () => {
      expect(pkg.engines?.node).toBe('>=20.3.0')
    })
  })
})
