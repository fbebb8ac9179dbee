import { brand, isBranded, markBranded, type ProtocolError } from '@ccflow/core'
import type { Response } from 'express'

/**
 * The error codes of RFC 6750 §3.1: the only values the `error` attribute of the
 * `WWW-Authenticate` challenge ever takes.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3.1
 */
export type ChallengeErrorCode = 'invalid_request' | 'invalid_token' | 'insufficient_scope'

/**
 * The `code` of a {@link BearerError}: the `error` value of the JSON body. That is an RFC 6750
 * §3.1 code ({@link ChallengeErrorCode}), or one of two stable names where RFC 6750 has none:
 * `unauthorized` (a 401 for a request without a bearer token) and `temporarily_unavailable`
 * (a 503, the name RFC 6749 §4.1.2.1 gives it).
 *
 * The `WWW-Authenticate` challenge carries `error="<code>"` only for the RFC 6750 codes: RFC 6750
 * §3.1 says a 401 for a request without authentication SHOULD NOT include an error code, and a
 * 503 has no challenge at all.
 */
export type BearerErrorCode = ChallengeErrorCode | 'unauthorized' | 'temporarily_unavailable'

/** Reasons for a 401 without an error code: the request carried no bearer credentials. */
export type UnauthorizedReason = 'missing_token' | 'unsupported_scheme'

/** Reasons for a 400 `invalid_request`: the request itself is malformed. */
export type InvalidRequestReason =
  | 'malformed_authorization'
  | 'malformed_token_parameter'
  | 'multiple_authorization_headers'
  | 'multiple_token_locations'
  | 'body_token_disabled'
  | 'query_token_disabled'

/** Reasons for a 401 `invalid_token`: the token was found but is not acceptable. */
export type InvalidTokenReason =
  | 'too_large'
  | 'malformed'
  | 'duplicate_member'
  | 'crit_header'
  | 'bad_typ'
  | 'unsupported_alg'
  | 'unknown_kid'
  | 'bad_signature'
  | 'token_expired'
  | 'token_not_active'
  | 'iat_in_future'
  | 'token_too_old'
  | 'missing_exp'
  | 'missing_iat'
  | 'missing_iss'
  | 'wrong_issuer'
  | 'missing_aud'
  | 'wrong_audience'
  | 'invalid_claims'
  | 'revoked'

/** Reasons for a 503: the guard cannot decide right now and fails closed. */
export type ServiceUnavailableReason = 'key_source_unavailable' | 'revocation_check_failed'

/**
 * What a {@link ServiceUnavailableError} waited for: the key source (JWKS URI or discovery) or
 * the revocation check (`isRevoked`).
 */
export type UnavailableDependency = 'key_source' | 'revocation_check'

/**
 * A stable machine-readable reason, sent as `reason` in the JSON body and kept on the error.
 * It never changes between releases without a major version.
 */
export type BearerErrorReason =
  | UnauthorizedReason
  | InvalidRequestReason
  | InvalidTokenReason
  | 'insufficient_scope'
  | ServiceUnavailableReason

/**
 * The value of `error` in the JSON body.
 *
 * @deprecated The same as {@link BearerErrorCode}, which `BearerError.code` now always holds; use
 * that. `BearerErrorName` goes in the next major.
 */
export type BearerErrorName = BearerErrorCode

/** The JSON body the guard writes for an error. */
export interface BearerErrorBody {
  /** The error's `code`: an RFC 6750 code, `unauthorized` (no credentials) or `temporarily_unavailable` (503). */
  error: BearerErrorCode
  /** Human-readable text from a fixed vocabulary; never holds request data. */
  error_description: string
  /** Stable machine-readable reason. */
  reason: BearerErrorReason
}

