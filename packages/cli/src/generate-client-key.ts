import { generateKeyPairSync, type KeyObject } from 'node:crypto'
import { jwkThumbprint, MIN_RSA_BITS, type PrivateJwk, type PublicJwk } from '@ccflow/core'
import { CliFailure } from './cli-failure.js'

/** The algorithms `ccflow keygen --client` makes keys for (RFC 7523 client assertions). */
export type ClientKeyAlgorithm = 'ES256' | 'EdDSA' | 'PS256' | 'RS256'

/** {@link ClientKeyAlgorithm}, in the order `--help` lists them. */
export const CLIENT_KEY_ALGORITHMS: readonly ClientKeyAlgorithm[] = [
  'ES256',
  'EdDSA',
  'PS256',
  'RS256',
]

/**
 * The algorithm of `ccflow keygen --client` when `--alg` is not given. Deliberately not the
 * issuer's `DEFAULT_SIGNING_ALGORITHM` (RS256): that one is chosen for the many verifiers of
 * access tokens, while a client assertion has one verifier, the ccflow token endpoint, and ES256
 * gives a short key to paste into the client record and a small, fast signature.
 */
export const DEFAULT_CLIENT_KEY_ALGORITHM = 'ES256'

/** A client's key pair as `ccflow keygen --client` prints it. */
export interface ClientKeyPair {
  /** The private JWK, for the client only. */
  readonly privateJwk: PrivateJwk & { kid: string; alg: ClientKeyAlgorithm; use: 'sig' }
  /** The public JWK Set, the value of the client record's `jwks`. */
  readonly publicJwks: {
    readonly keys: readonly [PublicJwk & { kid: string; alg: ClientKeyAlgorithm; use: 'sig' }]
  }
}

// RFC 3986 unreserved characters, as for signing keys: safe in headers, logs, URLs and file names.
const KID = /^[A-Za-z0-9._~-]{1,128}$/

/**
 * Generates a client key pair for private_key_jwt: EC P-256 for ES256, Ed25519 for EdDSA, RSA of
 * `MIN_RSA_BITS` (2048, as `generateSigningKey`) for PS256 and RS256. The key id defaults to the
 * RFC 7638 thumbprint of the public key.
 *
 * @throws {CliFailure} for a kid outside `[A-Za-z0-9._~-]{1,128}`.
 */
export function generateClientKey(alg: ClientKeyAlgorithm, kid?: string): ClientKeyPair {
  const { publicKey, privateKey } = generatePair(alg)
  // node:crypto exports a public key's JWK with its public members only (kty, crv, x, y, n, e).
  const members = publicKey.export({ format: 'jwk' }) as PublicJwk
  const keyId = kid ?? jwkThumbprint(members)
  if (!KID.test(keyId)) throw new CliFailure('the kid must be 1-128 characters of [A-Za-z0-9._~-]')
  const about = { kid: keyId, alg, use: 'sig' } as const
  return {
    privateJwk: { ...(privateKey.export({ format: 'jwk' }) as PrivateJwk), ...about },
    publicJwks: { keys: [{ ...members, ...about }] },
  }
}

function generatePair(alg: ClientKeyAlgorithm): { publicKey: KeyObject; privateKey: KeyObject } {
  switch (alg) {
    case 'ES256':
      return generateKeyPairSync('ec', { namedCurve: 'P-256' })
    case 'EdDSA':
      return generateKeyPairSync('ed25519')
    case 'PS256':
    case 'RS256':
      // A plain RSA key for PS256 too: a JWK cannot say RSA-PSS, and PS256 signs with any RSA key.
      return generateKeyPairSync('rsa', { modulusLength: MIN_RSA_BITS })
  }
}
