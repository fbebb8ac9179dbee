import { isObjectRecord } from '@ccflow/core'
import { TransportError } from '../errors.js'

/** A successful token response (RFC 6749 §5.1), checked. */
export interface TokenResponse {
  readonly value: string
  /** `token_type`, compared case-insensitively (RFC 6749 §7.1) and written canonically. */
  readonly type: 'Bearer' | 'DPoP'
  /** `expires_in` in seconds, when the server sent it. */
  readonly expiresIn: number | undefined
  /** The granted `scope`, when the server sent it. */
  readonly scope: string | undefined
}

// Visible ASCII, no space: safe in an Authorization header (RFC 6750 §2.1 b64token is stricter;
// real servers send opaque tokens with other visible characters).
const TOKEN_VALUE = /^[\x21-\x7E]+$/
// "3600", as some servers send it, or a JSON number.
const DIGITS = /^\d{1,10}$/

/** Whether a `Content-Type` is JSON: `application/json` or `application/<x>+json`, any parameters. */
export function isJsonContentType(value: string | null): boolean {
  if (value === null) return false
  const type = (value.split(';')[0] as string).trim().toLowerCase()
  return type === 'application/json' || /^application\/[\w.+-]+\+json$/.test(type)
}

/** Parses JSON text into an object, or `undefined`. */
export function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text)
    return isObjectRecord(value) ? value : undefined
  } catch {
    return undefined
  }
}

/**
 * Checks a 2xx token response: JSON content, `access_token` a string of visible ASCII,
 * `token_type` Bearer or DPoP, `expires_in` (when present) a positive number of seconds and
 * `scope` (when present) a string.
 *
 * @throws {TransportError} `invalid_response`, naming the member that is wrong and never its value.
 */
export function parseTokenResponse(
  text: string,
  contentType: string | null,
  status: number,
): TokenResponse {
  const invalid = (problem: string): TransportError =>
    new TransportError('invalid_response', `token response ${problem}`, {
      retryable: false,
      status,
    })
  if (!isJsonContentType(contentType)) throw invalid('is not application/json')
  const body = parseJsonObject(text)
  if (body === undefined) throw invalid('is not a JSON object')
  const value = body.access_token
  if (typeof value !== 'string' || !TOKEN_VALUE.test(value)) {
    throw invalid('has no valid access_token')
  }
  const tokenType = typeof body.token_type === 'string' ? body.token_type.toLowerCase() : undefined
  if (tokenType !== 'bearer' && tokenType !== 'dpop') {
    throw invalid('has a token_type other than Bearer or DPoP')
  }
  let expiresIn: number | undefined
  const rawExpiresIn = body.expires_in
  if (rawExpiresIn !== undefined && rawExpiresIn !== null) {
    const seconds =
      typeof rawExpiresIn === 'number'
        ? rawExpiresIn
        : typeof rawExpiresIn === 'string' && DIGITS.test(rawExpiresIn)
          ? Number(rawExpiresIn)
          : Number.NaN
    if (!Number.isFinite(seconds) || seconds <= 0) {
      throw invalid('has an expires_in that is not a positive number of seconds')
    }
    expiresIn = seconds
  }
  const scope = body.scope
  if (scope !== undefined && scope !== null && typeof scope !== 'string') {
    throw invalid('has a scope that is not a string')
  }
  return {
    value,
    type: tokenType === 'bearer' ? 'Bearer' : 'DPoP',
    expiresIn,
    scope: typeof scope === 'string' ? scope : undefined,
  }
}

/** The `error` and `error_description` of an OAuth error body (RFC 6749 §5.2), if it is one. */
export function parseErrorBody(
  text: string,
  contentType: string | null,
): { error: string; description: string | undefined } | undefined {
  if (!isJsonContentType(contentType)) return undefined
  const body = parseJsonObject(text)
  if (body === undefined || typeof body.error !== 'string' || body.error === '') return undefined
  return {
    error: body.error,
    description: typeof body.error_description === 'string' ? body.error_description : undefined,
  }
}
