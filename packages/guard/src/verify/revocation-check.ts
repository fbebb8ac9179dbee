import {
  DEFAULT_DENYLIST_PREFIX,
  denylistKey,
  isDenylistPrefix,
  MAX_REDIS_TIMEOUT_MS,
  type RedisSendCommand,
  withRedisTimeout,
} from '@ccflow/core'
import { LRUCache } from 'lru-cache'

export type { RedisSendCommand } from '@ccflow/core'

/** The claims a revocation check reads. */
export interface RevocationCheckClaims {
  iss: string
  jti?: string
  exp?: number
}

/** An `isRevoked` for {@link RequireTokenOptions}. */
export type RevocationCheck = (claims: RevocationCheckClaims) => Promise<boolean>

/** Options of {@link redisRevocationCheck}. */
export interface RedisRevocationCheckOptions {
  /** Sends one raw command to the Redis that holds the issuer's denylist. */
  sendCommand: RedisSendCommand
  /**
   * Key prefix; must be the issuer's `redisDenylist` prefix.
   * @default 'ccflow:revoked:'
   */
  prefix?: string
  /**
   * Milliseconds an answer is reused without asking Redis again. This is the bound within which
   * a revoked token stops working on every guard instance (plus Redis replication delay, if you
   * read from a replica). `0` asks Redis on every request.
   * @default 5000
   */
  cacheTtlMs?: number
  /**
   * Most answers kept (least recently used dropped first).
   * @default 10000
   */
  cacheMax?: number
  /**
   * Milliseconds after which an unanswered lookup counts as failed, so a Redis that stops
   * replying delays a request by at most this long.
   * @default 500
   */
  timeoutMs?: number
  /**
   * What to do when Redis cannot answer (down, timeout, unexpected reply): `false` refuses the
   * request with 503 (fail closed: a revoked token is never let through); `true` lets the token
   * through as not revoked (fail open: revocation is best effort while Redis is down).
   * @default false
   */
  failOpen?: boolean
  /**
   * Told about every failed lookup (for logs and metrics); never awaited, a throw is swallowed.
   * @default a `console.warn` when lookups start failing (not once per request)
   */
  onError?: (error: unknown) => void
}

const OPTION_KEYS: ReadonlySet<string> = new Set([
  'sendCommand',
  'prefix',
  'cacheTtlMs',
  'cacheMax',
  'timeoutMs',
  'failOpen',
  'onError',
])
// lru-cache reads time through `perf`; Date.now keeps it on the wall clock (and fake timers).
const wallClock = { now: (): number => Date.now() }

/**
 * An `isRevoked` check against the denylist that `@ccflow/issuer`'s revocation endpoint writes
 * to Redis (`redisDenylist`), for every guard instance.
 *
 * Each answer is kept for `cacheTtlMs` (a revoked one until the token expires, since revocation
 * is final), so a busy API asks Redis about each token at most once per `cacheTtlMs`, and
 * concurrent requests with the same token share one lookup. A token revoked at time T is
 * therefore refused by every instance from T + `cacheTtlMs` at the latest.
 *
 * Failure: every lookup is bounded by `timeoutMs`. When Redis cannot answer, the guard answers
 * 503 (`revocation_check_failed`) by default; with `failOpen: true` the token is accepted. The
 * check holds no connection itself; give your client `disableOfflineQueue: true` so that
 * lookups fail at once while it reconnects.
 *
 * A token without `jti` cannot be on the denylist and is reported as not revoked.
 *
 * @example
 * ```ts
 * const redis = createClient({ url: process.env.REDIS_URL, disableOfflineQueue: true })
 * redis.on('error', (err) => log.warn(err))
 * void redis.connect()
 * app.use(requireToken({
 *   issuer, audience, discover: true,
 *   isRevoked: redisRevocationCheck({ sendCommand: (args) => redis.sendCommand(args) }),
 * }))
 * ```
 * @throws {TypeError} For an unknown option or a bad value, naming it.
 * @see RFC 7009 (the issuer side), RFC 9068 §2.2 (`jti`)
 */
export function redisRevocationCheck(options: RedisRevocationCheckOptions): RevocationCheck {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError('redisRevocationCheck: options must be an object')
  }
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.has(key)) throw new TypeError(`redisRevocationCheck: unknown option "${key}"`)
  }
  const { sendCommand, failOpen = false, onError } = options
  if (typeof sendCommand !== 'function') {
    fail('sendCommand', 'is required and must be a function (args: string[]) => Promise')
  }
  const prefix = options.prefix ?? DEFAULT_DENYLIST_PREFIX
  if (!isDenylistPrefix(prefix)) {
    fail('prefix', 'must be 1-128 printable ASCII characters without spaces')
  }
  const cacheTtlMs = integer(options.cacheTtlMs, 'cacheTtlMs', 5000, 0, 3_600_000)
  const cacheMax = integer(options.cacheMax, 'cacheMax', 10_000, 1, 10_000_000)
  // Tighter than the issuer's Redis default (1000 ms): this lookup sits on every API request.
  const timeoutMs = integer(options.timeoutMs, 'timeoutMs', 500, 1, MAX_REDIS_TIMEOUT_MS)
  const exists = withRedisTimeout(sendCommand, timeoutMs)
  if (typeof failOpen !== 'boolean') fail('failOpen', 'must be a boolean')
  if (onError !== undefined && typeof onError !== 'function') fail('onError', 'must be a function')

  const cache = new LRUCache<string, boolean>({ max: cacheMax, ttlResolution: 0, perf: wallClock })
  const inFlight = new Map<string, Promise<boolean>>()
  let failing = false

  const report = (error: unknown): void => {
    if (onError !== undefined) {
      try {
        onError(error)
      } catch {
        // Observation only: the hook cannot change the answer.
      }
    } else if (!failing) {
      console.warn(
        `@ccflow/guard: the revocation check cannot reach Redis; ${
          failOpen ? 'tokens are accepted unchecked' : 'requests are refused with 503'
        } until it answers again`,
        error,
      )
    }
    failing = true
  }

  const lookup = async (key: string, exp: number | undefined): Promise<boolean> => {
    const reply = await exists(['EXISTS', prefix + key])
    const count = typeof reply === 'string' ? Number(reply) : reply
    if (count !== 0 && count !== 1) throw new TypeError('unexpected reply to EXISTS')
    const revoked = count === 1
    failing = false
    // A revocation is final: keep that answer until the token expires.
    const ttl =
      revoked && exp !== undefined ? Math.max(cacheTtlMs, exp * 1000 - Date.now()) : cacheTtlMs
    if (ttl >= 1) cache.set(key, revoked, { ttl: Math.floor(ttl) })
    return revoked
  }

  return (claims) => {
    const { iss, jti, exp } = claims
    if (typeof iss !== 'string' || typeof jti !== 'string') return Promise.resolve(false)
    const key = denylistKey(iss, jti)
    const cached = cache.get(key)
    if (cached !== undefined) return Promise.resolve(cached)
    let pending = inFlight.get(key)
    if (pending === undefined) {
      pending = lookup(key, typeof exp === 'number' ? exp : undefined).finally(() =>
        inFlight.delete(key),
      )
      inFlight.set(key, pending)
    }
    return pending.then(undefined, (error: unknown) => {
      report(error)
      if (failOpen) return false
      throw error
    })
  }
}

function fail(name: string, message: string): never {
  throw new TypeError(`redisRevocationCheck: option "${name}" ${message}`)
}

function integer(value: unknown, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(name, `must be an integer from ${min} to ${max}`)
  }
  return value
}
