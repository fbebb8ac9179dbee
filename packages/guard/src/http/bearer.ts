import { countAuthorizationHeaders } from '@ccflow/core'
import type { Request } from 'express'
import { InvalidRequestError } from '../errors.js'
import type { InvalidRequestReason } from '../errors.js'

/** {@link readBearerToken} found no token at all. */
export const NO_TOKEN = 0
/** {@link readBearerToken} found an Authorization header with another scheme (Basic, …). */
export const OTHER_SCHEME = 1

/** Where tokens may come from besides the Authorization header. */
export interface TokenLocations {
  /** RFC 6750 §2.2 form-encoded body parameter. */
  body: boolean
  /** RFC 6750 §2.3 URI query parameter. */
  query: boolean
}

// RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/
const ANOTHER_BEARER = /,\s*bearer(?:\s|$)/i
// A query parameter named access_token in any spelling a query parser decodes to that name:
// each character literal or percent-encoded (`%61ccess_token`), followed by `=`, `&`, the end,
// or a bracket (`access_token[]=`, which Express 4's qs and `extended` parsers turn into an
// array or object). Case-insensitive, so `ACCESS_TOKEN` counts as an attempt too.
const QUERY_PARAMETER = new RegExp(
  `(?:^|&)${[...'access_token']
    .map((c) => `(?:${c}|%${c.charCodeAt(0).toString(16)})`)
    .join('')}(?:[=&[]|%5b|$)`,
  'i',
)
const PARAMETER = 'access_token'
const FORM = 'application/x-www-form-urlencoded'

function reject(reason: InvalidRequestReason, realm: string): never {
  throw new InvalidRequestError(reason, { realm })
}

/**
 * The syntax checks of a token read from the Authorization header: no comma (two headers folded
 * into one) and the RFC 6750 §2.1 b64token grammar.
 *
 * @throws {InvalidRequestError} (400) `multiple_authorization_headers` or `malformed_authorization`.
 */
export function checkHeaderTokenSyntax(token: string, realm: string): void {
  if (token.includes(',')) reject('multiple_authorization_headers', realm)
  if (!B64TOKEN.test(token)) reject('malformed_authorization', realm)
}

function fromHeader(
  value: string,
  realm: string,
  checkSyntax: boolean,
): string | typeof OTHER_SCHEME {
  const space = value.indexOf(' ')
  const scheme = space === -1 ? value : value.slice(0, space)
  // RFC 9110 §11.1: the scheme is case-insensitive.
  if (scheme.length !== 6 || scheme.toLowerCase() !== 'bearer') {
    // Another scheme's credentials may hold commas (Digest), but a second Bearer joined on with
    // a comma is two Authorization headers folded into one.
    if (ANOTHER_BEARER.test(value)) reject('multiple_authorization_headers', realm)
    // RFC 6750 §2.1 allows only SP after the scheme; "Bearer<TAB>token" is a broken Bearer
    // header, not another scheme.
    if (value.charCodeAt(6) === 0x09 && value.slice(0, 6).toLowerCase() === 'bearer') {
      reject('malformed_authorization', realm)
    }
    return OTHER_SCHEME
  }
  if (space === -1) reject('malformed_authorization', realm)
  let start = space + 1
  while (value.charCodeAt(start) === 0x20) start += 1
  const token = value.slice(start)
  if (checkSyntax) checkHeaderTokenSyntax(token, realm)
  return token
}

function fromBody(req: Request, realm: string, enabled: boolean): string | undefined {
  const body: unknown = req.body
  if (typeof body !== 'object' || body === null || !Object.hasOwn(body, 'access_token')) {
    return undefined
  }
  // RFC 6750 §2.2: only a form-encoded body carries a token; a JSON field of that name is data.
  const type = req.headers['content-type']
  if (type === undefined || !type.toLowerCase().startsWith(FORM)) return undefined
  if (!enabled) reject('body_token_disabled', realm)
  const value = (body as Record<string, unknown>).access_token
  if (typeof value !== 'string' || !B64TOKEN.test(value)) {
    reject('malformed_token_parameter', realm)
  }
  return value
}

function fromQuery(req: Request, realm: string, enabled: boolean): string | undefined {
  // req.url (not req.query): Express 5 parses req.query on every access, and this way the
  // common case, no access_token in the URL, costs one indexOf.
  const url = req.url
  const mark = url.indexOf('?')
  if (mark === -1) return undefined
  const query = url.slice(mark + 1)
  if (!QUERY_PARAMETER.test(query)) return undefined
  if (!enabled) reject('query_token_disabled', realm)
  let value: string | undefined
  for (const [name, parameter] of new URLSearchParams(query)) {
    if (!name.startsWith(PARAMETER)) continue
    // A repeated parameter, or a bracketed one next to it, is an array or object to the app's
    // req.query: one token for us and another for the app would be a parser differential.
    if (name.length === PARAMETER.length) {
      if (value !== undefined) reject('malformed_token_parameter', realm)
      value = parameter
    } else if (name.charCodeAt(PARAMETER.length) === 0x5b) {
      reject('malformed_token_parameter', realm)
    }
  }
  if (value !== undefined && !B64TOKEN.test(value)) reject('malformed_token_parameter', realm)
  return value
}

/**
 * Reads the bearer token of a request (RFC 6750 §2): from `Authorization: Bearer <token>` and,
 * when enabled, the form body or the query. The scheme is case-insensitive, one or more spaces
 * may follow it, and the token must match the b64token grammar.
 *
 * @param checkSyntax - `false` leaves {@link checkHeaderTokenSyntax} of a header token to the
 * caller, which runs it only when the token is not already known (a cached token passed it).
 * @returns the token, {@link NO_TOKEN}, or {@link OTHER_SCHEME}.
 * @throws {InvalidRequestError} (400) for repeated or comma-joined Authorization headers, a
 * malformed header or parameter, a token in a disabled location, or tokens in several locations.
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-2
 */
export function readBearerToken(
  req: Request,
  locations: TokenLocations,
  realm: string,
  checkSyntax = true,
): string | typeof NO_TOKEN | typeof OTHER_SCHEME {
  const header = req.headers.authorization
  let token: string | typeof OTHER_SCHEME | undefined
  if (header !== undefined) {
    // Node keeps only the first of repeated Authorization headers; rawHeaders has them all.
    if (countAuthorizationHeaders(req.rawHeaders) > 1) {
      reject('multiple_authorization_headers', realm)
    }
    token = fromHeader(header, realm, checkSyntax)
  }
  const body = fromBody(req, realm, locations.body)
  const query = fromQuery(req, realm, locations.query)
  if (body === undefined && query === undefined) return token ?? NO_TOKEN
  const found =
    (typeof token === 'string' ? 1 : 0) +
    (body === undefined ? 0 : 1) +
    (query === undefined ? 0 : 1)
  // RFC 6750 §2: clients MUST NOT use more than one method per request.
  if (found > 1) reject('multiple_token_locations', realm)
  return (body ?? query) as string
}
