import { randomBytes } from 'node:crypto'
import type { Client } from '@ccflow/issuer'
import {
  calculateJwkThumbprint,
  type CryptoKey,
  exportJWK,
  generateKeyPair,
  type JWK,
  SignJWT,
} from 'jose'

/** `client_assertion_type` of a JWT client assertion (RFC 7523 §2.2). */
export const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'

/** An algorithm a client may sign its assertion with, as ccflow accepts by default. */
export type ClientKeyAlgorithm = 'ES256' | 'EdDSA' | 'PS256' | 'RS256'

/** A client's key pair for `private_key_jwt`: a WebCrypto private key and its public JWK. */
export interface ClientKeyPair {
  alg: ClientKeyAlgorithm
  kid: string
  privateKey: CryptoKey
  /** The public JWK with `kid`, `alg` and `use`, as the client record lists it. */
  publicJwk: JWK
}

/** A fresh client key pair; `kid` is the RFC 7638 thumbprint, as `ccflow keygen --client` makes it. */
export async function clientKeyPair(alg: ClientKeyAlgorithm): Promise<ClientKeyPair> {
  const { privateKey, publicKey } = await generateKeyPair(
    alg,
    alg === 'EdDSA' ? { crv: 'Ed25519' } : {},
  )
  const jwk = await exportJWK(publicKey)
  const kid = await calculateJwkThumbprint(jwk)
  return { alg, kid, privateKey, publicJwk: { ...jwk, kid, alg, use: 'sig' } }
}

/** A `private_key_jwt` client record whose inline `jwks` holds the given public keys. */
export function keyClient(
  clientId: string,
  keys: readonly ClientKeyPair[],
  fields: Partial<Client> & Pick<Client, 'scope' | 'audiences'>,
): Client {
  return {
    client_id: clientId,
    token_endpoint_auth_method: 'private_key_jwt',
    jwks: { keys: keys.map((key) => ({ ...key.publicJwk })) },
    ...fields,
  }
}

/** The claims and header of an assertion; `aud` defaults to nothing so each test names it. */
export interface AssertionClaims {
  clientId: string
  aud: string | string[]
  lifetimeSeconds?: number
  jti?: string
  typ?: string
}

/**
 * A client assertion signed with jose (RFC 7523 §3): iss = sub = client_id, `aud` as given,
 * `iat` now, `exp` iat + lifetime (60 s), a random `jti`, `typ` client-authentication+jwt.
 */
export function signAssertion(key: ClientKeyPair, claims: AssertionClaims): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({
      alg: key.alg,
      kid: key.kid,
      typ: claims.typ ?? 'client-authentication+jwt',
    })
    .setIssuer(claims.clientId)
    .setSubject(claims.clientId)
    .setAudience(claims.aud)
    .setIssuedAt()
    .setExpirationTime(`${claims.lifetimeSeconds ?? 60}s`)
    .setJti(claims.jti ?? randomBytes(16).toString('base64url'))
    .sign(key.privateKey)
}

/** What the token endpoint answered, read completely. */
export interface TokenAnswer {
  status: number
  headers: Headers
  body: Record<string, unknown>
}

/** Posts a client credentials request authenticated by `assertion` over real HTTP. */
export async function postAssertion(
  tokenUrl: string,
  assertion: string,
  params: Record<string, string> = {},
): Promise<TokenAnswer> {
  const res = await fetch(tokenUrl, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_assertion_type: JWT_BEARER,
      client_assertion: assertion,
      ...params,
    }),
  })
  const text = await res.text()
  return {
    status: res.status,
    headers: res.headers,
    body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
  }
}

/** The payload of a compact JWS, decoded without verification (for assertions about claims). */
export function jwtPayload(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >
}
