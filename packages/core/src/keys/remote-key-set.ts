// Remote JWKS cache for the verifier.
//
// Decision: a small cache of our own on node:crypto + the global fetch, not jwks-rsa.
// - jwks-rsa 4 depends on jose 6, which is ESM-only, so it loads from CommonJS only through
//   require(esm); our CJS build must load under `node --no-experimental-require-module` (STYLE.md
//   decision 2; auth0/node-jwks-rsa #493, #507).
// - jwks-rsa downloads the whole set for every unknown kid and answers its own rate limit with a
//   500-style error; we want one request per cooldown for any flood of kids and a 503 with
//   Retry-After when keys cannot be had, never a 401 or 500.
// - Keys are imported once per fetch with crypto.createPublicKey({ format: 'jwk' }) and indexed
//   by kid, so a request does a Map lookup, not a JWK → PEM conversion.
// - No background timers: refresh is lazy, on access, single-flight. Nothing keeps the process
//   alive and close() has nothing to leak. Time comes from Date.now(), so tests drive max-age and
//   cooldown with vi.setSystemTime().

import type { KeyObject } from 'node:crypto'
import { discoverJwksUri } from './discovery.js'
import { groupByKid } from './group-by-kid.js'
import {
  type FetchLimits,
  fetchJson,
  freshnessLifetime,
  KeySourceFetchError,
  type KeySourceFailureReason,
} from './jwks-fetch.js'
import { type CachedSet, importJwks, keyFor, onlyKeyFor, type SkippedKeyReason } from './jwk-set.js'
import {
  type CreateRemoteKeySetOptions,
  MAX_MAX_AGE_SECONDS,
  type RemoteKeySetOptionsContext,
  resolveOptions,
} from './remote-key-set-options.js'

export type { KeySourceFailureReason, KeySourceFetch } from './jwks-fetch.js'
export type { RemoteKeyAlgorithm, SkippedKeyReason } from './jwk-set.js'
export {
  REMOTE_KEY_SET_ALIASES,
  REMOTE_KEY_SET_DEFAULTS,
  REMOTE_KEY_SET_OPTIONS,
} from './remote-key-set-options.js'
export type {
  CreateRemoteKeySetOptions,
  RemoteKeySetOptions,
  RemoteKeySetOptionsContext,
} from './remote-key-set-options.js'

// First retry after a failed fetch; doubles per consecutive failure up to the cooldown.
const FIRST_RETRY_MS = 1_000
// The fetch started at creation is exempt: in an app that serves its own JWKS (issuer and guard
// in one process) it runs before `listen()` and fails for that reason alone. Its failure sets no
// wait, so the first request after `listen()` fetches at once; it is one fetch, so it cannot
// become a flood, and every failure after it backs off as usual.

/**
 * No usable key set can be had: the first fetch failed, or the last good set is older than
 * `staleFor` while the key server keeps failing. A caller answers 503 (the token may well be
 * valid), never 401; `retryAfter` says when the next fetch may run.
 */
export class KeySetUnavailableError extends Error {
  override readonly name: string = 'KeySetUnavailableError'
  /** Stable code for logs and for callers that map the error. */
  readonly code = 'key_source_unavailable'
  /** Seconds until the key set may be fetched again (at least 1). */
  readonly retryAfter: number

  constructor(retryAfter: number, cause?: unknown) {
    super('no usable key set', cause === undefined ? undefined : { cause })
    this.retryAfter = retryAfter
  }
}

/**
 * Observability events of a remote key set; the hook is never awaited and a throw is swallowed.
 *
 * - `jwks_fetched`: the JWKS at `uri` was read, with `keys` usable keys, fresh for `maxAge` s.
 * - `jwks_fetch_failed`: the JWKS request failed (`status` for an HTTP error).
 * - `discovery_failed`: with `discover`, the issuer's metadata could not be used, so no JWKS was
 *   asked for: `uri` is the metadata URL that failed (the last one tried), and for
 *   `issuer_mismatch`, `metadataIssuer` is the `issuer` the metadata names (absent when it names
 *   none) while `issuer` is the configured one.
 * - `jwks_key_skipped`: a key of the set cannot be used, and why.
 */
