import {
  checkInteger,
  checkKnownKeys,
  checkObject,
  checkRedisKeyPrefix,
  hashedPairKey,
  type OptionTable,
  REDIS_COMMAND_OPTIONS,
  type RedisCommandOptions,
  resolveRedisCommand,
} from '@ccflow/core'

/**
 * Where the `jti` of every accepted client assertion is remembered until the assertion expires,
 * so that each one is used once (RFC 7523 §3 item 7). The token endpoint records an assertion
 * only after every other check passed, so a forged or mis-addressed assertion can never burn a
 * `jti` of the real client.
 *
 * Implement it yourself for another database: `claim` must be atomic (two concurrent claims of
 * one `jti` resolve `true` for exactly one of them) and must reject, never answer `true`, when it
 * cannot tell; the endpoint then answers 503 and issues nothing (fail closed).
 */
export interface ReplayStore {
  /**
   * Records the assertion `jti` of `clientId` until `expiresAt` (epoch seconds). Resolves `true`
   * when it was not recorded before (first use), `false` when it was (a replay).
   */
  claim(clientId: string, jti: string, expiresAt: number): Promise<boolean>
}

/** Options of {@link memoryReplayStore}. */
export interface MemoryReplayStoreOptions {
  /**
   * Most assertions remembered. When the store is full and none has expired, `claim` rejects (the
   * endpoint answers 503) rather than forget an assertion that could then be replayed.
   * @default MEMORY_REPLAY_STORE_DEFAULTS.max (100000)
   */
  max?: number | undefined
}

/** Defaults of {@link MemoryReplayStoreOptions}. */
const MEMORY_REPLAY_STORE_DEFAULTS: Readonly<{ max: number }> = Object.freeze({ max: 100_000 })
const MEMORY_REPLAY_STORE_OPTIONS = { max: true } satisfies OptionTable<MemoryReplayStoreOptions>

/** Options of {@link redisReplayStore}. */
export interface RedisReplayStoreOptions extends RedisCommandOptions {
  /**
   * Prefix of every key; give each issuer deployment sharing a Redis its own.
   * @default DEFAULT_REPLAY_PREFIX ('ccflow:assertion:')
   */
  prefix?: string | undefined
}

/** The default key prefix of {@link redisReplayStore}. */
export const DEFAULT_REPLAY_PREFIX = 'ccflow:assertion:'
const REDIS_REPLAY_STORE_OPTIONS = {
  ...REDIS_COMMAND_OPTIONS,
  prefix: true,
} satisfies OptionTable<RedisReplayStoreOptions>

/** `code` of the error {@link memoryReplayStore} rejects with when it is full. */
export const REPLAY_STORE_FULL_CODE = 'ERR_CCFLOW_REPLAY_STORE_FULL'

/**
 * The key of one assertion: base64url(SHA-256(client_id + "\n" + jti)) (core's hashedPairKey).
 * Fixed length whatever the assertion holds, and nothing from it reaches the key as text.
 */
const replayKey = hashedPairKey

/**
 * An in-process replay store: the default, right for a single issuer instance. Entries expire
 * with their assertion and the store is bounded; it is not shared between processes, so run
 * {@link redisReplayStore} when there is more than one instance.
 *
 * @example
 * ```ts
 * tokenEndpoint({ ...options, privateKeyJwt: { replayStore: memoryReplayStore({ max: 50_000 }) } })
 * ```
 * @throws {TypeError} For an unknown option or a `max` that is not a positive integer.
 */
export function memoryReplayStore(options: MemoryReplayStoreOptions = {}): ReplayStore {
  const where = 'memoryReplayStore'
  checkObject(options, where)
  checkKnownKeys(options, MEMORY_REPLAY_STORE_OPTIONS, where)
  const max = checkInteger(
    options.max,
    { where, path: 'max' },
    { min: 1 },
    MEMORY_REPLAY_STORE_DEFAULTS.max,
  )
  // key → expiry in epoch milliseconds
  const entries = new Map<string, number>()
  const sweep = (now: number): void => {
    for (const [key, until] of entries) if (until <= now) entries.delete(key)
  }
  return {
    claim(clientId, jti, expiresAt) {
      const now = Date.now()
      const key = replayKey(clientId, jti)
      const known = entries.get(key)
      if (known !== undefined && known > now) return Promise.resolve(false)
      if (known === undefined && entries.size >= max) {
        sweep(now)
        if (entries.size >= max) {
          const error = new Error('memoryReplayStore is full') as Error & { code: string }
          error.code = REPLAY_STORE_FULL_CODE
          return Promise.reject(error)
        }
      }
      // At least a second, so an assertion that expires right now is still remembered while a
      // concurrent request for it can run.
      entries.set(key, Math.max(expiresAt * 1000, now + 1000))
      return Promise.resolve(true)
    },
  }
}

/**
 * A replay store in Redis, shared by every issuer instance: one key per assertion, set with
 * `SET key 1 NX PX <ms until expiry>`, so the first instance to record a `jti` wins, atomically,
 * and Redis drops the key when the assertion could no longer be used anyway.
 *
 * Every command is bounded by `timeoutMs`; a failure or timeout rejects, and the endpoint answers
 * 503 `temporarily_unavailable` and issues nothing.
 *
 * @example
 * ```ts
 * const redis = createClient({ url: process.env.REDIS_URL, disableOfflineQueue: true })
 * redis.on('error', (err) => log.warn(err))
 * void redis.connect()
 * const replayStore = redisReplayStore({ sendCommand: (args) => redis.sendCommand(args) })
 * ```
 * @throws {TypeError} For an unknown option, a missing `sendCommand`, a bad `timeoutMs` or
 *   `prefix`.
 * @see RFC 7523 §3 item 7
 */
export function redisReplayStore(options: RedisReplayStoreOptions): ReplayStore {
  const where = 'redisReplayStore'
  const send = resolveRedisCommand(options, where, REDIS_REPLAY_STORE_OPTIONS)
  const prefix = checkRedisKeyPrefix(
    options.prefix,
    { where, path: 'prefix' },
    DEFAULT_REPLAY_PREFIX,
  )
  return {
    async claim(clientId, jti, expiresAt) {
      // PX (relative) rather than PXAT: the entry lives as long as intended even when the Redis
      // host's clock differs from ours. At least a second, as in memory.
      const ttlMs = Math.max(Math.ceil(expiresAt * 1000 - Date.now()), 1000)
      const reply = await send([
        'SET',
        prefix + replayKey(clientId, jti),
        '1',
        'NX',
        'PX',
        String(ttlMs),
      ])
      if (reply === 'OK') return true
      if (reply === null) return false
      throw new TypeError(`${where}: unexpected reply to SET NX`)
    },
  }
}
