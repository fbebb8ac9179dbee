import { createHash } from 'node:crypto'
import { resolveRedisCommand, type RedisCommandOptions } from '@ccflow/core'

/** The reply types rate-limit-redis reads (its `RedisReply`). */
export type RateLimitRedisReply = boolean | number | string | Array<boolean | number | string>

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