export type RemoteKeySetEvent =
  | { type: 'jwks_fetched'; uri: string; keys: number; maxAge: number }
  | {
      type: 'jwks_fetch_failed'
      uri: string
      reason: KeySourceFailureReason
      /** HTTP status when `reason` is `http_status`. */
      status?: number
      /** Epoch milliseconds of the next allowed attempt. */
      retryAt: number
    }
  | {
      type: 'discovery_failed'
      /** The configured issuer identifier. */
      issuer: string
      /** The metadata URL that failed (the last one tried). */
      uri: string
      reason: KeySourceFailureReason
      /** HTTP status when `reason` is `http_status`. */
      status?: number
      /** With `issuer_mismatch`: the `issuer` the metadata names, when it is a string. */
      metadataIssuer?: string
      /** Epoch milliseconds of the next allowed attempt. */
      retryAt: number
    }
  | { type: 'jwks_key_skipped'; uri: string; kid: string | undefined; reason: SkippedKeyReason }

/** Counters for tests and metrics. */
export interface RemoteKeySetStats {
  /** Refresh attempts so far (each is one JWKS request, preceded by discovery when needed). */
  fetches: number
  /** Epoch milliseconds when the last attempt started. */
  lastFetchAt?: number
  /** Epoch milliseconds of the last successful fetch. */
  lastSuccessAt?: number
  /** Usable keys in the current set (0 before the first success). */
  keyCount: number
  /** Epoch milliseconds after which the current set is stale (past its max-age). */
  expiresAt?: number
  /** Reason of the last failed attempt, cleared by a success. */
  lastError?: KeySourceFailureReason
  /** Consecutive failed attempts. */
  consecutiveFailures: number
  /**
   * Key lookups answered from the last-known-good set after it went stale (past its max-age,
   * within `staleForSeconds`) because a refresh failed.
   */
  staleServed: number
}

/** A cached, self-refreshing remote JWKS. */
export interface RemoteKeySet {
  /**
   * The verification key for a token's `kid` and `alg`.
   *
   * - Known kid: resolves the key if `alg` suits it (RSA ↔ RS*, PS*; EC P-256 ↔ ES256, P-384 ↔
   *   ES384, P-521 ↔ ES512; Ed25519 ↔ EdDSA when allowed; and equal to the JWK's `alg` when it
   *   has one), else undefined. An `alg` outside the set's `algorithms` resolves undefined.
   * - Unknown kid: refetches the set at most once per cooldown, shared by all callers; resolves
   *   undefined when the kid is still unknown (→ 401 invalid_token).
   * - No kid: the one key of the set that suits `alg`, or undefined when there are zero or several.
   *
   * @throws {KeySetUnavailableError} (or what `unavailableError` makes of it) when no usable key set can be had (first fetch failed, or
   *   the last good set is past its stale window): answer 503 with its Retry-After.
   */
  getKey(kid: string | undefined, alg: string): Promise<KeyObject | undefined>
  /**
   * The key {@link RemoteKeySet.getKey} would resolve, returned synchronously when the current
   * set is fresh (within its max-age) and names `kid` with a key that suits `alg`; `undefined`
   * otherwise, and the caller falls back to `getKey`. Lets the verifier run a cache miss without
   * a promise in the common case; it never fetches.
   */
  peekKey(kid: string | undefined, alg: string): KeyObject | undefined
  /**
   * Settles after the first fetch (for a `lazy` set, the one the first `getKey` starts). Rejects
   * with {@link KeySetUnavailableError} (or what `unavailableError` makes of it) when it failed,
   * or when a lazy set is closed before fetching; a handler is already attached, so an
   * unobserved failure is never an unhandled rejection.
   */
  readonly ready: Promise<void>
  /** Aborts an in-flight fetch and stops further fetches; cached keys stay usable. */
  close(): void
  /** Counters for tests and metrics. */
  stats(): RemoteKeySetStats
}

