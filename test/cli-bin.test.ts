import { execFile } from 'node:child_process'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ccflow, CLI_BIN, type CliOutcome } from './support/cli.js'
import { ROOT } from './support/processes.js'

const onExpress5 = process.env.CCFLOW_EXPRESS_MAJOR === '5'

// The bin runs as its own process with its own Express-free imports, so one Express major is enough.
describe.skipIf(!onExpress5)('the ccflow bin (built, run with plain node)', () => {
  const { esm, cjs } = CLI_BIN

  it.each([
    ['ESM', esm],
    ['CommonJS', cjs],
  ])('prints a secret and its hash from the %s build and exits 0', async (_kind, bin) => {
    const result = await ccflow(bin, ['secret', '--json'])
    expect(result.code).toBe(0)
    expect(JSON.parse(result.stdout)).toHaveProperty('secret.hash')
  })

  it('hashes a secret piped on standard input', async () => {
    const result = await ccflow(esm, ['hash'], 'a-secret-from-stdin\n')
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^\$scrypt\$\S+\n$/)
  })

  it('exits 2 with usage on a bad option and 0 on --help', async () => {
    expect((await ccflow(esm, ['keygen', '--alg', 'none'])).code).toBe(2)
    const help = await ccflow(esm, ['--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toContain('keygen')
  })

  it('is linked as the ccflow command for packages that depend on @ccflow/cli', async () => {
    const linked = resolve(ROOT, 'test/node_modules/.bin/ccflow')
    const result = await new Promise<CliOutcome>((done) => {
      execFile(linked, ['--help'], { env: { PATH: process.env.PATH } }, (error, stdout, stderr) => {
        done({ code: error === null ? 0 : Number(error.code ?? 1), stdout, stderr })
      })
    })
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('keygen')
  })
})
