import {
  checkDenylistPrefix,
  checkBoolean,
  checkFunction,
  checkInteger,
  checkKnownKeys,
  checkObject,
  DEFAULT_DENYLIST_PREFIX,
  denylistKey,
  MAX_REDIS_TIMEOUT_MS,
  type OptionPath,
  type OptionTable,
  type RedisSendCommand,
  withRedisTimeout,
} from '@ccflow/core'
import { LRUCache } from 'lru-cache'

export type { RedisSendCommand } from '@ccflow/core'

/** The claims a revocation check reads. */
export interface RevocationCheckClaims {
  iss: string
  jti?: string | undefined
  exp?: number | undefined
}

/** An `isRevoked` for {@link RequireTokenOptions}. */
export type RevocationCheck = (claims: RevocationCheckClaims) => Promise<boolean>

/** Options of {@link redisRevocationCheck}. */
export interface RedisRevocationCheckOptions {
  /** Sends one raw command to the Redis that holds the issuer's denylist. */
  sendCommand: RedisSendCommand
  /**
   * Key prefix; must be the issuer's `redisDenylist` prefix.
   * @default DEFAULT_DENYLIST_PREFIX ('ccflow:revoked:')
   */
  prefix?: string | undefined
  /**
   * Milliseconds an answer is reused without asking Redis again. This is the bound within which
   * a revoked token stops working on every guard instance (plus Redis replication delay, if you
   * read from a replica). `0` asks Redis on every request (0 to 3600000).
   * @default REDIS_REVOCATION_CHECK_DEFAULTS.cacheTtlMs (5000)
   */
  cacheTtlMs?: number | undefined
  /**
   * Most answers kept (least recently used dropped first).
   * @default REDIS_REVOCATION_CHECK_DEFAULTS.cacheMax (10000)
   */
  cacheMax?: number | undefined
  /**
   * Milliseconds after which an unanswered lookup counts as failed, so a Redis that stops
   * replying delays a request by at most this long (1 to 60000).
   * @default REVOCATION_LOOKUP_TIMEOUT_MS (500)
   */
  timeoutMs?: number | undefined
  /**
   * What to do when Redis cannot answer (down, timeout, unexpected reply): `false` refuses the
   * request with 503 (fail closed: a revoked token is never let through); `true` lets the token
   * through as not revoked (fail open: revocation is best effort while Redis is down).
   * @default false
   */
  failOpen?: boolean | undefined
  /**
   * Told about every failed lookup (for logs and metrics); never awaited, a throw is swallowed.
   * @default a `console.warn` when lookups start failing (not once per request)
   */
  onError?: ((error: unknown) => void) | undefined
}

/**
 * The default `timeoutMs` of {@link redisRevocationCheck}: half of core's
 * `DEFAULT_REDIS_TIMEOUT_MS` (1000, used by the issuer's stores), deliberately. This lookup sits
 * on every API request, while the issuer's Redis commands run on token and revocation requests
 * only; a Redis that stops answering should cost an API request at most half a second.
 */
export const REVOCATION_LOOKUP_TIMEOUT_MS = 500

/** The defaults of {@link RedisRevocationCheckOptions}. */
export const REDIS_REVOCATION_CHECK_DEFAULTS: Readonly<{
  prefix: string
  cacheTtlMs: number
  cacheMax: number
  timeoutMs: number
  failOpen: boolean
}> = Object.freeze({
  prefix: DEFAULT_DENYLIST_PREFIX,
  cacheTtlMs: 5000,
  cacheMax: 10_000,
  timeoutMs: REVOCATION_LOOKUP_TIMEOUT_MS,
  failOpen: false,
})

const OPTIONS = {
  sendCommand: true,
  prefix: true,
  cacheTtlMs: true,
  cacheMax: true,
  timeoutMs: true,
  failOpen: true,
  onError: true,
} satisfies OptionTable<RedisRevocationCheckOptions>
const WHERE = 'redisRevocationCheck'
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
  checkObject(options, WHERE)
  checkKnownKeys(options, OPTIONS, WHERE)
  const at = (path: string): OptionPath => ({ where: WHERE, path })
  const d = REDIS_REVOCATION_CHECK_DEFAULTS
  const sendCommand = checkFunction(options.sendCommand, at('sendCommand'), {
    expected: 'a function (args: string[]) => Promise',
  }) as RedisSendCommand
  const prefix = checkDenylistPrefix(options.prefix, at('prefix'))
  const cacheTtlMs = checkInteger(
    options.cacheTtlMs,
    at('cacheTtlMs'),
    { min: 0, max: 3_600_000 },
    d.cacheTtlMs,
  )
  const cacheMax = checkInteger(
    options.cacheMax,
    at('cacheMax'),
    { min: 1, max: 10_000_000 },
    d.cacheMax,
  )
  const timeoutMs = checkInteger(
    options.timeoutMs,
    at('timeoutMs'),
    { min: 1, max: MAX_REDIS_TIMEOUT_MS },
    d.timeoutMs,
  )
  const exists = withRedisTimeout(sendCommand, timeoutMs)
  const failOpen = checkBoolean(options.failOpen, at('failOpen'), d.failOpen)
  const onError = checkFunction(options.onError, at('onError'))

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
        `redisRevocationCheck: cannot reach Redis; ${
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
