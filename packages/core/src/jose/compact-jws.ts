import { isObjectRecord } from '../objects.js'
import { EDDSA_ALGORITHM } from './algorithms.js'

/**
 * Why {@link decodeCompactJws} rejects a token. A verifier that has its own reasons (the guard's
 * `InvalidTokenReason`) includes these.
 */
export type CompactJwsRejection =
  'malformed' | 'duplicate_member' | 'crit_header' | 'bad_typ' | 'unsupported_alg' | 'bad_signature'

/**
 * A JWS protected header that passed {@link decodeCompactJws}'s checks.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7515#section-4.1
 */
export interface JwsHeader {
  /** Signature algorithm (RFC 7515 §4.1.1), one the policy accepts. */
  alg: string
  /** Media type (RFC 7515 §4.1.9), such as `at+jwt` (RFC 9068) or `client-authentication+jwt`. */
  typ?: string
  /** Key id (RFC 7515 §4.1.4). */
  kid?: string
  [parameter: string]: unknown
}

/** A compact JWS that passed the structural checks, before any cryptography. */
export interface DecodedJws {
  /** The protected header (frozen when it came from, or went into, a {@link HeaderMemo}). */
  header: JwsHeader
  /** The payload: a JSON object without duplicate member names. */
  payload: Record<string, unknown>
}

/** The checks {@link decodeCompactJws} applies to the protected header. */
export interface JwsHeaderPolicy {
  /** Algorithms accepted at all (never `none`). */
  algorithms: ReadonlySet<string>
  /**
   * Accepted `typ` values, each passed through {@link normalizeType}, or `undefined` to accept
   * any `typ` (or none).
   */
  types: ReadonlySet<string> | undefined
  /**
   * With `types`: also accept a header without `typ` (a `typ` that is present must still be one
   * of `types`). RFC 7523 client assertions predate explicit typing, so most clients send none.
   * @default false (with `types`, `typ` is required)
   */
  typeOptional?: boolean | undefined
}

const BASE64URL = /^[A-Za-z0-9_-]+$/
// Fatal: invalid UTF-8 is a malformed token, not a string with U+FFFD in it.
const utf8 = new TextDecoder('utf-8', { fatal: true })

// ECDSA signatures are r || s of fixed width (RFC 7518 §3.4). A switch, not a lookup object:
// an `alg` such as "constructor" must not find anything.
function ecdsaSignatureBytes(alg: string): number | undefined {
  switch (alg) {
    case 'ES256':
      return 64
    case 'ES384':
      return 96
    case 'ES512':
      return 132
    default:
      return undefined
  }
}

// An Ed25519 signature is 64 bytes (RFC 8032 §5.1.6, RFC 8037 §3.1): 86 base64url characters.
// With a canonical tail no other length of text decodes to 64 bytes, so no Buffer is needed.
const EDDSA_SIGNATURE_CHARS = 86

/**
 * Normalises a `typ` value for comparison. RFC 7515 §4.1.9: media types compare
 * case-insensitively and `application/` may be omitted, so `AT+JWT` and `application/at+jwt`
 * are the same type. A {@link JwsHeaderPolicy}'s `types` hold normalised values.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7515#section-4.1.9
 */
export function normalizeType(typ: string): string {
  const lower = typ.toLowerCase()
  return lower.includes('/') ? lower : `application/${lower}`
}

/**
 * True when a JSON text (already known to be valid) has an object with two members of the same
 * name. `JSON.parse` keeps the last one silently and a reviver cannot see the first, so two
 * parsers could disagree on `alg` or `aud` (RFC 7515 §5.2 lets us reject). Escaped names are
 * compared after unescaping, so `"a"` and `"\u0061"` collide.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7515#section-5.2
 */
