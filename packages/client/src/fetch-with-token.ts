import type { AccessToken } from './token-client.js'
import type { DispatcherLike, FetchFunction, GetTokenOptions } from './options/types.js'

/** What the authorizing fetch needs from its token client. */
export interface TokenSourceForFetch {
  getToken(options?: GetTokenOptions): Promise<AccessToken>
  /** Drops `token` for these options only while it is still the cached one. */
  dropToken(token: AccessToken, options: GetTokenOptions | undefined): Promise<void>
  readonly fetch: FetchFunction
  readonly dispatcher: DispatcherLike | undefined
}

// RFC 6750 §3: the challenge of a rejected token. Only this error says "get a new token";
// insufficient_scope or invalid_request would fail the same way again.
const INVALID_TOKEN = /(?:^|[\s,])error\s*=\s*"?invalid_token"?(?:$|[\s,])/i
const TOKEN_SCHEME = /^\s*(?:bearer|dpop)\b/i

/**
 * Whether a response rejects the token it was sent with: 401 and a `Bearer` (or `DPoP`)
 * challenge with `error="invalid_token"` (RFC 6750 §3.1).
 */
export function rejectsToken(response: Response): boolean {
  if (response.status !== 401) return false
  const challenge = response.headers.get('www-authenticate')
  return challenge !== null && rejectsTokenChallenge(challenge)
}

/** Whether a `WWW-Authenticate` value is a `Bearer` or `DPoP` challenge with `error="invalid_token"`. */
export function rejectsTokenChallenge(challenge: string): boolean {
  return TOKEN_SCHEME.test(challenge) && INVALID_TOKEN.test(challenge)
}

/**
 * `fetch()` with the client's token in `Authorization`, and one retry with a new token when the
 * API answers 401 `invalid_token` (a token revoked or signed with a key the API no longer
 * trusts). A body that is a stream can only be sent once: such a request is not retried.
 */
export async function fetchWithToken(
  source: TokenSourceForFetch,
  input: string | URL | Request,
  init: RequestInit | undefined,
  options: GetTokenOptions | undefined,
): Promise<Response> {
  const tokenOptions =
    init?.signal === undefined || init.signal === null
      ? options
      : { ...options, signal: init.signal }
  // A Request's body is a stream: keep a copy for the retry before the first send reads it.
  const spare = input instanceof Request && input.body !== null ? input.clone() : undefined
  const replayable = !(init?.body instanceof ReadableStream)
  const first = await source.getToken(tokenOptions)
  const response = await send(source, input, init, first)
  if (!rejectsToken(response) || !replayable) return response
  await response.body?.cancel()
  await source.dropToken(first, options)
  const second = await source.getToken(tokenOptions)
  return send(source, spare ?? input, init, second)
}

function send(
  source: TokenSourceForFetch,
  input: string | URL | Request,
  init: RequestInit | undefined,
  token: AccessToken,
): Promise<Response> {
  // A Request's own headers first, then init's, as fetch itself merges them.
  const headers = new Headers(input instanceof Request ? input.headers : undefined)
  if (init?.headers !== undefined) {
    for (const [name, value] of new Headers(init.headers)) headers.set(name, value)
  }
  headers.set('authorization', `${token.type} ${token.value}`)
  const next: RequestInit = { ...init, headers }
  // undici reads `dispatcher` from init; the global RequestInit type names undici's own class.
  const withDispatcher = next as { dispatcher?: DispatcherLike }
  if (source.dispatcher !== undefined && withDispatcher.dispatcher === undefined) {
    withDispatcher.dispatcher = source.dispatcher
  }
  return source.fetch(input, next)
}
