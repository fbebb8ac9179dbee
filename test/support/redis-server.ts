import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:net'
import { createClient } from 'redis'
import { IN_CI, redisUnavailableReason } from './redis.js'

/** A redis-server owned by one test file, on a random free port, with no persistence. */
export interface PrivateRedis {
  readonly port: number
  /** `redis://127.0.0.1:<port>` */
  readonly url: string
  /** Starts (or restarts) the server and resolves once it answers PING. */
  start(): Promise<void>
  /** Kills the server with SIGKILL (a crash, not a shutdown) and waits for it to exit. */
  kill(): Promise<void>
  /** Freezes the server (SIGSTOP): connections stay open, nothing answers. */
  pause(): void
  /** Unfreezes a paused server (SIGCONT). */
  resume(): void
}

const running = new Set<ChildProcess>()
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL')
})

/** Why a private redis-server cannot be started here, or `undefined` when it can. */
function redisServerUnavailableReason(): string | undefined {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8', timeout: 5000 })
  return probe.error === undefined && probe.status === 0
    ? undefined
    : 'redis-server is not installed (apt-get install redis-server)'
}

/** Whether suites that start their own redis-server should skip (never under CI). */
export function skipWithoutRedisServer(): boolean {
  const reason = redisServerUnavailableReason()
  if (reason === undefined || IN_CI) return false
  console.warn(`[ccflow tests] skipping private redis-server tests: ${reason}.`)
  return true
}

/** A port that was free a moment ago. */
async function freePort(): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  await new Promise((resolve) => server.close(resolve))
  return port
}

/**
 * Creates (does not start) a private redis-server. Always `kill()` it in `afterAll`; a process
 * `exit` hook kills any that a crashed run left behind.
 */
export async function privateRedis(): Promise<PrivateRedis> {
  const port = await freePort()
  const url = `redis://127.0.0.1:${port}`
  let child: ChildProcess | undefined

  return {
    port,
    url,
    async start() {
      if (child !== undefined) throw new Error('redis-server is already running')
      const started = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
        { stdio: 'ignore' },
      )
      child = started
      running.add(started)
      started.once('exit', () => {
        running.delete(started)
        if (child === started) child = undefined
      })
      for (let i = 0; i < 100; i++) {
        if ((await redisUnavailableReason(url, 200)) === undefined) return
        if (started.exitCode !== null) break
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
      throw new Error(`redis-server did not start on port ${port}`)
    },
    async kill() {
      const current = child
      if (current === undefined) return
      const exited = once(current, 'exit')
      current.kill('SIGCONT')
      current.kill('SIGKILL')
      await exited
    },
    pause() {
      child?.kill('SIGSTOP')
    },
    resume() {
      child?.kill('SIGCONT')
    },
  }
}

/** A node-redis client set up the way the docs recommend, plus what it reported. */
export interface TestRedisClient {
  /** `(args) => client.sendCommand(args)` */
  sendCommand: (args: string[]) => Promise<unknown>
  /** Every 'error' event the client emitted (connection refused, socket closed, ...). */
  errors: Error[]
  /** Resolves once the client is connected (it keeps retrying while Redis is down). */
  ready: Promise<void>
  close(): void
}

/**
 * A node-redis client configured as in the READMEs: an 'error' listener (without one, node-redis
 * crashes the process on the first connection error), `disableOfflineQueue` (commands fail at
 * once while disconnected instead of waiting), and a reconnect strategy that keeps trying.
 * Reconnects quickly here so that recovery tests stay short.
 */
export function testRedisClient(url: string): TestRedisClient {
  const client = createClient({
    url,
    disableOfflineQueue: true,
    socket: {
      connectTimeout: 1000,
      reconnectStrategy: (retries) => Math.min(25 * 2 ** retries, 200),
    },
  })
  const errors: Error[] = []
  client.on('error', (error: Error) => errors.push(error))
  const ready = client.connect().then(() => undefined)
  // A client closed before it ever connected rejects `connect()`; nobody needs to hear about it.
  ready.catch(() => {})
  return {
    sendCommand: (args) => client.sendCommand(args),
    errors,
    ready,
    close() {
      client.destroy()
    },
  }
}
