import type { KeyObject } from 'node:crypto'
import { channel } from 'node:diagnostics_channel'
import {
  createRemoteKeySet,
  provideSnapshots,
  decodeCompactJws,
  freezeDeep,
  type DecodedJws,
  type HeaderMemo,
  type RemoteKeySet,
} from '@ccflow/core'
import jwt from 'jsonwebtoken'
import type { VerifyOptions } from 'jsonwebtoken'
import { InvalidTokenError, KeySourceUnavailableError } from '../errors.js'
import type { InvalidTokenReason } from '../errors.js'
import { resolveVerifierOptions, type VerifierConfig } from '../options/resolve.js'
import type { TokenVerifierOptions } from '../options/types.js'
import { readScopes } from './scopes.js'
import { createStaticKeyIndex } from '../keys/static-key-index.js'
import { isBadSignature, reasonFor } from './jwt-errors.js'
import { createRevocationStep } from './revocation-step.js'
import { createTimeCheck } from './time-checks.js'
import { createGuardEmitter } from '../diagnostics/emitter.js'
import { TokenCache } from './token-cache.js'
import type { CachedToken } from './token-cache.js'
import type { AccessTokenClaims, AuthInfo, JwtHeader } from '../types.js'
import {
  GUARD_CHANNELS,
  type GuardSnapshot,
  type GuardStats,
  type GuardVerifyMessage,
} from '../observability/channels.js'
import { beginVerifyTrace, endVerifyTrace } from '../observability/verify-trace.js'

// `ccflow:guard:jwks:stale-served`: one constant message per lookup served from a stale set.
const staleServedChannel = channel(GUARD_CHANNELS.staleServed)
const STALE_SERVED = Object.freeze({ type: 'jwks_stale_served' as const })

/**
 * Verifies bearer access tokens outside Express (queues, WebSockets, gRPC) with exactly the
 * rules of {@link requireToken}.
 *
 * @typeParam C - the claims type.
 */
export interface TokenVerifier<C = AccessTokenClaims> {
  /**
   * Verifies a token and returns what `req.auth` would hold. The result (and everything in it)
   * is frozen: cached results are shared between requests.
   *
   * @throws {BearerError} `InvalidTokenError` (401) for any token problem,
   * `KeySourceUnavailableError` or `ServiceUnavailableError` (503) when keys or the revocation
   * check are unavailable.
   */
  verify(token: string): Promise<AuthInfo<C>>
  /**
   * Settles when the keys are loaded: at once for static keys, after the first JWKS fetch for
   * remote keys (rejecting with `KeySourceUnavailableError` if it failed; requests still retry).
   */
  readonly ready: Promise<void>
  /** Stops the remote key set (aborts an in-flight fetch); a no-op for static keys. */
  close(): void
  /**
   * Counters and state of this verifier: key source, key count and freshness of the remote key
   * set, size and hits of the verified-token cache. Cheap; safe to call from a health check.
   */
  stats(): GuardStats
}

/** The synchronous-when-possible verifier shared by the middleware and the passport strategy. */
export interface VerifierCore {
  readonly config: VerifierConfig
  /**
   * Verifies a token. Returns synchronously on a cache hit (or with static keys and a synchronous
   * `isRevoked`), so the hot path allocates no promise; throws `BearerError` synchronously
   * or rejects with one. `beforeVerify` runs on a cache miss only, before anything is decoded:
   * the syntax checks a verified (cached) token has already passed.
   */
  readonly check: (
    token: string,
    beforeVerify?: (token: string) => void,
    trace?: GuardVerifyMessage,
  ) => AuthInfo | Promise<AuthInfo>
  /**
   * {@link VerifierCore.check} that also ends `trace` (from `beginVerifyTrace`) with the outcome;
   * exactly `check` when `trace` is `undefined`.
   */
  readonly traced: (
    token: string,
    trace: GuardVerifyMessage | undefined,
    beforeVerify?: (token: string) => void,
  ) => AuthInfo | Promise<AuthInfo>
  readonly ready: Promise<void>
  readonly close: () => void
  readonly stats: () => GuardStats
}

