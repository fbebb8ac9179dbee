// Child processes: the target servers (core 0) and the load generator (core 1). Every child is
// tracked and killed when the harness exits, fails or is interrupted.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'

const live = new Set<ChildProcess>()
const exitHooks: (() => void)[] = []

function killAll(): void {
  for (const child of live) child.kill('SIGKILL')
  live.clear()
  for (const hook of exitHooks.splice(0)) hook()
}

process.on('exit', killAll)
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    console.error(`\nbench: ${signal}, stopping every child process`)
    killAll()
    process.exit(130)
  })
}

/** Runs `hook` once when the harness exits (after the children are killed). */
export function onExit(hook: () => void): void {
  exitHooks.push(hook)
}

export function track(child: ChildProcess): ChildProcess {
  live.add(child)
  child.once('exit', () => live.delete(child))
  return child
}

function hasCommand(command: string, args: string[]): boolean {
  const result = spawnSync(command, args, { stdio: 'ignore' })
  return result.error === undefined
}

/** Core pinning needs taskset and at least two cores: server on core 0, load on core 1. */
export const PINNING: boolean = availableParallelism() >= 2 && hasCommand('taskset', ['-V'])
const SERVER_CORE = 0
export const LOAD_CORE = 1

/** Command and arguments that run `command` on one core when pinning is available. */
export function pinned(core: number, command: string, args: string[]): [string, string[]] {
  return PINNING ? ['taskset', ['-c', String(core), command, ...args]] : [command, args]
}

/** Moves the harness itself (every thread) to the load core, off the server's core. */
export function pinSelf(): void {
  if (PINNING) spawnSync('taskset', ['-a', '-p', '-c', String(LOAD_CORE), String(process.pid)])
}

export function hasWrk(): boolean {
  return hasCommand('wrk', ['-v'])
}

export interface MemoryStatus {
  /** VmHWM: peak resident set size, MB. */
  peakMb: number
  /** VmRSS: current resident set size, MB. */
  rssMb: number
}

/** Reads /proc/<pid>/status (Linux); undefined elsewhere or when the process is gone. */
export function memoryOf(pid: number): MemoryStatus | undefined {
  let status: string
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8')
  } catch {
    return undefined
  }
  const field = (name: string): number => {
    const match = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)
    return match?.[1] === undefined ? Number.NaN : Number(match[1]) / 1024
  }
  return { peakMb: field('VmHWM'), rssMb: field('VmRSS') }
}

/** Clock ticks per second of /proc's CPU times (`getconf CLK_TCK`; 100 on Linux in practice). */
let clockTicks: number | undefined
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    const out = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout
    const n = Number(typeof out === 'string' ? out.trim() : '')
    clockTicks = Number.isInteger(n) && n > 0 ? n : 100
  }
  return clockTicks
}

/**
 * CPU time the process has used so far, user + system over all its threads (GC, libuv pool), in
 * µs: utime + stime of /proc/<pid>/stat (Linux), the same figure as the child's own
 * process.cpuUsage(), read from outside so the server needs no extra route or channel. The
 * resolution is one clock tick (10 ms), well under 1% of a measured window. Undefined elsewhere
 * or when the process is gone.
 */
export function cpuTimeOf(pid: number): number | undefined {
  let stat: string
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return undefined
  }
  // The command name (field 2) is in parentheses and may hold spaces: count from the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  // fields[0] is field 3 (state), so utime (field 14) and stime (field 15) are fields[11], [12].
  const ticks = Number(fields[11]) + Number(fields[12])
  return Number.isFinite(ticks) ? (ticks * 1e6) / ticksPerSecond() : undefined
}

export interface RunningServer {
  port: number
  pid: number
  /** stderr so far, for failure reports. */
  log(): string
  stop(): Promise<void>
}

const SERVE = fileURLToPath(new URL('../servers/serve.mjs', import.meta.url))

/** How {@link startServer} launches the server. */
export interface LaunchOptions {
  /** How long to wait for `BENCH_READY`; @default 20 s */
  timeoutMs?: number
  /**
   * A program to run Node under (valgrind and its flags), instead of pinning it to the server
   * core.
   */
  wrapper?: readonly string[]
}

/**
 * Starts one target server as a child process (pinned to the server core) and waits for its
 * `BENCH_READY` line. Node runs the plain .mjs servers without a loader, so the RSS is theirs.
 */
export function startServer(
  server: string,
  options: Record<string, string>,
  fixturesFile: string,
  nodeArgs: readonly string[] = [],
  { timeoutMs = 20_000, wrapper }: LaunchOptions = {},
): Promise<RunningServer> {
  const nodeCommand = [...nodeArgs, SERVE, server, JSON.stringify(options)]
  const [command, args] =
    wrapper === undefined || wrapper[0] === undefined
      ? pinned(SERVER_CORE, process.execPath, nodeCommand)
      : [wrapper[0], [...wrapper.slice(1), process.execPath, ...nodeCommand]]
  const child = track(
    spawn(command, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, BENCH_FIXTURES: fixturesFile, NODE_ENV: 'production' },
    }),
  )
  let stderr = ''
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    if (stderr.length < 64 * 1024) stderr += chunk
  })

  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    child.stdin?.end()
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 2000)
    await exited
    clearTimeout(timer)
  }

  return new Promise<RunningServer>((resolve, reject) => {
    let stdout = ''
    const fail = (why: string): void => {
      clearTimeout(timer)
      void stop()
      reject(new Error(`${server}: ${why}${stderr ? `\n${stderr.trim()}` : ''}`))
    }
    const timer = setTimeout(() => fail(`not ready after ${timeoutMs} ms`), timeoutMs)
    child.once('error', (err) => fail(err.message))
    const early = (code: number | null, signal: string | null): void =>
      fail(`exited (${signal ?? code}) before it was ready`)
    child.once('exit', early)
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk
      const match = /^BENCH_READY (.+)$/m.exec(stdout)
      if (match?.[1] === undefined) return
      clearTimeout(timer)
      child.removeListener('exit', early)
      const { port } = JSON.parse(match[1]) as { port: number }
      resolve({ port, pid: child.pid ?? -1, log: () => stderr, stop })
    })
  })
}
