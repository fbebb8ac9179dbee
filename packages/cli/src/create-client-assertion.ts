import { randomBytes } from 'node:crypto'
import { signJws } from '@ccflow/core'
import type { ClientKey } from './read-client-key.js'

/** The `client_assertion_type` of a JWT client assertion (RFC 7523 §2.2). */
export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'

/** The assertion lifetime when `--lifetime` is not given, in seconds. */
export const DEFAULT_ASSERTION_LIFETIME_SECONDS = 60

/**
 * The longest lifetime `--lifetime` allows, in seconds: the token endpoint's default
 * `privateKeyJwt.maxAssertionLifetimeSeconds`, so an assertion the CLI makes is never refused for
 * its lifetime alone. An assertion is a bearer credential until it expires: keep it short.
 */
export const MAX_ASSERTION_LIFETIME_SECONDS = 300

/** The `typ` header of a client assertion (draft-ietf-oauth-rfc7523bis, explicit typing). */
const ASSERTION_TYPE = 'client-authentication+jwt'

// 128 bits: a jti nobody can guess or repeat by chance, which the endpoint's replay store keys on.
const JTI_BYTES = 16

/**
 * Signs a fresh client assertion for `private_key_jwt` (RFC 7523 §3): `iss` and `sub` are the
 * client id, `aud` is the issuer identifier exactly as given (issuers compare as strings), `iat`
 * is now, `exp` is `iat` plus the lifetime, and `jti` is new on every call. The header carries
 * `alg`, the key's `kid` when it has one, and `typ: client-authentication+jwt`.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7523#section-3
 */
export function createClientAssertion(
  clientKey: ClientKey,
  claims: { clientId: string; audience: string; lifetimeSeconds: number },
): string {
  const iat = Math.floor(Date.now() / 1000)
  const header =
    clientKey.kid === undefined
      ? { alg: clientKey.alg, typ: ASSERTION_TYPE }
      : { alg: clientKey.alg, kid: clientKey.kid, typ: ASSERTION_TYPE }
  const payload = {
    iss: claims.clientId,
    sub: claims.clientId,
    aud: claims.audience,
    iat,
    exp: iat + claims.lifetimeSeconds,
    jti: randomBytes(JTI_BYTES).toString('base64url'),
  }
  return signJws(header, payload, clientKey.key)
}