export function hasDuplicateMembers(json: string): boolean {
  const stack: (Set<string> | undefined)[] = []
  let expectName = false
  const length = json.length
  let i = 0
  while (i < length) {
    const c = json.charCodeAt(i)
    if (c === 0x22) {
      let end = i + 1
      let escaped = false
      for (;;) {
        const d = json.charCodeAt(end)
        if (d === 0x5c) {
          escaped = true
          end += 2
        } else if (d === 0x22 || Number.isNaN(d)) {
          break
        } else {
          end += 1
        }
      }
      const members = stack[stack.length - 1]
      if (expectName && members !== undefined) {
        const name = escaped
          ? (JSON.parse(json.slice(i, end + 1)) as string)
          : json.slice(i + 1, end)
        if (members.has(name)) return true
        members.add(name)
        expectName = false
      }
      i = end + 1
      continue
    }
    if (c === 0x7b) {
      stack.push(new Set())
      expectName = true
    } else if (c === 0x5b) {
      stack.push(undefined)
      expectName = false
    } else if (c === 0x7d || c === 0x5d) {
      stack.pop()
      expectName = false
    } else if (c === 0x2c) {
      expectName = stack[stack.length - 1] !== undefined
    }
    i += 1
  }
  return false
}

function decodeJsonSegment(segment: string): Record<string, unknown> | CompactJwsRejection {
  if (!BASE64URL.test(segment) || segment.length % 4 === 1) return 'malformed'
  let text: string
  let value: unknown
  try {
    text = utf8.decode(Buffer.from(segment, 'base64url'))
    value = JSON.parse(text)
  } catch {
    return 'malformed'
  }
  if (!isObjectRecord(value)) return 'malformed'
  return hasDuplicateMembers(text) ? 'duplicate_member' : value
}

const BASE64URL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

/**
 * True when the last character of a base64url segment carries no stray low bits (RFC 4648 §3.5:
 * the pad bits must be zero). Decoders ignore those bits, so without this check up to 16
 * different strings decode to the same signature: a holder of one valid token could mint
 * variants that pass verification, each a fresh token-cache entry and a fresh token to any
 * denylist keyed on the token text.
 */
function hasCanonicalTail(segment: string): boolean {
  const rest = segment.length % 4
  if (rest === 0) return true
  const value = BASE64URL_ALPHABET.indexOf(segment.charAt(segment.length - 1))
  return (value & (rest === 2 ? 0x0f : 0x03)) === 0
}

function zeroBytes(bytes: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i += 1) if (bytes[i] !== 0) return false
  return true
}

function checkHeader(segment: string, policy: JwsHeaderPolicy): JwsHeader | CompactJwsRejection {
  const header = decodeJsonSegment(segment)
  if (typeof header === 'string') return header
  const alg = header.alg
  if (typeof alg !== 'string') return 'malformed'
  if (!policy.algorithms.has(alg)) return 'unsupported_alg'
  // RFC 7515 §4.1.11: a recipient that does not understand a listed extension must reject; we
  // implement none, so any `crit` is rejected.
  if (header.crit !== undefined) return 'crit_header'
  if (policy.types !== undefined) {
    const typ = header.typ
    if (
      typ === undefined
        ? policy.typeOptional !== true
        : typeof typ !== 'string' || !policy.types.has(normalizeType(typ))
    ) {
      return 'bad_typ'
    }
  }
  if (header.kid !== undefined && typeof header.kid !== 'string') return 'malformed'
  return header as JwsHeader
}

/**
 * Freezes an object and every object and array reachable from it (already frozen ones are
 * skipped with what they hold: they were frozen by this function). Used for what is shared
 * between requests: the headers in a {@link HeaderMemo} and cached verification results (the
 * guard's `req.auth`).
 */
export function freezeDeep<T extends object>(value: T): T {
  Object.freeze(value)
  // Index and for-in loops: Object.values would allocate an array per object on every miss.
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i += 1) {
      const member: unknown = value[i]
      if (typeof member === 'object' && member !== null && !Object.isFrozen(member)) {
        freezeDeep(member)
      }
    }
    return value
  }
  const record = value as Record<string, unknown>
  for (const name in record) {
    if (!Object.hasOwn(record, name)) continue
    const member = record[name]
    if (typeof member === 'object' && member !== null && !Object.isFrozen(member)) {
      freezeDeep(member)
    }
  }
  return value
}

