import { channelName, type KeySourceFailureReason, type OperationMessage } from '@ccflow/core'
import type { BearerErrorCode, BearerErrorReason } from '../errors.js'

/**
 * The `node:diagnostics_channel` channels of `@ccflow/guard` (names `ccflow:guard:<topic>`).
 * Subscribe with `diagnostics_channel.subscribe(name, fn)`; nothing is built or timed for a
 * channel nobody listens to.
 *
 * - `event`: every `GuardEvent`, the same objects an `onEvent` hook receives (key set fetches
 *   and failures, skipped keys, refused tokens), from every guard, strategy and verifier in the
 *   process, whether or not it has a hook.
 * - `verifyStart`, `verifyEnd`: one {@link GuardVerifyMessage} per verification (a request
 *   through `requireToken` or the passport strategy, a `verify()` call), published when it
 *   begins and again, completed, when it ends.
 * - `staleServed`: one message (`{ type: 'jwks_stale_served' }`) each time a key was taken from
 *   a key set past its max-age because the refresh failed (the last-known-good keys).
 * - `snapshot`: collection requests for gauges; every live guard with a remote key set pushes its
 *   {@link GuardSnapshot} onto the array published there.
 */
export const GUARD_CHANNELS: Readonly<{
  event: string
  verifyStart: string
  verifyEnd: string
  staleServed: string
  snapshot: string
}> = Object.freeze({
  event: channelName('guard', 'event'),
  verifyStart: channelName('guard', 'verify:start'),
  verifyEnd: channelName('guard', 'verify:end'),
  staleServed: channelName('guard', 'jwks:stale-served'),
  snapshot: channelName('guard', 'snapshot'),
})

/**
 * How a verification ended: `success`, the `code` of the `BearerError` it was refused with
 * (`unauthorized` for no bearer token, `invalid_request`, `invalid_token`,
 * `insufficient_scope` for `requireToken`'s own `scopes`, `temporarily_unavailable` for a 503),
 * `anonymous` for a request without a token that `credentialsOptional` let through, or `error`
 * for anything unexpected (an exception that is not a `BearerError`, passed to the app's error
 * handler).
 */
export type GuardOutcome = 'success' | BearerErrorCode | 'anonymous' | 'error'

/**
 * One verification. Published on `ccflow:guard:verify:start` when it begins (only `startTime`
 * and `phases` are meaningful then) and, the same object completed, on `ccflow:guard:verify:end`.
 * Every field holds a value from a fixed vocabulary: never the token, a claim or a `jti`.
 */
export interface GuardVerifyMessage extends OperationMessage<never> {
  /** How it ended; set at the end. */
  outcome: GuardOutcome | undefined
  /** The refusal's stable `reason`, when it was refused with a `BearerError`. */
  reason: BearerErrorReason | undefined
  /** Whether the verified-token cache answered (no signature check ran). */
  cacheHit: boolean
}

/**
 * What one guard with a remote key set (`jwksUri` or `discover`) reports when gauges are
 * collected; guards with static keys report nothing.
 */
export interface GuardSnapshot {
  /** Usable keys in its current key set (0 before the first successful fetch). */
  readonly keys: number
  /** Epoch milliseconds of its last successful JWKS fetch; `undefined` before the first one. */
  readonly lastSuccessAt: number | undefined
}

/**
 * Counters and state of one guard, from its `stats()`: a cheap read, for health checks, logs and
 * tests. The counters start at 0 when the guard is created.
 */
export interface GuardStats {
  /** `remote` for `jwksUri` or `discover`, `static` for `keys`. */
  readonly keySource: 'remote' | 'static'
  /** Usable verification keys: the static keys, or the current remote set's (0 before it loads). */
  readonly keys: number
  /** The verified-token cache. */
  readonly cache: {
    /** Tokens held now (expired ones may count until they are touched or evicted). */
    readonly size: number
    /** The most it holds (`cacheMax`; 0 when the cache is off). */
    readonly max: number
    /** Verifications answered from the cache. */
    readonly hits: number
    /** Verifications that checked a signature (the token was not cached). */
    readonly misses: number
  }
  /** The remote key set; `undefined` with static keys. */
  readonly jwks:
    | {
        /** Whether the current set is within its max-age (false before the first fetch). */
        readonly fresh: boolean
        /** Refresh attempts (each one JWKS request, after discovery when needed). */
        readonly fetches: number
        /** Epoch milliseconds when the last attempt started. */
        readonly lastFetchAt: number | undefined
        /** Epoch milliseconds of the last successful fetch. */
        readonly lastSuccessAt: number | undefined
        /** Epoch milliseconds after which the current set is stale. */
        readonly expiresAt: number | undefined
        /** Reason of the last failed attempt; cleared by a success. */
        readonly lastError: KeySourceFailureReason | undefined
        /** Consecutive failed attempts. */
        readonly consecutiveFailures: number
        /** Key lookups answered from the stale last-known-good set while the refresh failed. */
        readonly staleServed: number
      }
    | undefined
}
