import { OAuthError, type TokenClientError, TransportError } from '../errors.js'
import type { DispatcherLike, FetchFunction } from '../options/types.js'
import { readBody } from './read-body.js'
import { parseRetryAfter } from './retry-after.js'
import { parseErrorBody, parseTokenResponse, type TokenResponse } from './token-response.js'

/** One token request, ready to send. */
export interface TokenRequest {
  readonly url: URL
  readonly body: URLSearchParams
  readonly authorization: string | undefined
  readonly fetch: FetchFunction
  readonly dispatcher: DispatcherLike | undefined
  /** Aborted at the deadline or on close(), with a TransportError as its reason. */
  readonly signal: AbortSignal
  readonly maxResponseBytes: number
}

/** What one attempt came to. */
export type AttemptOutcome =
  | { readonly ok: true; readonly token: TokenResponse; readonly sentAt: number }
  | {
      readonly ok: false
      readonly error: TokenClientError
      /** Whether another attempt may succeed: network failures, 429, 500, 502, 503 and 504. */
      readonly retry: boolean
      /** The `Retry-After` of a 429 or 503, in seconds. */
      readonly retryAfter: number | undefined
      readonly status: number | undefined
    }

// RFC 9110 §15.6: the server errors worth trying again; 501 and 505 will not change.
const RETRY_STATUSES: ReadonlySet<number> = new Set([429, 500, 502, 503, 504])

/**
 * Sends one token request (RFC 6749 §4.4.2) and classifies the answer. Never rejects: a failure
 * is an outcome, so the retry loop decides. Redirects are not followed (a token endpoint that
 * redirects a POST with credentials is misconfigured).
 */
export async function sendTokenRequest(request: TokenRequest): Promise<AttemptOutcome> {
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    accept: 'application/json',
  }
  if (request.authorization !== undefined) headers.authorization = request.authorization
  const init: RequestInit = {
    method: 'POST',
    headers,
    body: request.body.toString(),
    redirect: 'manual',
    signal: request.signal,
  }
  // undici reads `dispatcher` from init; the global RequestInit type names undici's own class.
  if (request.dispatcher !== undefined) {
    ;(init as { dispatcher?: DispatcherLike }).dispatcher = request.dispatcher
  }
  const sentAt = Date.now()
  let status: number | undefined
  try {
    const response = await request.fetch(request.url, init)
    status = response.status
    const text = await readBody(response, request.maxResponseBytes)
    const contentType = response.headers.get('content-type')
    if (status >= 200 && status < 300) {
      return { ok: true, token: parseTokenResponse(text, contentType, status), sentAt }
    }
    const retry = RETRY_STATUSES.has(status)
    const retryAfter =
      status === 429 || status === 503
        ? parseRetryAfter(response.headers.get('retry-after'), Date.now())
        : undefined
    const oauth = retry ? undefined : parseErrorBody(text, contentType)
    const error =
      oauth === undefined
        ? new TransportError('http_status', `token endpoint answered HTTP ${status}`, {
            retryable: retry,
            status,
          })
        : new OAuthError(oauth.error, status, oauth.description)
    return { ok: false, error, retry, retryAfter, status }
  } catch (error) {
    if (request.signal.aborted) {
      return {
        ok: false,
        error: request.signal.reason as TokenClientError,
        retry: false,
        retryAfter: undefined,
        status,
      }
    }
    if (error instanceof TransportError) {
      return { ok: false, error, retry: error.retryable, retryAfter: undefined, status }
    }
    return {
      ok: false,
      error: new TransportError('network', 'token endpoint could not be reached', {
        retryable: true,
        cause: error,
      }),
      retry: true,
      retryAfter: undefined,
      status,
    }
  }
}
