import type { KeyObject } from 'node:crypto'
import type { Jwk } from '@ccflow/core'

export type { Jwk, PublicJwk, RemoteKeySetOptions } from '@ccflow/core'

/**
 * A JSON Web Key as a static key accepts it: a public (or private: only its public half is kept)
 * RSA, EC or OKP key, or an `oct` shared secret (`k`).
 */
export type JsonWebKeyInput = Jwk

/**
 * A static verification key: a PEM string (SPKI, PKCS#1 or X.509 certificate), a public JWK, a
 * `KeyObject`, `{ key, kid?, alg? }` around one of those, or `{ secret, kid?, alg? }` for an HMAC
 * shared secret of at least 32 bytes.
 */
export type StaticKeyInput =
  | string
  | JsonWebKeyInput
  | KeyObject
  | {
      key: string | JsonWebKeyInput | KeyObject
      kid?: string | undefined
      alg?: string | undefined
    }
  | { secret: string | Uint8Array | KeyObject; kid?: string | undefined; alg?: string | undefined }

/**
 * Claims of an RFC 9068 access token, as read by the guard. Custom claims are allowed; extend
 * this interface (or pass your own type to `requireToken<C>()`) to type them.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9068#section-2.2
 */
export interface AccessTokenClaims {
  /** Issuer. */
  iss: string
  /** Subject: the client id for client-credentials tokens. */
  sub?: string
  /** Client id (RFC 9068 §2.2). */
  client_id?: string
  /** Audience(s). */
  aud: string | string[]
  /** Expiration time, seconds since the epoch. */
  exp: number
  /** Issued-at time, seconds since the epoch. */
  iat?: number
  /** Not-before time, seconds since the epoch. */
  nbf?: number
  /** Token id. */
  jti?: string
  /** Space-delimited scopes (RFC 9068 §2.2.3). */
  scope?: string
  /** Scopes as some issuers send them (array or space-delimited string). */
  scp?: string | string[]
  [claim: string]: unknown
}

/** The protected header of a verified token. */
export interface JwtHeader {
  /** Signature algorithm. */
  alg: string
  /** Media type, `at+jwt` for RFC 9068 access tokens. */
  typ?: string
  /** Key id. */
  kid?: string
  [parameter: string]: unknown
}

/**
 * What the guard puts on `req.auth` after a successful verification.
 *
 * @typeParam C - the claims type, {@link AccessTokenClaims} by default.
 */
export interface AuthInfo<C = AccessTokenClaims> {
  /** The raw bearer token. */
  token: string
  /** The token's protected header. */
  header: JwtHeader
  /** The verified claims. */
  claims: C
  /** Scopes granted by the token, read from the configured scope claims. */
  scopes: string[]
  /** `client_id` (or `azp`) claim, when present. */
  clientId: string | undefined
}