/**
 * Creates a remote key set and starts its first fetch (with `lazy`, the first `getKey` does).
 *
 * The set is cached for the response's `Cache-Control: max-age` (bounded to
 * `minCacheMaxAgeSeconds`, 30 s by default, – 1 day) or
 * `cacheMaxAgeSeconds`; refreshed lazily and single-flight on the first access after that; kept
 * as last-known-good for `staleForSeconds` when refreshes fail; refetched on an unknown kid at
 * most once per `cooldownSeconds`. Failed attempts back off (1 s, doubling, up to the cooldown); requests in
 * between are served from cache or answered with 503, never by another fetch. The one exception
 * is the fetch started at creation: its failure sets no wait, so the first `getKey` after it
 * fetches again at once (an app that serves its own JWKS creates the set before it listens).
 *
 * @example
 * ```ts
 * const keys = createRemoteKeySet({ jwksUri: 'https://auth.example.com/jwks.json' })
 * const key = await keys.getKey(header.kid, header.alg)
 * ```
 * @param context - who checks the options, for the messages (a wrapping factory passes its name).
 * @throws {TypeError} `<where>: option "<path>" …` for an unknown option, a bad URL, a value out
 *   of range, or a missing or double key source.
 * @see RFC 7517 §5 (JWK Set), RFC 8414 §3 (metadata), RFC 9111 §5.2.2.1 (max-age)
 */
