import { isUtf8 } from 'node:buffer'
import { formDecode } from '../http/form.js'

// Longest client id or secret we look at; longer values fail before any store or hash work.
const MAX_CREDENTIAL_LENGTH = 1024
// A Basic header holding two maximal credentials, each percent-encoded (3 bytes per character),
// in Base64 (4/3) stays under this; anything longer is refused before decoding.
const MAX_BASIC_HEADER_LENGTH = 8 * 1024 + 64
// RFC 7235 §2.1: auth-scheme is case-insensitive, then 1*SP, then token68 (RFC 7617: Base64).
const BASIC = /^basic +([A-Za-z0-9+/]+={0,2})$/i
const REPLACEMENT = '\uFFFD'
const COLON = 0x3a
const CLIENT_ID = /^[\x20-\x7e]+$/

/** Decoded client credentials. */
export interface ClientCredentials {
  clientId: string
  secret: string
}

/**
 * Checks the shape of an `Authorization` header before passport-http's `BasicStrategy` reads it:
 * a bounded length, the Basic scheme (case-insensitive, RFC 7235 §2.1) and a token68 that is
 * Base64 of a possible length. Anything else passport-http would misread (another scheme that
 * merely contains "basic", an empty token after a second space, lenient Base64) or answer with a
 * text/plain `fail(400)`; here it costs no decoding and no store lookup.
 *
 * What needs the decoded bytes is left to passport-http, which decodes the token once: no colon,
 * an empty id or password (its own `fail()`, which the token endpoint answers like every other
 * malformed header), and bytes that are not UTF-8 (U+FFFD, refused by
 * {@link decodeClientCredentials}).
 *
 * @returns The header as passport-http parses it (`Basic <token>`, one space), or `undefined`.
 * @see RFC 6749 §2.3.1, RFC 7617 §2
 */
export function checkBasicHeader(header: string): string | undefined {
  if (header.length > MAX_BASIC_HEADER_LENGTH) return undefined
  const token = BASIC.exec(header)?.[1]
  if (token === undefined || token.length % 4 === 1) return undefined
  // passport-http splits on a single space: hand it one.
  return header.length === token.length + 6 ? header : `Basic ${token}`
}

/**
 * What the `BasicStrategy` verify callback does with the user-id and password passport-http
 * hands it: RFC 6749 Appendix B decoding of both (`+` is a space, `%XX` is UTF-8), which
 * passport-http does not do (jaredhanson/passport-http#20), then the length and VSCHAR checks.
 *
 * passport-http splits the decoded header on every colon and passes only the text up to the
 * second one as the password, so a client that puts a raw `:` in its secret instead of `%3A`
 * (as RFC 6749 §2.3.1 requires) presents a truncated secret and fails authentication.
 *
 * @returns The credentials, or `undefined` for bytes that were not UTF-8, a bad `%` escape, an
 *   empty or oversized value, or a client id with a character outside VSCHAR (Appendix A.1).
 * @see RFC 6749 §2.3.1 and Appendix B
 */
export function decodeClientCredentials(
  userid: string,
  password: string,
): ClientCredentials | undefined {
  // passport-http decodes the header with Buffer#toString(), which turns bytes that are not
  // UTF-8 (RFC 7617 §2.1) into U+FFFD; a client id holding one fails the VSCHAR check below.
  if (password.includes(REPLACEMENT)) return undefined
  return checkCredentials(formDecode(userid), formDecode(password))
}

export function checkCredentials(
  clientId: string | undefined,
  secret: string | undefined,
): ClientCredentials | undefined {
  if (clientId === undefined || secret === undefined) return undefined
  if (clientId === '' || secret === '') return undefined
  if (clientId.length > MAX_CREDENTIAL_LENGTH || secret.length > MAX_CREDENTIAL_LENGTH) {
    return undefined
  }
  // RFC 6749 Appendix A.1: client-id = *VSCHAR, as every registered id is. Anything else cannot
  // name a client, so it never reaches the store, and no control character reaches onEvent.
  if (!CLIENT_ID.test(clientId)) return undefined
  return { clientId, secret }
}

/** Whether the checked header decodes to UTF-8 `user-id:password`, both non-empty. */
export function holdsUserPass(header: string): boolean {
  const bytes = Buffer.from(header.slice(header.indexOf(' ') + 1), 'base64')
  const colon = bytes.indexOf(COLON)
  return colon > 0 && colon < bytes.length - 1 && isUtf8(bytes)
}