// The fixed vocabulary: descriptions never contain anything from the request, the token or
// the configuration (expected issuer/audience), so they can be written to headers and logs.
const DESCRIPTIONS: Readonly<Record<BearerErrorReason, string>> = {
  missing_token: 'A bearer token is required',
  unsupported_scheme: 'A bearer token is required',
  malformed_authorization: 'The Authorization header is malformed',
  malformed_token_parameter: 'The access_token parameter is malformed',
  multiple_authorization_headers: 'The request has more than one Authorization header',
  multiple_token_locations: 'The request carries a token in more than one location',
  body_token_disabled: 'Tokens in the request body are not accepted',
  query_token_disabled: 'Tokens in the query string are not accepted',
  too_large: 'The token is too large',
  malformed: 'The token is malformed',
  duplicate_member: 'The token has duplicate JSON member names',
  crit_header: 'The token has an unsupported critical header parameter',
  bad_typ: 'The token type is not accepted',
  unsupported_alg: 'The token algorithm is not accepted',
  unknown_kid: 'The token signing key is unknown',
  bad_signature: 'The token signature is invalid',
  token_expired: 'The token has expired',
  token_not_active: 'The token is not yet valid',
  iat_in_future: 'The token was issued in the future',
  token_too_old: 'The token is too old',
  missing_exp: 'The token has no expiration time',
  missing_iat: 'The token has no issued-at time',
  missing_iss: 'The token has no issuer',
  wrong_issuer: 'The token issuer is not accepted',
  missing_aud: 'The token has no audience',
  wrong_audience: 'The token audience is not accepted',
  invalid_claims: 'The token claims are invalid',
  revoked: 'The token has been revoked',
  insufficient_scope: 'The token does not grant the required scope',
  key_source_unavailable: 'The token signing keys are temporarily unavailable',
  revocation_check_failed: 'The token revocation status is temporarily unavailable',
}

const DEFAULT_REALM = 'api'
// The same registered symbol in the ESM and the CJS build, so `isBearerError` recognizes an error
// from either, where `instanceof` would compare two different classes.
const BRAND = brand('guard.BearerError')

/**
 * Makes a value safe inside a quoted-string of an HTTP header (RFC 9110 §5.6.4): control
 * characters, CR/LF and anything outside printable ASCII (U+2028 included) are dropped, `"` and
 * `\` are escaped. A header value can then never split the response or make Node throw.
 */
export function quoteHeaderValue(value: string): string {
  return `"${value.replace(/[^\x20-\x7e]/g, '').replace(/["\\]/g, '\\$&')}"`
}

/**
 * Builds a `Bearer` challenge for `WWW-Authenticate` (RFC 6750 §3).
 *
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3
 */
export function bearerChallenge(
  realm: string,
  code?: ChallengeErrorCode,
  description?: string,
  scope?: string,
): string {
  let challenge = `Bearer realm=${quoteHeaderValue(realm)}`
  if (code !== undefined) challenge += `, error="${code}"`
  if (description !== undefined) challenge += `, error_description=${quoteHeaderValue(description)}`
  if (scope !== undefined) challenge += `, scope=${quoteHeaderValue(scope)}`
  return challenge
}

interface BearerErrorInit {
  status: number
  code: BearerErrorCode
  reason: BearerErrorReason
  headers: Record<string, string>
  cause?: unknown
}

/** Options shared by the error constructors. */
export interface BearerErrorOptions {
  /**
   * Realm of the `WWW-Authenticate` challenge.
   * @default 'api'
   */
  realm?: string | undefined
  /** The underlying error (for logs; never sent to the client). */
  cause?: unknown
}

/**
 * Base class of every error the guard produces. Its `status`, `headers` and `toJSON()` body
 * are a complete RFC 6750 response; `message` is the fixed-vocabulary description and never
 * holds request data. Check {@link isBearerError} rather than `instanceof` when the ESM and CJS
 * builds may both be loaded.
 *
 * The model, shared with `@ccflow/issuer`'s `TokenError`: `code` is always the wire code, the
 * `error` value of the JSON body (see {@link BearerErrorCode} for when the challenge carries it
 * too); `reason` is a stable detail from the {@link BearerErrorReason} union; and a 503 is a
 * subclass ({@link ServiceUnavailableError}) naming its `dependency`.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3
 */
