import { createHash, type KeyObject, randomBytes } from 'node:crypto'
import { defaultAlgorithmForKey, optionError, signJws } from '@ccflow/core'
import type { ImportedPrivateKey } from './private-key.js'

/** How the client authenticates to the token endpoint (RFC 7591 names). */
export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt'

/** The algorithms a client assertion may be signed with (RFC 7518 §3.1, RFC 8037 §3.1). */
export type AssertionAlgorithm =
  'ES256' | 'ES384' | 'ES512' | 'EdDSA' | 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512'

/** The credentials of one token request, built fresh for every attempt. */
export interface ClientCredentials {
  /** Form parameters to add to the body. */
  readonly body: ReadonlyArray<readonly [string, string]>
  /** The `Authorization` header value, for `client_secret_basic`. */
  readonly authorization: string | undefined
}

/** Client authentication, resolved once at `createTokenClient`. */
export interface ClientAuth {
  readonly method: ClientAuthMethod
  /**
   * What tells this credential apart in the cache key: a hash of the secret (never the secret)
   * or the RFC 7638 thumbprint of the key.
   */
  readonly fingerprint: string
  /** The credentials for one attempt; a new assertion (new `jti`, `iat`, `exp`) each call. */
  credentials(audience: string): ClientCredentials
}

/** The `client_assertion_type` of a JWT client assertion (RFC 7523 §2.2). */
export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'

// draft-ietf-oauth-rfc7523bis: explicit typing, so the assertion cannot pass for another JWT.
const ASSERTION_TYPE = 'client-authentication+jwt'
const ASSERTION_LIFETIME_SECONDS = 60
// 128 bits: a jti nobody can guess or repeat by chance, which a replay store keys on.
const JTI_BYTES = 16

/**
 * RFC 6749 §2.3.1 and Appendix B: the client id and secret are each
 * application/x-www-form-urlencoded before they are joined with `:` and base64-encoded, so a `:`
 * or `%` in either survives every compliant server.
 */
export function basicAuthorization(clientId: string, clientSecret: string): string {
  const encoded = `${formEncode(clientId)}:${formEncode(clientSecret)}`
  return `Basic ${Buffer.from(encoded, 'utf8').toString('base64')}`
}

function formEncode(value: string): string {
  // URLSearchParams serializes exactly application/x-www-form-urlencoded (space as '+').
  return new URLSearchParams([['', value]]).toString().slice(1)
}

/** Client authentication with a shared secret (`client_secret_basic` or `client_secret_post`). */
export function secretAuth(
  method: 'client_secret_basic' | 'client_secret_post',
  clientId: string,
  clientSecret: string,
): ClientAuth {
  // A domain-separated hash: the cache key tells secrets apart without holding one.
  const fingerprint = createHash('sha256')
    .update(`ccflow client secret\n${clientSecret}`)
    .digest('base64url')
  if (method === 'client_secret_basic') {
    const authorization = basicAuthorization(clientId, clientSecret)
    return { method, fingerprint, credentials: () => ({ body: [], authorization }) }
  }
  const body = [
    ['client_id', clientId],
    ['client_secret', clientSecret],
  ] as const
  return { method, fingerprint, credentials: () => ({ body, authorization: undefined }) }
}

/**
 * The algorithm to sign assertions with: the configured one, which must fit the key, or the one
 * the key calls for (ES256/384/512 by curve, EdDSA for Ed25519, RS256 for RSA, PS256 for RSA-PSS).
 *
 * @throws {TypeError} naming `algorithm` (or `privateKey`) when they do not fit.
 */
export function assertionAlgorithm(
  key: KeyObject,
  algorithm: AssertionAlgorithm | undefined,
  where: string,
): AssertionAlgorithm {
  if (algorithm === undefined) {
    try {
      return defaultAlgorithmForKey(key)
    } catch {
      throw optionError(
        where,
        'privateKey',
        'must be an EC P-256/384/521, Ed25519 or RSA (≥ 2048 bits) key',
      )
    }
  }
  try {
    // signJws is the one place that knows which key fits which algorithm.
    signJws({ alg: algorithm }, {}, key)
  } catch {
    throw optionError(where, 'algorithm', `${algorithm} does not fit the private key`)
  }
  return algorithm
}

/**
 * Client authentication with a signed JWT (`private_key_jwt`, RFC 7523 §2.2 and §3): `iss` and
 * `sub` are the client id, `aud` the given audience, `exp` is `iat` + 60 s and `jti` is random
 * and new on every call, so a server that enforces single use accepts every attempt.
 */
export function privateKeyJwtAuth(
  clientId: string,
  privateKey: ImportedPrivateKey,
  alg: AssertionAlgorithm,
  kid: string | undefined,
): ClientAuth {
  const header =
    kid === undefined ? { alg, typ: ASSERTION_TYPE } : { alg, kid, typ: ASSERTION_TYPE }
  return {
    method: 'private_key_jwt',
    fingerprint: privateKey.thumbprint,
    credentials(audience) {
      const iat = Math.floor(Date.now() / 1000)
      const assertion = signJws(
        header,
        {
          iss: clientId,
          sub: clientId,
          aud: audience,
          iat,
          exp: iat + ASSERTION_LIFETIME_SECONDS,
          jti: randomBytes(JTI_BYTES).toString('base64url'),
        },
        privateKey.key,
      )
      return {
        body: [
          ['client_id', clientId],
          ['client_assertion_type', CLIENT_ASSERTION_TYPE],
          ['client_assertion', assertion],
        ],
        authorization: undefined,
      }
    },
  }
}
