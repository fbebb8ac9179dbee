import type { StaticKeyInput, AccessTokenClaims, RemoteKeySetOptions } from '../types.js'
import type { GuardEvent } from '../events.js'

// The public options of requireToken and createTokenVerifier. Durations name their unit
// (CONTRIBUTING.md, "Options"): `…Ms` milliseconds, `…Seconds` seconds.

/**
 * Options of {@link createTokenVerifier}: what a token must look like and where the keys come
 * from. Exactly one key source is required: `keys`, `jwksUri` or `discover: true`.
 *
 * @typeParam C - the claims type handed to `isRevoked`.
 */
export interface TokenVerifierOptions<C = AccessTokenClaims> {
  /**
   * Accepted `iss` value(s), compared exactly, a trailing `/` included: some issuers (Auth0)
   * end theirs with one, so the guard neither refuses nor strips it. Required.
   */
  issuer: string | readonly string[]
  /** Accepted `aud` value(s); a token passes when any of its audiences is one of them. Required. */
  audience: string | readonly string[]
  /**
   * Static verification keys: PEM, JWK, `KeyObject`, `{ key, kid?, alg? }` or
   * `{ secret, kid?, alg? }` (HMAC, at least 32 bytes). RSA keys need at least 2048 bits.
   */
  keys?: readonly StaticKeyInput[] | undefined
  /** URL of the issuer's JWKS (https; http only for localhost). */
  jwksUri?: string | undefined
  /**
   * Find the JWKS through the issuer's RFC 8414 metadata (then OpenID discovery); the metadata's
   * `issuer` must equal `issuer`.
   * @default false
   */
  discover?: boolean | undefined
  /** Tuning of the remote key set (only with `jwksUri` or `discover`). */
  jwks?: RemoteKeySetOptions | undefined
  /**
   * Accepted signature algorithms; `none` is never accepted.
   * @default derived from the keys (RSA → RS*, PS*; EC → ES*; secret → HS*), or every asymmetric
   * algorithm for a remote key set
   */
  algorithms?: readonly string[] | undefined
  /**
   * Leeway in seconds for `exp`, `nbf`, `iat` and `maxTokenAgeSeconds` (≥ 0).
   * @default TOKEN_VERIFIER_DEFAULTS.clockToleranceSeconds (5)
   */
  clockToleranceSeconds?: number | undefined
  /**
   * Reject tokens whose `iat` is older than this many seconds (then `iat` is required; > 0).
   * @default undefined (no age limit)
   */
  maxTokenAgeSeconds?: number | undefined
  /**
   * Accepted `typ` header values, compared as media types (case-insensitive, `application/`
   * optional). `'any'` skips the check, for issuers that send no `typ`.
   * @default TOKEN_VERIFIER_DEFAULTS.allowedTypes (['at+jwt', 'application/at+jwt'])
   */
  allowedTypes?: readonly string[] | 'any' | undefined
  /**
   * Longest token accepted, in characters; longer ones are rejected before any parsing.
   * @default TOKEN_VERIFIER_DEFAULTS.maxTokenLength (8192)
   */
  maxTokenLength?: number | undefined
  /**
   * Realm of the `WWW-Authenticate` challenge.
   * @default TOKEN_VERIFIER_DEFAULTS.realm ('api')
   */
  realm?: string | undefined
  /**
   * Claims that hold scopes: a space-delimited string or an array of strings (`scope` itself
   * only as a string, as RFC 9068 defines it).
   * @default TOKEN_VERIFIER_DEFAULTS.scopeClaims (['scope', 'scp'])
   */
  scopeClaims?: readonly string[] | undefined
  /**
   * The verified-token cache: `false` turns it off.
   * @default { max: 1000 }
   */
  cache?: false | { max?: number | undefined } | undefined
  /**
   * Called on every request (cached or not) with the verified claims; `true` rejects the token
   * (401 `revoked`). A throw or rejection answers 503: the guard fails closed.
   */
  isRevoked?: ((claims: C) => boolean | Promise<boolean>) | undefined
  /**
   * Milliseconds to wait for an asynchronous `isRevoked`; past it the answer is 503 (fails
   * closed), so a store that never answers cannot hang requests (1 to 60000).
   * @default TOKEN_VERIFIER_DEFAULTS.revocationTimeoutMs (2000)
   */
  revocationTimeoutMs?: number | undefined
  /**
   * Receives the guard's events: key-source events (`jwks_fetched`, `jwks_fetch_failed`,
   * `discovery_failed`, `jwks_key_skipped`) and `token_rejected` for every 401 `invalid_token`.
   * Called synchronously, never awaited; a throw or a rejected promise is swallowed.
   * @default undefined: a process warning once per distinct key-source failure or skipped key
   *   (codes `CCFLOW_GUARD_KEY_SOURCE`, `CCFLOW_GUARD_JWKS_KEY_SKIPPED`) and, outside production
   *   (`NODE_ENV !== 'production'`), once per distinct `aud` or `iss` mismatch
   *   (`CCFLOW_GUARD_TOKEN_MISMATCH`)
   */
  onEvent?: ((event: GuardEvent) => void) | undefined
  /** @deprecated Use `clockToleranceSeconds` (same value); removed in the next major version. */
  clockTolerance?: number | undefined
  /** @deprecated Use `maxTokenAgeSeconds` (same value); removed in the next major version. */
  maxTokenAge?: number | undefined
  /** @deprecated Use `revocationTimeoutMs` (same value); removed in the next major version. */
  revocationTimeout?: number | undefined
}

/**
 * Options of {@link requireToken}: the verifier's options plus where tokens may be sent and how
 * errors are reported.
 */
export interface RequireTokenOptions<C = AccessTokenClaims> extends TokenVerifierOptions<C> {
  /**
   * Extra token locations (RFC 6750 §2.2 form body, §2.3 query). Both are off: a token sent
   * there is answered 400.
   * @default { body: false, query: false }
   */
  tokenLocations?: { body?: boolean | undefined; query?: boolean | undefined } | undefined
  /**
   * Let requests without any token through with `req.auth` undefined. A token that is sent is
   * still verified and rejected when invalid.
   * @default false
   */
  credentialsOptional?: boolean | undefined
  /**
   * Pass errors to `next(err)` as {@link BearerError}s instead of answering.
   * @default false
   */
  passErrors?: boolean | undefined
  /**
   * Scopes the token must grant, **every** one of them: the same check and the same 403
   * `insufficient_scope` as `requireScopes(...scopes)` placed after the guard, in one middleware
   * layer instead of two. Use `requireScopes`/`requireAnyScope` for per-route scopes.
   * @default none: any valid token passes
   */
  scopes?: readonly string[] | undefined
}
