import { execFile } from 'node:child_process'
import { resolve } from 'node:path'
import { promisify } from 'node:util'
import { ROOT } from './processes.js'

const run = promisify(execFile)

/** The built `ccflow` bin, ESM and CommonJS. */
export const CLI_BIN = {
  esm: resolve(ROOT, 'packages/cli/dist/esm/cli-bin.js'),
  cjs: resolve(ROOT, 'packages/cli/dist/cjs/cli-bin.js'),
} as const

/** How a run of the bin ended. */
export interface CliOutcome {
  code: number
  stdout: string
  stderr: string
}

/**
 * Runs a built bin with plain `node`, from the repository root, with only `PATH` in its
 * environment, and `input` (or nothing) on standard input.
 */
export async function ccflow(bin: string, args: string[], input?: string): Promise<CliOutcome> {
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
