import { Readable } from 'node:stream'
import { runCli, type CliIo } from '../../src/cli.js'

/** How a run of the CLI ended. */
export interface Run {
  code: number
  stdout: string
  stderr: string
}

/** Runs the CLI in-process with the given environment (nothing else) and standard input. */
export async function run(
  argv: string[],
  options: { stdin?: string; env?: Record<string, string | undefined> } = {},
): Promise<Run> {
  let stdout = ''
  let stderr = ''
  const io: CliIo = {
    stdin: Readable.from(options.stdin === undefined ? [] : [Buffer.from(options.stdin)]),
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env: options.env ?? {},
  }
  const code = await runCli(argv, io)
  return { code, stdout, stderr }
}

/** The JSON a `--json` run printed. */
export function json(result: Run): Record<string, unknown> {
  return JSON.parse(result.stdout) as Record<string, unknown>
}
