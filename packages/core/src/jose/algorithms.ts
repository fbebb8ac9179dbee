/**
 * JWS algorithm tables (RFC 7518 §3.1), written once for signing, verifying and JWK import.
 * `none` is never in any of them.
 */

/** RSA algorithms a verifier accepts for an RSA key: PKCS#1 v1.5 and PSS. */
export const RSA_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'] as const

/** RSA-PSS algorithms, the only ones an `rsa-pss` key may verify. */
export const PSS_ALGORITHMS = ['PS256', 'PS384', 'PS512'] as const

/** ECDSA algorithms; RFC 7518 §3.4 binds each to one curve. */
export const EC_ALGORITHMS = ['ES256', 'ES384', 'ES512'] as const

/** HMAC algorithms (shared secrets). */
export const HMAC_ALGORITHMS = ['HS256', 'HS384', 'HS512'] as const

/** An asymmetric JWS algorithm that ccflow can verify. */
export type AsymmetricAlgorithm = (typeof RSA_ALGORITHMS)[number] | (typeof EC_ALGORITHMS)[number]

/** Every asymmetric algorithm, the only ones a published key (JWKS) may be used for. */
export const ASYMMETRIC_ALGORITHMS: readonly AsymmetricAlgorithm[] = [
  ...RSA_ALGORITHMS,
  ...EC_ALGORITHMS,
]

/**
 * EdDSA (RFC 8037 §3.1), which ccflow signs and verifies with Ed25519 keys only. It is in neither
 * {@link ASYMMETRIC_ALGORITHMS} nor {@link VERIFIABLE_ALGORITHMS}: the guard verifies with
 * jsonwebtoken 9, which has no EdDSA. `signJws` and `verifyJwsSignature` handle it.
 */
export const EDDSA_ALGORITHM = 'EdDSA'

/** An algorithm that `signJws` and `verifyJwsSignature` handle (RFC 7518 §3.1, RFC 8037 §3.1). */
export type SignatureAlgorithm = AsymmetricAlgorithm | typeof EDDSA_ALGORITHM

/**
 * Every algorithm `signJws` and `verifyJwsSignature` handle: the asymmetric ones and EdDSA (for
 * private_key_jwt client assertions, RFC 7523, and the CLI's signer). Never HMAC or `none`.
 */
export const SIGNATURE_ALGORITHMS: readonly SignatureAlgorithm[] = [
  ...ASYMMETRIC_ALGORITHMS,
  EDDSA_ALGORITHM,
]

/** Every algorithm ccflow can verify (what jsonwebtoken supports, minus `none`). */
export const VERIFIABLE_ALGORITHMS: ReadonlySet<string> = new Set<string>([
  ...ASYMMETRIC_ALGORITHMS,
  ...HMAC_ALGORITHMS,
])

/** ECDSA algorithm of each JWK curve name (`crv`, RFC 7518 §6.2.1.1). */
export const EC_ALGORITHM_BY_JWK_CURVE: Readonly<Record<string, (typeof EC_ALGORITHMS)[number]>> = {
  'P-256': 'ES256',
  'P-384': 'ES384',
  'P-521': 'ES512',
}

/** ECDSA algorithm of each curve as `node:crypto` names it (`asymmetricKeyDetails.namedCurve`). */
export const EC_ALGORITHM_BY_NODE_CURVE: Readonly<Record<string, (typeof EC_ALGORITHMS)[number]>> =
  { prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' }

/** Smallest RSA modulus accepted anywhere, in bits (RFC 7518 §3.3, RFC 8725 §3.5). */
export const MIN_RSA_BITS = 2048

/** Smallest HMAC secret accepted anywhere, in bytes (RFC 7518 §3.2: at least the hash size). */
export const MIN_HMAC_BYTES = 32
