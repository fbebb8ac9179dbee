/**
 * The Redis connection of the token server and the resource server when `REDIS_URL` is set, set
 * up so that Redis being down never crashes or hangs a program: see "Running several instances"
 * in the packages' READMEs.
 */
import { createClient } from 'redis'
import { ConfigError, type Env, optional } from './env.js'
import type { Logger } from './log.js'

/** What ccflow's Redis stores need: one raw command at a time; and a readiness check. */
export interface RedisConnection {
  sendCommand: (args: string[]) => Promise<unknown>
  /** Whether Redis answers `PING` within `timeoutMs` (false at once while disconnected). */
  ping(timeoutMs: number): Promise<boolean>
  close(): void
}

/** `REDIS_URL`, if set: a `redis://` or `rediss://` (TLS) URL. */
export function redisUrl(vars: Env): string | undefined {
  const value = optional(vars, 'REDIS_URL')
  if (value !== undefined && !/^rediss?:\/\/[^\s]+$/.test(value)) {
    // The value is not echoed: it may hold a password.
    throw new ConfigError('REDIS_URL must be a redis:// or rediss:// URL')
  }
  return value
}

/**
 * Connects with node-redis (the client maintained by Redis, written in TypeScript, reconnecting
 * by itself) and returns at once: the program starts even while Redis is down.
 */
export function connectRedis(url: string, logger: Logger): RedisConnection {
  const client = createClient({
    url,
    // While disconnected a command fails at once instead of waiting in a queue, so the stores
    // fail open or closed right away, as documented.
    disableOfflineQueue: true,
    // Keep reconnecting for ever, backing off up to 2 s.
    socket: {
      connectTimeout: 2000,
      reconnectStrategy: (retries) => Math.min(100 * 2 ** retries, 2000),
    },
  })
  let down = false
  // Required: without an 'error' listener node-redis throws, and the process dies. One line per
  // outage rather than one per reconnect attempt.
  client.on('error', (err: Error) => {
    if (!down) logger.warn({ err: err.message }, 'redis unavailable; reconnecting')
    down = true
  })
  client.on('ready', () => {
    if (down) logger.warn('redis connected again')
    down = false
  })
  client.connect().catch(() => {})
  return {
    sendCommand: (args) => client.sendCommand(args),
    async ping(timeoutMs) {
      if (!client.isReady) return false
      let timer: NodeJS.Timeout | undefined
      const late = new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs)
      })
      try {
        return await Promise.race([
          client.sendCommand(['PING']).then((reply: unknown) => reply === 'PONG'),
          late,
        ])
      } catch {
        return false
      } finally {
        clearTimeout(timer)
      }
    },
    close: () => client.destroy(),
  }
}
