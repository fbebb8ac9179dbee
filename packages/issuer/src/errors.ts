import { brand, isBranded, markBranded, type ProtocolError } from '@ccflow/core'
import type { AuthenticationFailureReason } from './events.js'

/**
 * The `error` codes the token endpoint answers with: RFC 6749 §5.2, `invalid_target` from
 * RFC 8707 §2, and `temporarily_unavailable` (RFC 6749 §4.1.2.1) for a 503.
 *
 * @see RFC 6749 §5.2 and §4.1.2.1, RFC 8707 §2
 */
export type TokenErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'invalid_target'
  | 'temporarily_unavailable'

/**
 * What a {@link TemporarilyUnavailableError} waited for: a store (the revocation denylist, a
 * rate-limit store configured to fail closed) or one of the application's hooks
 * (`clients.findClient`, `extraClaims`), or, for `private_key_jwt`, a client's `jwks_uri`
 * (`client_jwks`) or the assertion replay store (`replay_store`).
 */
export type UnavailableDependency =
  'denylist' | 'rate_limit' | 'client_store' | 'extra_claims' | 'client_jwks' | 'replay_store'

/**
 * The stable detail of a {@link TokenError}, finer than its `code`. It goes to the `onEvent`
 * hook (as `token_request_rejected.reason` or `authentication_failed.reason`), never to the
 * client, and never changes between releases without a major version.
 */
export type TokenErrorReason =
  // invalid_request
  | 'unsupported_content_type'
  | 'unsupported_charset'
  | 'malformed_body'
  | 'too_many_parameters'
  | 'invalid_parameter_type'
  | 'duplicate_parameter'
  | 'credentials_in_query'
  | 'multiple_authorization_headers'
  | 'multiple_auth_methods'
  | 'client_id_mismatch'
  | 'missing_grant_type'
  | 'missing_token'
  // invalid_client: the same as authentication_failed.reason
  | AuthenticationFailureReason
  // unauthorized_client
  | 'grant_not_allowed'
  | 'introspection_not_allowed'
  // unsupported_grant_type
  | 'unsupported_grant_type'
  // invalid_scope
  | 'malformed_scope'
  | 'scope_not_allowed'
  // invalid_target
  | 'malformed_resource'
  | 'target_not_allowed'
  // temporarily_unavailable: denylist_unavailable, rate_limit_unavailable, ...
  | `${UnavailableDependency}_unavailable`

/** Options every {@link TokenError} subclass accepts. */
export interface TokenErrorOptions {
  /**
   * A stable machine-readable detail (for example `duplicate_parameter`) that goes to the
   * `onEvent` hook, never to the client.
   */
  reason?: TokenErrorReason | undefined
  /** Response headers that must accompany the error, such as `WWW-Authenticate`. */
  headers?: Readonly<Record<string, string>> | undefined
  /** The underlying error, if any (ES2022 error cause). */
  cause?: unknown
}

// The same registered symbol in the ESM and the CJS build, so `isTokenError` recognizes an error
// from either, where `instanceof` would compare two different classes.
const BRAND = brand('issuer.TokenError')

/**
 * The fixed `error_description` sent with each code when no more specific wording applies.
 * Descriptions never include anything from the request.
 */
export const DEFAULT_DESCRIPTIONS: Readonly<Record<TokenErrorCode, string>> = Object.freeze({
  invalid_request: 'The request is missing a required parameter or is otherwise malformed.',
  invalid_client: 'Client authentication failed.',
  invalid_grant: 'The provided authorization grant is invalid.',
  unauthorized_client: 'The client is not authorized to use this grant type.',
  unsupported_grant_type: 'The grant type is not supported by this token endpoint.',
  invalid_scope:
    'The requested scope is invalid, unknown, malformed, or exceeds what the client may request.',
  invalid_target:
    'The requested resource or audience is invalid, unknown, or not allowed for this client.',
  temporarily_unavailable:
    'The service is temporarily unavailable. Retry after the number of seconds in the Retry-After header.',
})

const STATUS: Readonly<Record<TokenErrorCode, number>> = Object.freeze({
  invalid_request: 400,
  invalid_client: 401,
  invalid_grant: 400,
  unauthorized_client: 400,
  unsupported_grant_type: 400,
  invalid_scope: 400,
  invalid_target: 400,
  temporarily_unavailable: 503,
})