export class BearerError
  extends Error
  implements ProtocolError<BearerErrorCode, BearerErrorReason>
{
  override readonly name: string = 'BearerError'
  /**
   * The wire code: the `error` value of the JSON body. The `WWW-Authenticate` challenge has
   * `error="<code>"` only for the RFC 6750 codes, never for `unauthorized` (RFC 6750 §3.1).
   */
  readonly code: BearerErrorCode
  /** HTTP status: 400, 401, 403 or 503. */
  readonly status: number
  /** Response headers to send (`WWW-Authenticate`, `Retry-After`). */
  readonly headers: Readonly<Record<string, string>>
  /** Stable machine-readable reason. */
  readonly reason: BearerErrorReason
  /** Fixed-vocabulary description (same as `message`). */
  readonly description: string
  /** The message is safe to show to the client. */
  readonly expose = true as const

  constructor(init: BearerErrorInit) {
    const description = DESCRIPTIONS[init.reason]
    super(description, init.cause === undefined ? undefined : { cause: init.cause })
    this.code = init.code
    this.status = init.status
    this.headers = init.headers
    this.reason = init.reason
    this.description = description
    markBranded(this, BRAND)
  }

  /**
   * The value of `error` in the JSON body.
   *
   * @deprecated The same as {@link BearerError.code}, which now always holds it; use that.
   * `error` goes in the next major.
   */
  get error(): BearerErrorCode {
    return this.code
  }

  /** The JSON body of the response. */
  toJSON(): BearerErrorBody {
    return { error: this.code, error_description: this.description, reason: this.reason }
  }

  /** The same as {@link isBearerError}. */
  static is(value: unknown): value is BearerError {
    return isBearerError(value)
  }
}

/**
 * Whether `value` is a {@link BearerError} (any subclass) from either the ESM or the CJS build of
 * this package. A look-alike, such as an object or an `Error` with the same `code` and `status`,
 * is not.
 *
 * @example
 * ```ts
 * app.use((err, req, res, next) => {
 *   if (!isBearerError(err)) return next(err)
 *   res.status(err.status).set(err.headers).json({ code: err.code, reason: err.reason })
 * })
 * ```
 */
export function isBearerError(value: unknown): value is BearerError {
  return isBranded(value, BRAND)
}

/**
 * 401 `unauthorized`: no bearer token was sent (or another scheme was used). The challenge is a
 * bare `Bearer realm="…"`, without an error code: RFC 6750 §3.1 says "the resource server SHOULD
 * NOT include an error code" here. `code` is `unauthorized`, the `error` value of the JSON body.
 */
export class UnauthorizedError extends BearerError {
  override readonly name: string = 'UnauthorizedError'
  declare readonly code: 'unauthorized'
  declare readonly reason: UnauthorizedReason

  constructor(reason: UnauthorizedReason = 'missing_token', options: BearerErrorOptions = {}) {
    super({
      status: 401,
      code: 'unauthorized',
      reason,
      headers: { 'WWW-Authenticate': bearerChallenge(options.realm ?? DEFAULT_REALM) },
      cause: options.cause,
    })
  }
}

/** 400 `invalid_request`: the request is malformed (RFC 6750 §3.1). */
export class InvalidRequestError extends BearerError {
  override readonly name: string = 'InvalidRequestError'
  declare readonly code: 'invalid_request'
  declare readonly reason: InvalidRequestReason

  constructor(reason: InvalidRequestReason, options: BearerErrorOptions = {}) {
    super({
      status: 400,
      code: 'invalid_request',
      reason,
      headers: {
        'WWW-Authenticate': bearerChallenge(
          options.realm ?? DEFAULT_REALM,
          'invalid_request',
          DESCRIPTIONS[reason],
        ),
      },
      cause: options.cause,
    })
  }
}

/** 401 `invalid_token`: the token is malformed, expired, revoked or fails verification (RFC 6750 §3.1). */
export class InvalidTokenError extends BearerError {
  override readonly name: string = 'InvalidTokenError'
  declare readonly code: 'invalid_token'
  declare readonly reason: InvalidTokenReason