type Verified = { header: JwtHeader; payload: Record<string, unknown> }

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string')
}

/**
 * Builds the verifier from resolved options. Internal: {@link createTokenVerifier},
 * {@link requireToken} and the passport strategy share it.
 */
export function createVerifierCore(
  config: VerifierConfig,
  onVerified?: (auth: AuthInfo) => void,
): VerifierCore {
  const { realm, scopeClaims, isRevoked, headerPolicy } = config
  const clockTolerance = config.clockToleranceSeconds
  const maxTokenAge = config.maxTokenAgeSeconds
  const revocationTimeout = config.revocationTimeoutMs
  const maxTokenLength = config.maxTokenLength
  const cache = config.cacheMax > 0 ? new TokenCache(config.cacheMax) : undefined
  const headers: HeaderMemo = new Map()
  const events = createGuardEmitter(config)
  const rejected = events.rejected
  // Every 401 invalid_token is built here, so every one is reported (when anyone listens);
  // `payload` is the verified payload, for the aud and iss values of a mismatch.
  const invalid = (
    reason: InvalidTokenReason,
    cause?: unknown,
    payload?: Record<string, unknown>,
  ): InvalidTokenError => {
    rejected(reason, payload)
    return new InvalidTokenError(reason, cause === undefined ? { realm } : { realm, cause })
  }

  const jwtOptions: VerifyOptions & { complete: true } = {
    complete: true,
    algorithms: config.algorithms as VerifyOptions['algorithms'],
    issuer: config.issuer,
    audience: config.audience,
    clockTolerance,
    ...(maxTokenAge === undefined ? {} : { maxAge: maxTokenAge }),
  }

  let hits = 0
  let misses = 0
  let remote: RemoteKeySet | undefined
  let snapshots: SnapshotSource | undefined
  let ready: Promise<void> = Promise.resolve()
  let staticCandidates: ((header: JwtHeader) => KeyObject[]) | undefined
  if (config.keySource.type === 'static') {
    staticCandidates = createStaticKeyIndex(config.keySource.keys)
  } else {
    const source = config.keySource
    remote = createRemoteKeySet(
      {
        ...source.options,
        unavailableError: (error) =>
          new KeySourceUnavailableError({ retryAfter: error.retryAfter, cause: error.cause }),
        onEvent: events.keySource,
        onStaleServed: () => {
          if (staleServedChannel.hasSubscribers) staleServedChannel.publish(STALE_SERVED)
        },
        ...(source.discover ? { discover: true, issuer: source.issuer } : {}),
        ...(source.jwksUri === undefined ? {} : { jwksUri: source.jwksUri }),
      },
      { where: source.where, prefix: 'jwks.' },
    )
    ready = remote.ready
    snapshots = { remote, closed: false }
    provideSnapshots(GUARD_CHANNELS.snapshot, snapshots, snapshotOf)
  }

  const timeProblem = createTimeCheck(clockTolerance, maxTokenAge)

  const revocation =
    isRevoked === undefined
      ? (auth: AuthInfo): AuthInfo => auth
      : createRevocationStep(isRevoked, revocationTimeout, invalid)

  // One candidate (every remote key, most static set-ups): no loop, no array.
  const verifyOne = (token: string, key: KeyObject, decoded: DecodedJws): Verified => {
    let payload: Record<string, unknown>
    try {
      payload = (jwt.verify(token, key, jwtOptions) as unknown as Verified).payload
    } catch (error) {
      throw invalid(reasonFor(error, decoded.payload), error, decoded.payload)
    }
    // Our header, not jsonwebtoken's: jws decodes the header as latin1, so a non-ASCII kid
    // would reach req.auth garbled and differ from the kid that chose the key.
    return { header: decoded.header, payload }
  }

  const verifyWith = (token: string, keys: readonly KeyObject[], decoded: DecodedJws): Verified => {
    if (keys.length === 1) return verifyOne(token, keys[0] as KeyObject, decoded)
    let lastError: unknown
    for (const key of keys) {
      try {
        const { payload } = jwt.verify(token, key, jwtOptions) as unknown as Verified
        // Our header, not jsonwebtoken's: jws decodes the header as latin1, so a non-ASCII kid
        // would reach req.auth garbled and differ from the kid that chose the key.
        return { header: decoded.header, payload }
      } catch (error) {
        lastError = error
        // Only a bad signature is worth trying with the next candidate key.
        if (!isBadSignature(error)) break
      }
    }
    throw invalid(reasonFor(lastError, decoded.payload), lastError, decoded.payload)
  }

  const accept = (token: string, verified: Verified): AuthInfo => {
    const claims = verified.payload
    const { exp, nbf, iat, iss, aud } = claims
    if (exp === undefined) throw invalid('missing_exp')
    if (typeof exp !== 'number' || !Number.isFinite(exp)) throw invalid('invalid_claims')
    if (nbf !== undefined && (typeof nbf !== 'number' || !Number.isFinite(nbf))) {
      throw invalid('invalid_claims')
    }
    if (iat !== undefined && (typeof iat !== 'number' || !Number.isFinite(iat))) {
      throw invalid('invalid_claims')
    }
    if (typeof iss !== 'string' || !(typeof aud === 'string' || isStringArray(aud))) {
      throw invalid('invalid_claims')
    }
    const problem = timeProblem(exp, nbf, iat)
    if (problem !== undefined) throw invalid(problem)
    const clientId =
      typeof claims.client_id === 'string'
        ? claims.client_id
        : typeof claims.azp === 'string'
          ? claims.azp
          : undefined
    const auth: AuthInfo = freezeDeep({
      token,
      header: verified.header,
      claims: claims as AccessTokenClaims,
      scopes: readScopes(claims, scopeClaims),
      clientId,
    })
    onVerified?.(auth)
    if (cache !== undefined) {
      let until = exp + clockTolerance
      if (maxTokenAge !== undefined)
        until = Math.min(until, (iat as number) + maxTokenAge + clockTolerance)
      const entry: CachedToken = { auth, exp, nbf, iat }
      cache.set(entry, until * 1000 - Date.now())
    }
    return auth
  }

  const check = (
    token: string,
    beforeVerify?: (token: string) => void,
    trace?: GuardVerifyMessage,
  ): AuthInfo | Promise<AuthInfo> => {
    if (typeof token !== 'string' || token === '' || token.length > maxTokenLength) {
      // The syntax checks come first, as they would without the cache: a malformed header
      // is a 400 however long it is.
      if (typeof token === 'string') beforeVerify?.(token)
      throw invalid(token === '' || typeof token !== 'string' ? 'malformed' : 'too_large')
    }
    if (cache !== undefined) {
      const hit = cache.get(token)
      if (hit !== undefined) {
        hits++
        if (trace !== undefined) trace.cacheHit = true
        const problem = timeProblem(hit.exp, hit.nbf, hit.iat)
        if (problem !== undefined) {
          cache.delete(token)
          throw invalid(problem)
        }
        return isRevoked === undefined ? hit.auth : revocation(hit.auth)
      }
    }
    misses++
    beforeVerify?.(token)
    const decoded = decodeCompactJws(token, headerPolicy, headers)
    if (typeof decoded === 'string') throw invalid(decoded)
    if (remote === undefined) {
      const keys = (staticCandidates as (header: JwtHeader) => KeyObject[])(decoded.header)
      if (keys.length === 0) throw invalid('unknown_kid')
      return revocation(accept(token, verifyWith(token, keys, decoded)))
    }
    const { kid, alg } = decoded.header
    // The common case, a fresh key set that knows the kid, stays synchronous: no promise, and
    // the response is written in the same turn as the request was read.
    const known = remote.peekKey(kid, alg)
    if (known !== undefined) return revocation(accept(token, verifyOne(token, known, decoded)))
    return remote.getKey(kid, alg).then((key) => {
      if (key === undefined) throw invalid('unknown_kid')
      return revocation(accept(token, verifyOne(token, key, decoded)))
    })
  }

  const traced = (
    token: string,
    trace: GuardVerifyMessage | undefined,
    beforeVerify?: (token: string) => void,
  ): AuthInfo | Promise<AuthInfo> => {
    if (trace === undefined) return check(token, beforeVerify)
    let result: AuthInfo | Promise<AuthInfo>
    try {
      result = check(token, beforeVerify, trace)
    } catch (error) {
      endVerifyTrace(trace, 'failure', error)
      throw error
    }
    if (!(result instanceof Promise)) {
      endVerifyTrace(trace, 'success')
      return result
    }
    return result.then(
      (auth) => {
        endVerifyTrace(trace, 'success')
        return auth
      },
      (error: unknown) => {
        endVerifyTrace(trace, 'failure', error)
        throw error
      },
    )
  }

  const staticKeys = config.keySource.type === 'static' ? config.keySource.keys.length : 0
  const stats = (): GuardStats => {
    const cacheStats = { size: cache?.size ?? 0, max: config.cacheMax, hits, misses }
    if (remote === undefined) {
      return { keySource: 'static', keys: staticKeys, cache: cacheStats, jwks: undefined }
    }
    const s = remote.stats()
    return {
      keySource: 'remote',
      keys: s.keyCount,
      cache: cacheStats,
      jwks: {
        fresh: s.expiresAt !== undefined && Date.now() < s.expiresAt,
        fetches: s.fetches,
        lastFetchAt: s.lastFetchAt,
        lastSuccessAt: s.lastSuccessAt,
        expiresAt: s.expiresAt,
        lastError: s.lastError,
        consecutiveFailures: s.consecutiveFailures,
        staleServed: s.staleServed,
      },
    }
  }

  return {
    config,
    check,
    traced,
    ready,
    close: (): void => {
      if (snapshots !== undefined) snapshots.closed = true
      remote?.close()
    },
    stats,
  }
}