/**
 * An OAuth 2.0 token endpoint error: the RFC wire `code`, the HTTP `status`, the headers that go
 * with it and a fixed `description`. The router's terminal handler renders it as
 * `{ error, error_description }` with its status and headers.
 *
 * The model, shared with `@ccflow/guard`'s `BearerError`: `code` is always the wire code (the
 * `error` value of the body), `reason` a stable detail from the {@link TokenErrorReason} union,
 * and a 503 is a subclass ({@link TemporarilyUnavailableError}) naming its `dependency`.
 *
 * Compare on `code` (or use {@link isTokenError}) rather than `instanceof`: the package ships an
 * ESM and a CJS build, and each has its own class.
 *
 * @example
 * ```ts
 * if (isTokenError(err) && err.code === 'invalid_scope') metrics.count('scope_denied')
 * ```
 * @see RFC 6749 §5.2
 */
export class TokenError extends Error implements ProtocolError<TokenErrorCode, TokenErrorReason> {
  override readonly name: string = 'TokenError'
  /** The wire code: the `error` value of the JSON body (RFC 6749 §5.2, RFC 8707, or 503's). */
  readonly code: TokenErrorCode
  /** The HTTP status: 401 for `invalid_client`, 503 for `temporarily_unavailable`, else 400. */
  readonly status: number
  /** Headers to send with the response, for example a Basic challenge or `Retry-After`. */
  readonly headers: Readonly<Record<string, string>> | undefined
  /** The error text is safe to send to the client: it comes from a fixed wording. */
  readonly expose = true
  /** The `error_description` sent to the client. */
  readonly description: string
  /** A stable detail for logs and the `onEvent` hook; never sent to the client. */
  readonly reason: TokenErrorReason | undefined

  constructor(code: TokenErrorCode, description?: string, options: TokenErrorOptions = {}) {
    const text = description ?? DEFAULT_DESCRIPTIONS[code]
    super(text, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.status = STATUS[code]
    this.description = text
    this.headers = options.headers
    this.reason = options.reason
    markBranded(this, BRAND)
  }

  /** The same as {@link isTokenError}. */
  static is(value: unknown): value is TokenError {
    return isTokenError(value)
  }
}

/**
 * Whether `value` is a {@link TokenError} (any subclass) from either the ESM or the CJS build of
 * this package. A look-alike, such as an object or an `Error` with the same `code` and `status`,
 * is not.
 *
 * @example
 * ```ts
 * app.use((err, req, res, next) => (isTokenError(err) ? res.status(err.status).end() : next(err)))
 * ```
 */
export function isTokenError(value: unknown): value is TokenError {
  return isBranded(value, BRAND)
}

/**
 * `invalid_request` (400): a required parameter is missing, a parameter is repeated or has the
 * wrong form, the body is not a form, or two authentication methods were used at once.
 *
 * @see RFC 6749 §5.2, §3.2, §2.3
 */
export class InvalidRequestError extends TokenError {
  override readonly name = 'InvalidRequestError'
  declare readonly code: 'invalid_request'
  constructor(description?: string, options?: TokenErrorOptions) {
    super('invalid_request', description, options)
  }
}

/**
 * `invalid_client` (401): client authentication failed. The same error (and description) is used
 * for every cause so that clients cannot be enumerated; the cause goes to `onEvent` only.
 *
 * @see RFC 6749 §5.2
 */
export class InvalidClientError extends TokenError {
  override readonly name = 'InvalidClientError'
  declare readonly code: 'invalid_client'
  constructor(description?: string, options?: TokenErrorOptions) {
    super('invalid_client', description, options)
  }
}

/**
 * `invalid_grant` (400). Not produced by the client credentials grant itself (it has no grant to
 * be invalid); provided so that hooks and future grants can use the full RFC vocabulary.
 *
 * @see RFC 6749 §5.2
 */
export class InvalidGrantError extends TokenError {
  override readonly name = 'InvalidGrantError'
  declare readonly code: 'invalid_grant'
  constructor(description?: string, options?: TokenErrorOptions) {
    super('invalid_grant', description, options)
  }
}

/**
 * `unauthorized_client` (400): the authenticated client may not use this grant type.
 *
 * @see RFC 6749 §5.2
 */
export class UnauthorizedClientError extends TokenError {
  override readonly name = 'UnauthorizedClientError'
  declare readonly code: 'unauthorized_client'
  constructor(description?: string, options?: TokenErrorOptions) {
    super('unauthorized_client', description, options)
  }
}

/**
 * `unsupported_grant_type` (400): `grant_type` is not `client_credentials`.
 *
 * @see RFC 6749 §5.2
 */
export class UnsupportedGrantTypeError extends TokenError {
  override readonly name = 'UnsupportedGrantTypeError'
  declare readonly code: 'unsupported_grant_type'
  constructor(description?: string, options?: TokenErrorOptions) {
    super('unsupported_grant_type', description, options)
  }
}

/**
 * `invalid_scope` (400): the requested scope is malformed or not a subset of the client's scope.
 *
 * @see RFC 6749 §5.2, §3.3
 */
export class InvalidScopeError extends TokenError {
  override readonly name = 'InvalidScopeError'
  declare readonly code: 'invalid_scope'
  constructor(description?: string, options?: TokenErrorOptions) {
    super('invalid_scope', description, options)
  }
}

/**
 * `invalid_target` (400): a `resource` or `audience` value is malformed or not among the client's
 * allowed audiences.
 *
 * @see RFC 8707 §2
 */
export class InvalidTargetError extends TokenError {
  override readonly name = 'InvalidTargetError'
  declare readonly code: 'invalid_target'
  constructor(description?: string, options?: TokenErrorOptions) {
    super('invalid_target', description, options)
  }
}

// Seconds a client should wait after a 503.
const RETRY_AFTER: Readonly<Record<string, string>> = Object.freeze({ 'Retry-After': '1' })

function retryAfterHeader(seconds: number | undefined): Readonly<Record<string, string>> {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds <= 1) return RETRY_AFTER
  return Object.freeze({ 'Retry-After': String(Math.min(Math.ceil(seconds), 3600)) })
}

