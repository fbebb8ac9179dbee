import { execFile } from 'node:child_process'
import { resolve } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { ROOT } from './support/processes.js'

const run = promisify(execFile)
const onExpress5 = process.env.CCFLOW_EXPRESS_MAJOR === '5'

interface Outcome {
  code: number
  stdout: string
  stderr: string
}

async function ccflow(bin: string, args: string[], input?: string): Promise<Outcome> {
  const child = run(process.execPath, [bin, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH },
  })
  if (input !== undefined) child.child.stdin?.end(input)
  else child.child.stdin?.end()
  try {
    const { stdout, stderr } = await child
    return { code: 0, stdout, stderr }
  } catch (err) {
    const failure = err as { code: number; stdout: string; stderr: string }
    return { code: failure.code, stdout: failure.stdout, stderr: failure.stderr }
  }
}

// The bin runs as its own process with its own Express-free imports, so one Express major is enough.
describe.skipIf(!onExpress5)('the ccflow bin (built, run with plain node)', () => {
  const esm = resolve(ROOT, 'packages/cli/dist/esm/cli-bin.js')
  const cjs = resolve(ROOT, 'packages/cli/dist/cjs/cli-bin.js')

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
    const result = await new Promise<Outcome>((done) => {
      execFile(linked, ['--help'], { env: { PATH: process.env.PATH } }, (error, stdout, stderr) => {
        done({ code: error === null ? 0 : Number(error.code ?? 1), stdout, stderr })
      })
    })
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('keygen')
  })
})