/** What the gauges read from a live guard's remote key set. */
interface SnapshotSource {
  readonly remote: RemoteKeySet
  closed: boolean
}

// A closed guard reports nothing: its keys no longer matter to the gauges.
function snapshotOf(source: SnapshotSource): GuardSnapshot | undefined {
  if (source.closed) return undefined
  const { keyCount, lastSuccessAt } = source.remote.stats()
  return { keys: keyCount, lastSuccessAt }
}

/**
 * Creates a token verifier: the verification half of {@link requireToken}, for code that is not
 * an Express route.
 *
 * @example
 * ```ts
 * const verifier = createTokenVerifier({
 *   issuer: 'https://auth.example.com',
 *   audience: 'https://api.example.com',
 *   jwksUri: 'https://auth.example.com/jwks.json',
 * })
 * const { claims, scopes } = await verifier.verify(token)
 * ```
 * @throws {TypeError} for a missing, unknown or unsafe option (named in the message).
 * @see https://www.rfc-editor.org/rfc/rfc9068#section-4 (validating JWT access tokens)
 */
export function createTokenVerifier<C extends AccessTokenClaims = AccessTokenClaims>(
  options: TokenVerifierOptions<C>,
): TokenVerifier<C> {
  const core = createVerifierCore(resolveVerifierOptions(options))
  return {
    verify: async (token: string): Promise<AuthInfo<C>> =>
      (await core.traced(token, beginVerifyTrace())) as AuthInfo<C>,
    ready: core.ready,
    close: core.close,
    stats: core.stats,
  }
}