export function createRemoteKeySet(
  options: CreateRemoteKeySetOptions,
  context: RemoteKeySetOptionsContext = { where: 'createRemoteKeySet', prefix: '' },
): RemoteKeySet {
  const config = resolveOptions(options, context)
  const closer = new AbortController()
  const limits: FetchLimits = {
    timeout: config.timeoutMs,
    maxResponseBytes: config.maxResponseBytes,
    signal: closer.signal,
    fetch: config.fetch,
  }
  const algorithms = config.algorithms

  let jwksUrl = config.jwksUrl
  let current: CachedSet | undefined
  let inflight: Promise<void> | undefined
  let closed = false
  let fetches = 0
  let lastAttemptAt: number | undefined
  let lastSuccessAt: number | undefined
  let lastError: KeySourceFetchError | undefined
  let consecutiveFailures = 0
  // Consecutive failures that count towards the backoff (the creation-time fetch's does not).
  let backoffFailures = 0
  let nextAttemptAt = 0
  let staleServed = 0

  const emit = (event: RemoteKeySetEvent): void => {
    try {
      config.onEvent?.(event)
    } catch {
      // An observability hook must never break verification.
    }
  }

  const attempt = async (startup: boolean): Promise<void> => {
    fetches++
    lastAttemptAt = Date.now()
    let discovering = true
    try {
      jwksUrl ??= await discoverJwksUri(config.issuer, config.issuerUrl, limits)
      discovering = false
      const uri = jwksUrl.href
      const { json, headers } = await fetchJson(jwksUrl, limits)
      const { keys, skipped } = importJwks(json, { algorithms })
      for (const { kid, reason } of skipped) emit({ type: 'jwks_key_skipped', uri, kid, reason })
      if (keys.length === 0) {
        throw new KeySourceFetchError('no_usable_keys', 'key set has no usable signing key')
      }
      const advertised = freshnessLifetime(headers)
      const maxAge =
        advertised === undefined
          ? config.cacheMaxAge
          : Math.min(Math.max(advertised, config.minCacheMaxAge), MAX_MAX_AGE_SECONDS)
      const now = Date.now()
      current = { keys, byKid: groupByKid(keys), fetchedAt: now, expiresAt: now + maxAge * 1000 }
      lastSuccessAt = now
      lastError = undefined
      consecutiveFailures = 0
      backoffFailures = 0
      nextAttemptAt = 0
      emit({ type: 'jwks_fetched', uri, keys: keys.length, maxAge })
    } catch (error) {
      const failure =
        error instanceof KeySourceFetchError
          ? error
          : new KeySourceFetchError('network', 'key source request failed', { cause: error })
      lastError = failure
      consecutiveFailures++
      if (startup) {
        nextAttemptAt = Date.now()
      } else {
        backoffFailures++
        const delay = Math.min(FIRST_RETRY_MS * 2 ** (backoffFailures - 1), config.cooldownMs)
        nextAttemptAt = Date.now() + delay
      }
      emit(failureEvent(failure, discovering ? undefined : jwksUrl, nextAttemptAt))
    }
  }

  const failureEvent = (
    failure: KeySourceFetchError,
    jwks: URL | undefined,
    retryAt: number,
  ): RemoteKeySetEvent => {
    const { reason, status, url, metadataIssuer } = failure
    const detail = {
      reason,
      ...(status === undefined ? {} : { status }),
      retryAt,
    }
    if (jwks !== undefined) return { type: 'jwks_fetch_failed', uri: jwks.href, ...detail }
    return {
      type: 'discovery_failed',
      issuer: config.issuer,
      uri: url ?? config.issuerUrl.href,
      ...detail,
      ...(metadataIssuer === undefined ? {} : { metadataIssuer }),
    }
  }

  // Settled once, after the first attempt (or by close() when a lazy set never fetched).
  let settleReady: ((error: Error | undefined) => void) | undefined
  const ready = new Promise<void>((resolve, reject) => {
    settleReady = (error) => (error === undefined ? resolve() : reject(error))
  })
  ready.catch(() => {
    // Observed by whoever awaits ready; unobserved it must not crash the process.
  })
  const settleReadyOnce = (error: Error | undefined): void => {
    settleReady?.(error)
    settleReady = undefined
  }

  // Single flight: every caller that needs a fetch while one runs awaits that same one.
  // attempt() never rejects, so neither does this promise.
  const refresh = (startup = false): Promise<void> => {
    inflight ??= attempt(startup).finally(() => {
      inflight = undefined
      if (settleReady !== undefined)
        settleReadyOnce(current === undefined ? unavailable() : undefined)
    })
    return inflight
  }

  const unavailable = (): Error => {
    const wait = closed ? config.cooldownMs : nextAttemptAt - Date.now()
    const error = new KeySetUnavailableError(Math.max(1, Math.ceil(wait / 1000)), lastError)
    return config.unavailableError === undefined ? error : config.unavailableError(error)
  }

  // The set to answer from: fresh if it can be had now, else the last good one within staleFor.
  const usableSet = async (): Promise<CachedSet> => {
    if (current === undefined || Date.now() >= current.expiresAt) {
      if (inflight !== undefined) await inflight
      else if (!closed && Date.now() >= nextAttemptAt) await refresh()
    }
    const now = Date.now()
    if (current !== undefined && now < current.expiresAt + config.staleForMs) {
      if (now >= current.expiresAt) {
        staleServed++
        try {
          config.onStaleServed?.()
        } catch {
          // A metrics callback must never break verification.
        }
      }
      return current
    }
    throw unavailable()
  }

  const mayRefetchForUnknownKid = (): boolean => {
    const now = Date.now()
    return (
      !closed &&
      now >= nextAttemptAt &&
      (lastAttemptAt === undefined || now - lastAttemptAt >= config.cooldownMs)
    )
  }

  if (!config.lazy) void refresh(true)

  return {
    ready,
    async getKey(kid, alg) {
      if (!algorithms.has(alg)) return undefined
      let set = await usableSet()
      if (kid === undefined) return onlyKeyFor(set, alg)
      if (set.byKid.has(kid)) return keyFor(set, kid, alg)
      // Unknown kid: possibly a key rotated in since our fetch. One refetch per cooldown for
      // everybody, so a flood of random kids cannot turn into a flood of JWKS requests.
      if (inflight !== undefined) await inflight
      else if (mayRefetchForUnknownKid()) await refresh()
      else return undefined
      set = await usableSet()
      return keyFor(set, kid, alg)
    },
    peekKey(kid, alg) {
      const set = current
      // Exactly the cases where getKey answers from the fresh set without awaiting anything.
      if (set === undefined || Date.now() >= set.expiresAt || !algorithms.has(alg)) {
        return undefined
      }
      return kid === undefined ? onlyKeyFor(set, alg) : keyFor(set, kid, alg)
    },
    close() {
      closed = true
      closer.abort()
      // A lazy set closed before its first fetch: nothing will settle ready any more.
      if (settleReady !== undefined && inflight === undefined) settleReadyOnce(unavailable())
    },
    stats() {
      return {
        fetches,
        keyCount: current?.keys.length ?? 0,
        consecutiveFailures,
        staleServed,
        ...(lastAttemptAt === undefined ? {} : { lastFetchAt: lastAttemptAt }),
        ...(lastSuccessAt === undefined ? {} : { lastSuccessAt }),
        ...(current === undefined ? {} : { expiresAt: current.expiresAt }),
        ...(lastError === undefined ? {} : { lastError: lastError.reason }),
      }
    },
  }
}
