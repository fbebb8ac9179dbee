import { randomFillSync } from 'node:crypto'
import jwt from 'jsonwebtoken'
import type { SigningKeySet } from './signing-keys.js'

/**
 * The claims of an access token issued by ccflow (the RFC 9068 JWT profile).
 *
 * @see RFC 9068 §2.2
 */
export interface AccessTokenClaims {
  /** The issuer URL. */
  iss: string
  /** The client id: in the client credentials grant the client is the subject (RFC 9068 §2.2). */
  sub: string
  /** The client id (RFC 8693 §4.3). */
  client_id: string
  /** The resource(s) the token is for. */
  aud: string | string[]
  /** Granted scopes, space-delimited. */
  scope: string
  /** Issued at, epoch seconds. */
  iat: number
  /** Expiry, epoch seconds. */
  exp: number
  /** Unique token id, 128 random bits in base64url. */
  jti: string
  /** Claims added by the endpoint's `extraClaims` hook. */
  [claim: string]: unknown
}

/** What {@link signAccessToken} needs; the router resolves every value beforehand. */
export interface SignAccessTokenInput {
  /** Imported keys; the active key signs. */
  keySet: SigningKeySet
  /** `iss`. */
  issuer: string
  /** `sub` and `client_id`. */
  clientId: string
  /** `aud`: never empty. */
  audience: string | string[]
  /** `scope`, space-delimited (may be empty). */
  scope: string
  /** Lifetime in seconds, a positive integer. */
  ttl: number
  /** Extra claims from the `extraClaims` hook; may not set a reserved claim. */
  extraClaims?: Record<string, unknown>
}

/**
 * Claims the issuer owns. The hook may not set these: the registered claims of RFC 9068 §2.2 and
 * RFC 7519 §4.1, and the RFC 8693 / RFC 7800 claims that would change what the token means.
 * `__proto__` is refused too, so a naive object merge downstream cannot be poisoned.
 */
const RESERVED_CLAIMS: ReadonlySet<string> = new Set([
  'iss',
  'sub',
  'aud',
  'exp',
  'nbf',
  'iat',
  'jti',
  'client_id',
  'scope',
  'cnf',
  'act',
  'may_act',
  'typ',
  '__proto__',
  // JSON.stringify calls a top-level toJSON() and signs whatever it returns instead of the claims.
  'toJSON',
])

/** RFC 9068 §2.1: the media type in `typ` tells access tokens apart from other JWTs. */
const TOKEN_TYPE = 'at+jwt'

/**
 * Signs an RFC 9068 access token with the active key.
 *
 * Synchronous: jsonwebtoken signs synchronously with a `KeyObject`, and the key and header are
 * prepared once in {@link SigningKeySet}, so nothing is parsed per call.
 *
 * @internal Used by the token endpoint; not exported from the package.
 * @throws {TypeError} When `extraClaims` is not a plain object or tries to set a reserved claim
 *   (a programming error in the hook: the router answers a generic 500 and reports it), or when
 *   `audience` is empty or `ttl` is not a positive integer.
 * @see RFC 9068 §2
 */
export function signAccessToken(input: SignAccessTokenInput): {
  token: string
  claims: AccessTokenClaims
} {
  const { keySet, issuer, clientId, audience, scope, ttl, extraClaims } = input
  if (!Number.isSafeInteger(ttl) || ttl <= 0) {
    throw new TypeError('signAccessToken: ttl must be a positive integer')
  }
  if (audience.length === 0) throw new TypeError('signAccessToken: audience must not be empty')

  const iat = Math.floor(Date.now() / 1000)
  const claims: AccessTokenClaims = {
    iss: issuer,
    sub: clientId,
    client_id: clientId,
    aud: audience,
    scope,
    iat,
    exp: iat + ttl,
    jti: randomId(),
  }
  if (extraClaims !== undefined) addExtraClaims(claims, extraClaims)

  const { key } = keySet.active
  // The payload goes to jsonwebtoken as its JSON text, which it signs as is: jsonwebtoken's
  // checks of an object payload (iat/exp/nbf types, copying it) would re-check claims that are
  // ours by construction, and the token is exactly the serialization of `claims`.
  const token = jwt.sign(JSON.stringify(claims), key, signOptionsOf(keySet.active))
  return { token, claims }
}

// jsonwebtoken only reads its options; one object per signing key serves every token.
const signOptions = new WeakMap<SigningKeySet['active'], jwt.SignOptions>()

function signOptionsOf(active: SigningKeySet['active']): jwt.SignOptions {
  let options = signOptions.get(active)
  if (options === undefined) {
    const { alg, kid } = active
    options = Object.freeze({
      algorithm: alg,
      header: Object.freeze({ alg, kid, typ: TOKEN_TYPE }),
    })
    signOptions.set(active, options)
  }
  return options
}

function addExtraClaims(claims: AccessTokenClaims, extra: unknown): void {
  // Plain objects only: a class instance (an ORM row, say) may serialize to something else.
  const proto: unknown = typeof extra === 'object' && extra !== null && Object.getPrototypeOf(extra)
  if (proto !== Object.prototype && proto !== null) {
    throw new TypeError('extraClaims must return a plain object')
  }
  // One enumeration: the keys checked are the keys copied (a proxy could list others later).
  // On a throw the half-filled claims object is discarded by the caller.
  for (const [name, value] of Object.entries(extra as object)) {
    if (RESERVED_CLAIMS.has(name)) {
      throw new TypeError(`extraClaims may not set the reserved claim "${name}"`)
    }
    // undefined would vanish in JSON anyway; keeping it out keeps `claims` equal to the payload.
    if (value !== undefined) claims[name] = value
  }
}

// jti: 128 random bits. Random bytes are drawn in batches, one syscall per 256 tokens: in the
// bench profile randomFillSync per token took 1.98 % of the ES256 endpoint's CPU (bench/README.md).
const JTI_BYTES = 16
const pool = Buffer.alloc(JTI_BYTES * 256)
let poolOffset = pool.length

function randomId(): string {
  if (poolOffset + JTI_BYTES > pool.length) {
    randomFillSync(pool)
    poolOffset = 0
  }
  const id = pool.toString('base64url', poolOffset, poolOffset + JTI_BYTES)
  poolOffset += JTI_BYTES
  return id
}