/** Most headers a {@link HeaderMemo} keeps; a full memo starts over (16). */
export const HEADER_MEMO_MAX = 16

/**
 * Protected headers that passed {@link decodeCompactJws}'s header checks under one policy, by
 * their exact base64url text. An issuer signs every token with the same few headers (one per
 * key), so a cache miss decodes only the payload. Entries are deeply frozen (they are shared by
 * every token with that header); the memo is bounded, and a stream of distinct headers only
 * clears it.
 */
export type HeaderMemo = Map<string, JwsHeader>

/**
 * The structural checks of a compact JWS that run before any cryptography: exactly three
 * base64url segments, each without stray pad bits; header and payload JSON objects without
 * duplicate member names (RFC 7515 §5.2 lets a recipient refuse them); an accepted `alg`; no
 * `crit` (RFC 7515 §4.1.11: we understand no extension); an accepted `typ`; a string `kid`; an
 * ECDSA signature of the right width with non-zero r and s (RFC 7518 §3.4, the CVE-2022-21449
 * shape); an EdDSA signature of 64 bytes (RFC 8037 §3.1: Ed25519). `jku`, `x5u`, `x5c` and
 * `jwk` are never read. The signature itself is not verified: {@link verifyJwsSignature} does
 * that.
 *
 * It runs on every cache miss of the guard: with a `memo`, a header seen before is neither
 * decoded nor checked again.
 *
 * @example
 * ```ts
 * const decoded = decodeCompactJws(token, {
 *   algorithms: new Set(['ES256', 'EdDSA']),
 *   types: new Set([normalizeType('client-authentication+jwt')]),
 * })
 * if (typeof decoded === 'string') return reject(decoded)
 * ```
 * @param token - the compact serialisation (RFC 7515 §7.1).
 * @param policy - the accepted algorithms and types.
 * @param memo - headers already checked under the same `policy` (never share one across
 * policies); with it the returned header is frozen.
 * @returns the decoded header and payload, or the reason the token is rejected.
 * @see https://www.rfc-editor.org/rfc/rfc7515#section-5.2 (message signature validation)
 */
export function decodeCompactJws(
  token: string,
  policy: JwsHeaderPolicy,
  memo?: HeaderMemo,
): DecodedJws | CompactJwsRejection {
  const first = token.indexOf('.')
  const second = first === -1 ? -1 : token.indexOf('.', first + 1)
  // Five segments (a JWE) or any other count is malformed: only a compact JWS is accepted.
  if (second === -1 || token.indexOf('.', second + 1) !== -1) return 'malformed'

  const headerSegment = token.slice(0, first)
  let header = memo?.get(headerSegment)
  if (header === undefined) {
    const checked = checkHeader(headerSegment, policy)
    if (typeof checked === 'string') return checked
    header = checked
    if (memo !== undefined) {
      freezeDeep(header)
      if (memo.size >= HEADER_MEMO_MAX) memo.clear()
      memo.set(headerSegment, header)
    }
  }
  const alg = header.alg

  const payload = decodeJsonSegment(token.slice(first + 1, second))
  if (typeof payload === 'string') return payload

  const signature = token.slice(second + 1)
  if (!BASE64URL.test(signature) || signature.length % 4 === 1) return 'malformed'
  if (!hasCanonicalTail(signature)) return 'bad_signature'
  const ecBytes = ecdsaSignatureBytes(alg)
  if (ecBytes !== undefined) {
    const bytes = Buffer.from(signature, 'base64url')
    const half = ecBytes / 2
    if (bytes.length !== ecBytes || zeroBytes(bytes, 0, half) || zeroBytes(bytes, half, ecBytes)) {
      return 'bad_signature'
    }
  } else if (alg === EDDSA_ALGORITHM && signature.length !== EDDSA_SIGNATURE_CHARS) {
    return 'bad_signature'
  }
  return { header, payload }
}
