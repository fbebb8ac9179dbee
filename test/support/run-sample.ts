import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import type { Readable } from 'node:stream'
import { cleanEnv } from './packed-app.js'

/** A README sample that was started: running servers, or a program that has exited. */
export interface SampleRun {
  /** The exit code once it exited by itself; undefined while its servers run. */
  exitCode: number | null | undefined
  /** The port the sample asked for → the port it got (`{ 3000: 41234 }`). */
  ports: Record<string, number>
  /** `http://127.0.0.1:<bound port>` for the port the sample's text names. */
  url(port: number): string
  stdout(): string
  stderr(): string
}

const running = new Set<ChildProcess>()
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL')
})

/**
 * Runs a sample with the app's `run-sample.mjs` (see there: its listen and fetch are redirected),
 * hands it to `use` once it has exited or all its servers listen, then stops it.
 *
 * @param hosts - origin → loopback URL of a stand-in server, for the sample's `fetch`.
 * @throws {Error} When it neither exits nor listens within `timeoutMs`, with its output.
 */
export async function withSample<T>(
  options: { runner: string; file: string; cwd: string; hosts?: Record<string, string> },
  use: (run: SampleRun) => Promise<T>,
  timeoutMs = 60_000,
): Promise<T> {
  const child = spawn(process.execPath, [options.runner, options.file], {
    cwd: options.cwd,
    env: cleanEnv({ SAMPLE_HOSTS: JSON.stringify(options.hosts ?? {}) }),
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
  })
  running.add(child)
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')))
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')))
  const exited = once(child, 'exit').then(([code]) => code as number | null)
  const ready = new Promise<Record<string, number>>((resolve) => {
    let text = ''
    ;(child.stdio[3] as Readable).on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8')
      if (text.includes('\n'))
        resolve((JSON.parse(text) as { ready: Record<string, number> }).ready)
    })
  })
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs)
  })
  try {
    const first = await Promise.race([
      ready.then((ports) => ({ ports })),
      exited.then((code) => ({ code })),
      timeout,
    ])
    if (first === 'timeout') {
      throw new Error(
        `${options.file} neither exited nor listened within ${timeoutMs} ms\n${stdout}${stderr}`,
      )
    }
    const ports = 'ports' in first ? first.ports : {}
    return await use({
      exitCode: 'code' in first ? first.code : undefined,
      ports,
      url(port) {
        const bound = ports[String(port)]
        if (bound === undefined) throw new Error(`the sample does not listen on ${port}`)
        return `http://127.0.0.1:${bound}`
      },
      stdout: () => stdout,
      stderr: () => stderr,
    }).catch((err: unknown) => {
      // A failed check shows what the sample printed: often the reason.
      if (err instanceof Error) err.message += `\n--- the sample's output ---\n${stdout}${stderr}`
      throw err
    })
  } finally {
    clearTimeout(timer)
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL')
      await exited
    }
    running.delete(child)
  }
}
