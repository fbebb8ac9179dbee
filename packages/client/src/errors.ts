import { brand, isBranded, markBranded } from '@ccflow/core'

/**
 * The `code` of a {@link TokenClientError}: which of the three failures it is. Stable across
 * releases and across the ESM and CJS builds, so apps can switch on it instead of `instanceof`.
 *
 * - `oauth_error`: the token endpoint refused the request with an RFC 6749 §5.2 error.
 * - `throttled`: the token endpoint asked to wait longer than the client may ({@link ThrottledError}).
 * - `transport_error`: no valid answer: network, deadline, status or response shape.
 */
export type TokenClientErrorCode = 'oauth_error' | 'throttled' | 'transport_error'

/**
 * Why a {@link TransportError} happened; stable, safe to log and to use as a metric label.
 *
 * - `network`: the connection failed or was reset.
 * - `deadline`: the overall deadline of the request (retries included) passed.
 * - `http_status`: a status that is neither a token nor an OAuth error (5xx, 404, a redirect).
 * - `invalid_response`: a 2xx whose body is not a valid token response, or an unexpected content type.
 * - `too_large`: the response body is larger than `maxResponseBytes`.
 * - `discovery`: the issuer's metadata could not be read or names no usable token endpoint.
 * - `closed`: the client was closed while the request was waiting.
 */
export type TransportErrorReason =
  'network' | 'deadline' | 'http_status' | 'invalid_response' | 'too_large' | 'discovery' | 'closed'

// The same registered symbol in the ESM and the CJS build (core's brand), so
// isTokenClientError recognizes an error from either.
const BRAND = brand('client.TokenClientError')

/**
 * The base of every error `getToken()` and `fetch()` reject with (apart from the caller's own
 * `AbortSignal` reason). Messages hold the failure in words, an HTTP status and an OAuth error
 * code at most: never the client secret, the client assertion or a token.
 */
export class TokenClientError extends Error {
  override readonly name: string = 'TokenClientError'
  /** Which failure this is; see {@link TokenClientErrorCode}. */
  readonly code: TokenClientErrorCode

  constructor(code: TokenClientErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    markBranded(this, BRAND)
  }

  /** Whether `value` is an error of this package, from either build (ESM or CJS). */
  static is(value: unknown): value is TokenClientError {
    return isTokenClientError(value)
  }
}

/**
 * Whether `value` is a {@link TokenClientError} from either build of this package: a brand
 * check, so it works where `instanceof` compares two copies of the class.
 */
export function isTokenClientError(value: unknown): value is TokenClientError {
  return isBranded(value, BRAND)
}

// RFC 6749 §5.2: error = 1*( %x20-21 / %x23-5B / %x5D-7E ). Anything else is not an error code.
const ERROR_CODE = /^[\x20\x21\x23-\x5B\x5D-\x7E]{1,128}$/
const MAX_DESCRIPTION = 512

/**
 * The token endpoint refused the request with an OAuth error (RFC 6749 §5.2), such as
 * `invalid_client`, `invalid_scope` or `invalid_target`. Never retried: the same request would
 * be refused again.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-5.2
 */
export class OAuthError extends TokenClientError {
  override readonly name = 'OAuthError'
  declare readonly code: 'oauth_error'
  /** The RFC 6749 §5.2 `error` code, as the server sent it. */
  readonly error: string
  /**
   * The server's `error_description`, cut to printable ASCII and 512 characters; `undefined`
   * when it sent none. It is the server's text: it is kept here, never put into the message.
   */
  readonly error_description: string | undefined
  /** The HTTP status of the answer (400 or 401 for a compliant server). */
  readonly status: number

  constructor(error: string, status: number, errorDescription?: string) {
    const code = ERROR_CODE.test(error) ? error : 'invalid_error_code'
    super('oauth_error', `token endpoint refused the request: ${code} (HTTP ${status})`)
    this.error = code
    this.error_description =
      errorDescription === undefined
        ? undefined
        : errorDescription.replace(/[^\x20-\x7E]/g, '').slice(0, MAX_DESCRIPTION)
    this.status = status
  }
}

/**
 * The token endpoint answered 429 or 503 with a `Retry-After` that the client may not wait out:
 * longer than `maxRetryAfterSeconds`, or beyond the request's deadline. Until then the client
 * sends no new request for the same token; a cached token that is still valid keeps being
 * served.
 */
export class ThrottledError extends TokenClientError {
  override readonly name = 'ThrottledError'
  declare readonly code: 'throttled'
  /** Seconds the server asked to wait, counted from when the answer came. */
  readonly retryAfter: number
  /** The HTTP status: 429 or 503. */
  readonly status: number

  constructor(retryAfter: number, status: number) {
    super('throttled', `token endpoint asked to retry after ${retryAfter} s (HTTP ${status})`)
    this.retryAfter = retryAfter
    this.status = status
  }
}

/**
 * No valid answer from the token endpoint (or from the issuer's metadata); `reason` says why and
 * `retryable` whether the same request could succeed later (network failures, deadlines and 5xx
 * are retryable; a malformed token response or a 404 is not).
 */
export class TransportError extends TokenClientError {
  override readonly name = 'TransportError'
  declare readonly code: 'transport_error'
  /** Why; see {@link TransportErrorReason}. */
  readonly reason: TransportErrorReason
  /** Whether the same request may succeed later. */
  readonly retryable: boolean
  /** The HTTP status, when an answer came. */
  readonly status: number | undefined

  constructor(
    reason: TransportErrorReason,
    message: string,
    options: { retryable: boolean; status?: number | undefined; cause?: unknown },
  ) {
    super('transport_error', message, { cause: options.cause })
    this.reason = reason
    this.retryable = options.retryable
    this.status = options.status
  }
}
