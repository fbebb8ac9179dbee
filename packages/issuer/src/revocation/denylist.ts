import {
  checkDenylistPrefix,
  checkInteger,
  checkKnownKeys,
  checkObject,
  denylistKey,
  type OptionTable,
  REDIS_COMMAND_OPTIONS,
  type RedisCommandOptions,
  resolveRedisCommand,
} from '@ccflow/core'

/**
 * Where revoked tokens are remembered until they would have expired anyway. The revocation
 * endpoint adds to it; the introspection endpoint and the guards of every API read it.
 *
 * Implement it yourself for another database: `add` must be idempotent and must not resolve
 * before the entry is durable enough for your needs; `has` must reject (not answer `false`)
 * when it cannot tell.
 */
export interface DenylistStore {
  /**
   * Records the token `iss` + `jti` as revoked until `expiresAt` (epoch seconds); an entry whose
   * time has already passed may be skipped.
   */
  add(iss: string, jti: string, expiresAt: number): Promise<void>
  /** Whether the token `iss` + `jti` is on the list. */
  has(iss: string, jti: string): Promise<boolean>
}

/** Options of {@link memoryDenylist}. */
export interface MemoryDenylistOptions {
  /**
   * Most entries kept. When the list is full and no entry has expired, `add` rejects (the
   * revocation endpoint answers 503) rather than forget an earlier revocation.
   * @default MEMORY_DENYLIST_DEFAULTS.max (100000)
   */
  max?: number | undefined
}

/** Defaults of {@link MemoryDenylistOptions}. */
const MEMORY_DENYLIST_DEFAULTS: Readonly<{ max: number }> = Object.freeze({ max: 100_000 })

const MEMORY_DENYLIST_OPTIONS = { max: true } satisfies OptionTable<MemoryDenylistOptions>

/** Options of {@link redisDenylist}. */
export interface RedisDenylistOptions extends RedisCommandOptions {
  /**
   * Prefix of every key. The guards' `redisRevocationCheck` must use the same one.
   * @default DEFAULT_DENYLIST_PREFIX ('ccflow:revoked:')
   */
  prefix?: string | undefined
}

const REDIS_DENYLIST_OPTIONS = {
  ...REDIS_COMMAND_OPTIONS,
  prefix: true,
} satisfies OptionTable<RedisDenylistOptions>

/** `code` of the error {@link memoryDenylist} rejects with when it is full. */
export const DENYLIST_FULL_CODE = 'ERR_CCFLOW_DENYLIST_FULL'

/**
 * An in-process denylist: for a single issuer instance, or tests. Entries expire with their
 * token and the list is bounded; it is not shared between processes and is lost on restart, so
 * run {@link redisDenylist} when there is more than one instance.
 *
 * @example
 * ```ts
 * tokenEndpoint({ ...options, revocation: { store: memoryDenylist() } })
 * ```
 * @throws {TypeError} For an unknown option or a `max` that is not a positive integer.
 */
export function memoryDenylist(options: MemoryDenylistOptions = {}): DenylistStore {
  const where = 'memoryDenylist'
  checkObject(options, where)
  checkKnownKeys(options, MEMORY_DENYLIST_OPTIONS, where)
  const max = checkInteger(
    options.max,
    { where, path: 'max' },
    { min: 1 },
    MEMORY_DENYLIST_DEFAULTS.max,
  )
  // key → expiry in epoch milliseconds
  const entries = new Map<string, number>()

  const sweep = (now: number): void => {
    for (const [key, until] of entries) if (until <= now) entries.delete(key)
  }

  return {
    add(iss, jti, expiresAt) {
      const now = Date.now()
      const until = expiresAt * 1000
      if (!(until > now)) return Promise.resolve()
      const key = denylistKey(iss, jti)
      const known = entries.get(key)
      if (known === undefined && entries.size >= max) {
        sweep(now)
        if (entries.size >= max) {
          const error = new Error('memoryDenylist is full') as Error & { code: string }
          error.code = DENYLIST_FULL_CODE
          return Promise.reject(error)
        }
      }
      entries.set(key, Math.max(until, known ?? 0))
      return Promise.resolve()
    },
    has(iss, jti) {
      const key = denylistKey(iss, jti)
      const until = entries.get(key)
      if (until === undefined) return Promise.resolve(false)
      if (until <= Date.now()) {
        entries.delete(key)
        return Promise.resolve(false)
      }
      return Promise.resolve(true)
    },
  }
}

/**
 * A denylist in Redis, shared by every issuer instance and read by the guards'
 * `redisRevocationCheck` (same `prefix`). Each entry is one key, `prefix` +
 * base64url(SHA-256(iss + "\n" + jti)), set with `PX` so Redis drops it when the token would
 * have expired.
 *
 * Every command is bounded by `timeoutMs`; a failure or timeout rejects, and the endpoints
 * answer 503 (a revocation that cannot be recorded is never reported as done).
 *
 * @example
 * ```ts
 * const redis = createClient({ url: process.env.REDIS_URL, disableOfflineQueue: true })
 * redis.on('error', (err) => log.warn(err))
 * void redis.connect()
 * const store = redisDenylist({ sendCommand: (args) => redis.sendCommand(args) })
 * ```
 * @throws {TypeError} For an unknown option, a missing `sendCommand`, a bad `timeoutMs` or
 *   `prefix`.
 */
export function redisDenylist(options: RedisDenylistOptions): DenylistStore {
  const send = resolveRedisCommand(options, 'redisDenylist', REDIS_DENYLIST_OPTIONS)
  const prefix = checkDenylistPrefix(options.prefix, { where: 'redisDenylist', path: 'prefix' })
  return {
    async add(iss, jti, expiresAt) {
      const ttlMs = expiresAt * 1000 - Date.now()
      if (!(ttlMs >= 1)) return
      // PX (relative) rather than PXAT: the entry then lives as long as intended even when the
      // Redis host's clock differs from ours.
      await send(['SET', prefix + denylistKey(iss, jti), '1', 'PX', String(Math.ceil(ttlMs))])
    },
    async has(iss, jti) {
      const reply = await send(['EXISTS', prefix + denylistKey(iss, jti)])
      const count = typeof reply === 'string' ? Number(reply) : reply
      if (count === 1) return true
      if (count === 0) return false
      throw new TypeError('redisDenylist: unexpected reply to EXISTS')
    },
  }
}
