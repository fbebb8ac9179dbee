/**
 * The `error` codes the token endpoint answers with: RFC 6749 §5.2 plus `invalid_target` from
 * RFC 8707 §2.
 *
 * @see RFC 6749 §5.2, RFC 8707 §2
 */
export type TokenErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'invalid_target'

/** Options every {@link TokenError} subclass accepts. */
export interface TokenErrorOptions {
  /**
   * A stable machine-readable detail (for example `duplicate_parameter`) that goes to the
   * `onEvent` hook, never to the client.
   */
  reason?: string
  /** Response headers that must accompany the error, such as `WWW-Authenticate`. */
  headers?: Readonly<Record<string, string>>
  /** The underlying error, if any (ES2022 error cause). */
  cause?: unknown
}

// A brand that survives the ESM/CJS split: `Symbol.for` returns the same symbol in both builds,
// so `TokenError.is()` works where `instanceof` would compare two different classes.
const BRAND: unique symbol = Symbol.for('ccflow.issuer.TokenError')

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
})

const STATUS: Readonly<Record<TokenErrorCode, number>> = Object.freeze({
  invalid_request: 400,
  invalid_client: 401,
  invalid_grant: 400,
  unauthorized_client: 400,
  unsupported_grant_type: 400,
  invalid_scope: 400,
  invalid_target: 400,
})

/**
 * An OAuth 2.0 token endpoint error: the RFC wire `code`, the HTTP `status`, the headers that go
 * with it and a fixed `description`. The router's terminal handler renders it as
 * `{ error, error_description }`.
 *
 * Compare on `code` (or use {@link TokenError.is}) rather than `instanceof`: the package ships an
 * ESM and a CJS build, and each has its own class.
 *
 * @example
 * ```ts
 * if (TokenError.is(err) && err.code === 'invalid_scope') metrics.count('scope_denied')
 * ```
 * @see RFC 6749 §5.2
 */
export class TokenError extends Error {
  override readonly name: string = 'TokenError'
  /** The RFC 6749 §5.2 (or RFC 8707) `error` code. */
  readonly code: TokenErrorCode
  /** The HTTP status: 401 for `invalid_client`, 400 for every other code. */
  readonly status: number
  /** Headers to send with the response, for example a Basic challenge. */
  readonly headers: Readonly<Record<string, string>> | undefined
  /** The error text is safe to send to the client: it comes from a fixed wording. */
  readonly expose = true
  /** The `error_description` sent to the client. */
  readonly description: string
  /** A stable detail for logs and the `onEvent` hook; never sent to the client. */
  readonly reason: string | undefined

  constructor(code: TokenErrorCode, description?: string, options: TokenErrorOptions = {}) {
    const text = description ?? DEFAULT_DESCRIPTIONS[code]
    super(text, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.status = STATUS[code]
    this.description = text
    this.headers = options.headers
    this.reason = options.reason
    Object.defineProperty(this, BRAND, { value: true })
  }

  /**
   * Whether `value` is a TokenError from either build of this package.
   *
   * @example
   * ```ts
   * app.use((err, req, res, next) => TokenError.is(err) ? res.status(err.status).end() : next(err))
   * ```
   */
  static is(value: unknown): value is TokenError {
    return (
      typeof value === 'object' &&
      value !== null &&
      (value as Record<symbol, unknown>)[BRAND] === true
    )
  }
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
