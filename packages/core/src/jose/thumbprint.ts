import { createHash } from 'node:crypto'
import type { Jwk } from './jwk.js'

// RFC 7638 §3.2 (RSA, EC) and RFC 8037 §2 (OKP): the required members, in lexicographic order.
const THUMBPRINT_MEMBERS: Readonly<Record<string, readonly string[]>> = {
  EC: ['crv', 'kty', 'x', 'y'],
  OKP: ['crv', 'kty', 'x'],
  RSA: ['e', 'kty', 'n'],
}

/**
 * The RFC 7638 JWK thumbprint of a public key: SHA-256 over the JSON of its required members in
 * lexicographic order, base64url. Give it the public JWK of an EC, OKP or RSA key (a private JWK
 * works too: only the public members are read).
 *
 * @example
 * ```ts
 * const kid = jwkThumbprint(publicKey.export({ format: 'jwk' }))
 * ```
 * @throws {TypeError} for a `kty` other than EC, OKP and RSA.
 * @see https://www.rfc-editor.org/rfc/rfc7638#section-3
 */
export function jwkThumbprint(jwk: Jwk): string {
  if (typeof jwk.kty !== 'string' || !Object.hasOwn(THUMBPRINT_MEMBERS, jwk.kty)) {
    throw new TypeError('jwkThumbprint: the key type must be EC, OKP or RSA')
  }
  const names = THUMBPRINT_MEMBERS[jwk.kty] as readonly string[]
  const members = Object.fromEntries(
    names.map((name) => [name, (jwk as Readonly<Record<string, unknown>>)[name]]),
  )
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url')
}
