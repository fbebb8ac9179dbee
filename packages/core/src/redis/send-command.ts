import { settleWithin } from '../timeout.js'
import { checkFunction, checkInteger, checkObject } from '../options/check.js'
import { checkKnownKeys, type OptionTable } from '../options/keys.js'

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
   * @default 1000 (the guard's per-request revocation lookup: 500)
   */
  timeoutMs?: number | undefined
}

/** The default command timeout in milliseconds. */
export const DEFAULT_REDIS_TIMEOUT_MS = 1000

/** `code` of the error a command rejects with when it outlives its timeout. */
export const REDIS_TIMEOUT_CODE = 'ERR_CCFLOW_REDIS_TIMEOUT'

/** Longest timeout a Redis command may be given, in milliseconds. */
export const MAX_REDIS_TIMEOUT_MS = 60_000

/**
 * Wraps `send` so that every command settles within `timeoutMs`: a reply that comes later is
 * dropped, a synchronous throw becomes a rejection, and a rejection with a non-Error becomes an
 * Error. The timer is unref'd, so a pending command never keeps a process alive.
 */
export function withRedisTimeout(send: RedisSendCommand, timeoutMs: number): RedisSendCommand {
  return (args) => {
    let pending: Promise<unknown>
    try {
      pending = Promise.resolve(send(args)).catch((error: unknown) => {
        throw asError(error)
      })
    } catch (error) {
      pending = Promise.reject(asError(error))
    }
    return settleWithin(pending, timeoutMs, () => {
      const error = new Error(
        `Redis did not answer ${args[0] ?? 'a command'} within ${timeoutMs} ms`,
      ) as Error & { code: string }
      error.code = REDIS_TIMEOUT_CODE
      return error
    })
  }
}

/** Every {@link RedisCommandOptions} name; a factory that adds options spreads it into its table. */
export const REDIS_COMMAND_OPTIONS: OptionTable<RedisCommandOptions> = {
  sendCommand: true,
  timeoutMs: true,
} satisfies OptionTable<RedisCommandOptions>

/**
 * Checks {@link RedisCommandOptions} and returns `sendCommand` wrapped with the timeout. `table`
 * lists every option the calling factory accepts (its own extra ones it checks itself).
 *
 * @throws {TypeError} `<where>: option "<name>" …`, for an unknown key or a bad value.
 */
export function resolveRedisCommand(
  options: RedisCommandOptions,
  where: string,
  table: Readonly<Record<string, true>> = REDIS_COMMAND_OPTIONS,
): RedisSendCommand {
  checkObject(options, where)
  checkKnownKeys(options, table, where)
  const sendCommand = checkFunction(
    options.sendCommand,
    { where, path: 'sendCommand' },
    { expected: 'a function (args: string[]) => Promise' },
  ) as RedisSendCommand
  const timeoutMs = checkInteger(
    options.timeoutMs,
    { where, path: 'timeoutMs' },
    { min: 1, max: MAX_REDIS_TIMEOUT_MS },
    DEFAULT_REDIS_TIMEOUT_MS,
  )
  return withRedisTimeout(sendCommand, timeoutMs)
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error))
}