/** Options of {@link TemporarilyUnavailableError}. */
export interface TemporarilyUnavailableErrorOptions {
  /** The underlying error, or why the wait ended (ES2022 error cause). Never sent to the client. */
  cause?: unknown
  /**
   * Seconds after which a retry may succeed, sent as `Retry-After` (a whole number from 1 to
   * 3600; anything else is rounded into that range). A client's `jwks_uri` in its cooldown
   * knows when its next fetch may run.
   * @default 1
   */
  retryAfter?: number | undefined
}

/**
 * `temporarily_unavailable` (503): a store the endpoint depends on (the denylist, a rate-limit
 * store configured to fail closed) or one of the application's hooks (`clients.findClient`,
 * `extraClaims`) failed or could not answer within `hookTimeout`. The answer carries
 * `Retry-After`, as RFC 7009 §2.2.1 describes for revocation: the client must assume nothing
 * happened and may retry. The router reports it to `onEvent` as `server_error`, with this error
 * (and its `dependency` and `cause`) as `error`.
 *
 * @example
 * ```ts
 * onEvent: (e) => {
 *   if (e.type === 'server_error' && isTokenError(e.error) && e.error.code === 'temporarily_unavailable')
 *     logger.warn({ err: e.error }, 'a store or hook is unavailable') // err.dependency names it
 * }
 * ```
 * @see RFC 6749 §4.1.2.1, RFC 7009 §2.2.1
 */
export class TemporarilyUnavailableError extends TokenError {
  override readonly name = 'TemporarilyUnavailableError'
  declare readonly code: 'temporarily_unavailable'
  declare readonly reason: `${UnavailableDependency}_unavailable`
  /** Which store or hook failed. */
  readonly dependency: UnavailableDependency

  constructor(dependency: UnavailableDependency, options: TemporarilyUnavailableErrorOptions = {}) {
    super('temporarily_unavailable', undefined, {
      reason: `${dependency}_unavailable`,
      headers: retryAfterHeader(options.retryAfter),
      cause: options.cause,
    })
    this.dependency = dependency
  }

  /**
   * The failed store or hook.
   *
   * @deprecated Use {@link TemporarilyUnavailableError.dependency}; `store` goes in the next major.
   */
  get store(): UnavailableDependency {
    return this.dependency
  }
}
