import { createHash } from 'node:crypto'

/**
 * The one thing ccflow needs from a Redis client: send a raw command and resolve with its reply.
 * Every maintained client has it, so ccflow depends on none of them:
 *
 * - node-redis: `(args) => client.sendCommand(args)`
 * - ioredis: `(args) => client.call(...(args as [string, ...string[]]))`
 *
 * This is the shape rate-limit-redis uses too, with the arguments as one array.
 */
export type RedisSendCommand = (args: string[]) => Promise<unknown>

/** How ccflow reaches Redis. */
export interface RedisCommandOptions {
  /** Sends one raw command; see {@link RedisSendCommand}. */
  sendCommand: RedisSendCommand
  /**
   * Milliseconds after which a command that has not answered counts as failed. A Redis that is
   * down answers at once (with the client's offline queue disabled); this bounds the other case,
   * a Redis or network that accepts the command and never replies.
   * @default 1000
   */
  timeoutMs?: number
}

/** The reply types rate-limit-redis reads (its `RedisReply`). */
export type RateLimitRedisReply = boolean | number | string | Array<boolean | number | string>

/** The default command timeout in milliseconds. */
export const DEFAULT_REDIS_TIMEOUT_MS = 1000

/** `code` of the error a command rejects with when it outlives `timeoutMs`. */
export const REDIS_TIMEOUT_CODE = 'ERR_CCFLOW_REDIS_TIMEOUT'

const OPTION_KEYS: ReadonlySet<string> = new Set(['sendCommand', 'timeoutMs'])

/**
 * Checks {@link RedisCommandOptions} (plus `extraKeys` that the caller checks itself) and returns
 * `sendCommand` wrapped with the timeout.
 *
 * @throws {TypeError} Naming the option, for an unknown key or a bad value.
 * @internal
 */
export function resolveRedisCommand(
  options: RedisCommandOptions,
  where: string,
  extraKeys: readonly string[] = [],
): RedisSendCommand {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`${where}: options must be an object`)
  }
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.has(key) && !extraKeys.includes(key)) {
      throw new TypeError(`${where}: unknown option "${key}"`)
    }
  }
  if (typeof options.sendCommand !== 'function') {
    throw new TypeError(
      `${where}: option "sendCommand" is required and must be a function (args: string[]) => Promise`,
    )
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_REDIS_TIMEOUT_MS
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 60_000) {
    throw new TypeError(`${where}: option "timeoutMs" must be an integer from 1 to 60000`)
  }
  return withTimeout(options.sendCommand, timeoutMs)
}

/**
 * Wraps `send` so that every command settles within `timeoutMs`: a reply that comes later is
 * dropped, and a synchronous throw becomes a rejection. The timer is unref'd, so a pending
 * command never keeps a process alive.
 *
 * @internal
 */
export function withTimeout(send: RedisSendCommand, timeoutMs: number): RedisSendCommand {
  return (args) =>
    new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        const error = new Error(
          `Redis did not answer ${args[0] ?? 'a command'} within ${timeoutMs} ms`,
        ) as Error & { code: string }
        error.code = REDIS_TIMEOUT_CODE
        reject(error)
      }, timeoutMs)
      timer.unref()
      let pending: Promise<unknown>
      try {
        pending = Promise.resolve(send(args))
      } catch (error) {
        pending = Promise.reject(error instanceof Error ? error : new Error(String(error)))
      }
      pending.then(
        (reply) => {
          clearTimeout(timer)
          resolve(reply)
        },
        (error: unknown) => {
          clearTimeout(timer)
          reject(error instanceof Error ? error : new Error(String(error)))
        },
      )
    })
}

/**
 * Adapts a Redis client for rate-limit-redis's `RedisStore`, so that the issuer's rate limits can
 * be shared by every instance.
 *
 * It adds two things to `sendCommand`:
 * - the `timeoutMs` bound, so a Redis that stops answering delays a token request by at most
 *   that long (then the limiter's `passOnStoreError` decides: let it through, or 503);
 * - recovery from a Redis that is down when the process starts: rate-limit-redis loads its Lua
 *   scripts once, at startup, and keeps the failed load forever (every later increment fails,
 *   even after Redis is back). When `SCRIPT LOAD` fails, this answers with the script's SHA-1
 *   (which is how Redis names scripts), so the first increment after Redis returns gets
 *   `NOSCRIPT` and rate-limit-redis loads the script again, as it does after a Redis restart.
 *
 * @example
 * ```ts
 * import { RedisStore } from 'rate-limit-redis'
 *
 * const sendCommand = rateLimitRedisCommand({ sendCommand: (args) => redis.sendCommand(args) })
 * tokenEndpoint({
 *   ...options,
 *   rateLimit: {
 *     failures: { store: new RedisStore({ sendCommand, prefix: 'ccflow:rl:failures:' }) },
 *     issuance: { store: new RedisStore({ sendCommand, prefix: 'ccflow:rl:issuance:' }) },
 *   },
 * })
 * ```
 * @returns The variadic `sendCommand` that rate-limit-redis's `RedisStore` takes.
 * @throws {TypeError} For an unknown option, a missing `sendCommand` or a bad `timeoutMs`.
 * @see https://github.com/express-rate-limit/rate-limit-redis
 */
export function rateLimitRedisCommand(
  options: RedisCommandOptions,
): (...args: string[]) => Promise<RateLimitRedisReply> {
  const send = resolveRedisCommand(options, 'rateLimitRedisCommand')
  return async (...args) => {
    try {
      return (await send(args)) as RateLimitRedisReply
    } catch (error) {
      const script = args[2]
      if (
        args.length === 3 &&
        args[0]?.toUpperCase() === 'SCRIPT' &&
        args[1]?.toUpperCase() === 'LOAD' &&
        script !== undefined
      ) {
        return createHash('sha1').update(script).digest('hex')
      }
      throw error
    }
  }
}
