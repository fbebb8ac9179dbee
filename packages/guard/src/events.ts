import type { RemoteKeySetEvent } from '@ccflow/core'
import type { InvalidTokenReason } from './errors.js'

/**
 * What the guard's remote key set (`jwksUri` or `discover`) reports; static keys report nothing.
 *
 * - `jwks_fetched`: the JWKS at `uri` was read: `keys` usable keys, fresh for `maxAge` seconds.
 * - `jwks_fetch_failed`: the JWKS request failed (`reason`, and `status` for an HTTP error);
 *   `retryAt` is when a request may try again.
 * - `discovery_failed`: the issuer's metadata at `uri` could not be used, so no JWKS was asked
 *   for; for `issuer_mismatch`, `metadataIssuer` is the `issuer` the metadata names and
 *   `issuer` the configured one.
 * - `jwks_key_skipped`: a key of the set cannot be used (`reason`), so tokens signed with it are
 *   refused as `unknown_kid`.
 */
export type KeySourceEvent = RemoteKeySetEvent

/** Which claim of a verified token differs from the options, and how. */
export interface ClaimMismatch {
  /** `aud` for `wrong_audience`, `iss` for `wrong_issuer`. */
  claim: 'aud' | 'iss'
  /** The values the guard accepts (its `audience` or `issuer` option). */
  expected: readonly string[]
  /**
   * The token's claim as it was sent (any JSON value); its signature was valid, so it comes
   * from a key the guard trusts.
   */
  actual: unknown
}

/**
 * A token was refused with 401 `invalid_token`. The response says only `invalid_token` (and the
 * reason); the values that differ are here, for the server's log.
 */
export interface TokenRejectedEvent {
  type: 'token_rejected'
  reason: InvalidTokenReason
  /** With `wrong_audience` and `wrong_issuer`: the claim, what is accepted and what was sent. */
  mismatch?: ClaimMismatch
}

/**
 * Everything a guard reports to its `onEvent` hook. New event types may be added in minor
 * versions (switch on `type` with a `default` branch).
 *
 * @example
 * ```ts
 * requireToken({ ...options, onEvent: (e) => logger.info(e, `guard ${e.type}`) })
 * ```
 */
export type GuardEvent = KeySourceEvent | TokenRejectedEvent

/** Delivers one event; never throws and never waits. */
export type EmitGuardEvent = (event: GuardEvent) => void
