import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { createRequire } from 'node:module'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The repository root. */
export const ROOT: string = resolve(dirname(fileURLToPath(import.meta.url)), '../..')

/** tsx's CLI entry, resolved from the examples workspace that depends on it. */
function tsxCli(): string {
  const examplesRequire = createRequire(resolve(ROOT, 'examples/package.json'))
  return examplesRequire.resolve('tsx/cli')
}

/** A program started by a test, with its output kept for assertions. */
export interface RunningProcess {
  child: ChildProcess
  /** Everything written to stdout and stderr so far. */
  output(): string
  /** Resolves with the first output line matching `pattern`, or rejects after `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>
  /** Sends `signal` (default SIGTERM) and resolves with the exit code (signal kills → null). */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>
}

const running = new Set<ChildProcess>()
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL')
})

/** Starts a TypeScript program from the repository with tsx, the way a user would. */
export function startTs(
  script: string,
  env: Record<string, string | undefined> = {},
  args: string[] = [],
): RunningProcess {
  return start(process.execPath, [tsxCli(), resolve(ROOT, script), ...args], env)
}

/** Starts a command with a clean, explicit environment (PATH and HOME are kept). */
function start(
  command: string,
  args: string[],
  env: Record<string, string | undefined> = {},
): RunningProcess {
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'test', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  running.add(child)
  child.once('exit', () => running.delete(child))
  let text = ''
  const waiters = new Set<() => void>()
  const onData = (chunk: Buffer): void => {
    text += chunk.toString('utf8')
    for (const check of waiters) check()
  }
  child.stdout?.on('data', onData)
  child.stderr?.on('data', onData)

  return {
    child,
    output: () => text,
    waitFor(pattern, timeoutMs = 15_000) {
      return new Promise((resolveMatch, reject) => {
        const check = (): void => {
          const match = text.match(pattern)
          if (match) {
            cleanup()
            resolveMatch(match)
          }
        }
        const onExit = (): void => {
          cleanup()
          reject(
            new Error(
              `process exited (code ${child.exitCode}) before ${pattern}; output:\n${text}`,
            ),
          )
        }
        const timer = setTimeout(() => {
          cleanup()
          reject(
            new Error(`timed out after ${timeoutMs} ms waiting for ${pattern}; output:\n${text}`),
          )
        }, timeoutMs)
        const cleanup = (): void => {
          clearTimeout(timer)
          waiters.delete(check)
          child.off('exit', onExit)
        }
        waiters.add(check)
        child.once('exit', onExit)
        check()
      })
    },
    async stop(signal = 'SIGTERM', timeoutMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode
      const exited = once(child, 'exit')
      child.kill(signal)
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
      await exited
      clearTimeout(timer)
      return child.exitCode
    },
  }
}