  constructor(reason: InvalidTokenReason, options: BearerErrorOptions = {}) {
    super({
      status: 401,
      code: 'invalid_token',
      reason,
      headers: {
        'WWW-Authenticate': bearerChallenge(
          options.realm ?? DEFAULT_REALM,
          'invalid_token',
          DESCRIPTIONS[reason],
        ),
      },
      cause: options.cause,
    })
  }
}

/** 403 `insufficient_scope`, with the required scopes in the challenge (RFC 6750 §3.1). */
export class InsufficientScopeError extends BearerError {
  override readonly name: string = 'InsufficientScopeError'
  declare readonly code: 'insufficient_scope'
  declare readonly reason: 'insufficient_scope'
  /** The scopes the route requires. */
  readonly scopes: readonly string[]

  constructor(scopes: readonly string[], options: BearerErrorOptions = {}) {
    super({
      status: 403,
      code: 'insufficient_scope',
      reason: 'insufficient_scope',
      headers: {
        'WWW-Authenticate': bearerChallenge(
          options.realm ?? DEFAULT_REALM,
          'insufficient_scope',
          DESCRIPTIONS.insufficient_scope,
          scopes.join(' '),
        ),
      },
      cause: options.cause,
    })
    this.scopes = scopes
  }
}

/** Options of {@link ServiceUnavailableError}. */
export interface ServiceUnavailableOptions {
  /**
   * Seconds the client should wait before retrying (`Retry-After`).
   * @default 30
   */
  retryAfter?: number | undefined
  /** The underlying error (for logs; never sent to the client). */
  cause?: unknown
}

const DEPENDENCY: Readonly<Record<ServiceUnavailableReason, UnavailableDependency>> = {
  key_source_unavailable: 'key_source',
  revocation_check_failed: 'revocation_check',
}

/**
 * 503 `temporarily_unavailable`: the guard cannot verify the token right now and fails closed.
 * RFC 6750 has no code for this, so the code is the one RFC 6749 §4.1.2.1 uses, there is no
 * challenge, and `Retry-After` tells the client when to try again. `dependency` names what
 * failed.
 */
export class ServiceUnavailableError extends BearerError {
  override readonly name: string = 'ServiceUnavailableError'
  declare readonly code: 'temporarily_unavailable'
  declare readonly reason: ServiceUnavailableReason
  /** What failed: the key source or the revocation check (follows from `reason`). */
  readonly dependency: UnavailableDependency
  /** Seconds sent in `Retry-After`. */
  readonly retryAfter: number

  constructor(reason: ServiceUnavailableReason, options: ServiceUnavailableOptions = {}) {
    const retryAfter =
      options.retryAfter !== undefined && Number.isFinite(options.retryAfter)
        ? Math.max(1, Math.ceil(options.retryAfter))
        : 30
    super({
      status: 503,
      code: 'temporarily_unavailable',
      reason,
      headers: { 'Retry-After': String(retryAfter) },
      cause: options.cause,
    })
    this.dependency = DEPENDENCY[reason]
    this.retryAfter = retryAfter
  }
}

/**
 * 503: no signing key set could be had (the JWKS or metadata endpoint is down, slow or returned
 * garbage, and no last-known-good keys are left). Not a 401: the token may well be valid.
 */
export class KeySourceUnavailableError extends ServiceUnavailableError {
  override readonly name: string = 'KeySourceUnavailableError'
  declare readonly reason: 'key_source_unavailable'
  declare readonly dependency: 'key_source'

  constructor(options: ServiceUnavailableOptions = {}) {
    super('key_source_unavailable', options)
  }
}

/**
 * Writes a guard error as the response: status, headers, `Cache-Control: no-store` and the JSON
 * body. Used by the middleware unless `passErrors` is set.
 */
export function sendBearerError(res: Response, err: BearerError): void {
  res.status(err.status)
  for (const name in err.headers) res.setHeader(name, err.headers[name] as string)
  res.setHeader('Cache-Control', 'no-store')
  res.setHeader('Pragma', 'no-cache')
  res.json(err.toJSON())
}
