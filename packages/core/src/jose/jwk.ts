// JSON Web Key types of our own (RFC 7517, RFC 7518 §6, RFC 8037 §2). The public `.d.ts` files
// must not name `JsonWebKey` from `node:crypto`: newer @types/node no longer export it, and every
// key option would then turn into `any` (with `skipLibCheck`) or fail to compile (without).
//
// They are type aliases, not interfaces, so that they stay assignable to the index-signature
// `JsonWebKey` types of `node:crypto`, WebCrypto and jose, and so that those are assignable here
// (hence mutable arrays and no `| undefined`: these are key data, not options).

/**
 * The members any JSON Web Key may carry (RFC 7517 §4).
 *
 * @see https://www.rfc-editor.org/rfc/rfc7517#section-4
 */
export type JwkParameters = {
  /** Key type: `RSA`, `EC`, `OKP` (RFC 8037) or `oct` (a shared secret). */
  kty?: string
  /** Key id. */
  kid?: string
  /** The one algorithm the key is for (`RS256`, `ES256`, …). */
  alg?: string
  /** `sig` for a signing key; `enc` keys are never used to sign or verify. */
  use?: string
  /** Operations the key is for (`sign`, `verify`, …). */
  key_ops?: string[]
  /** WebCrypto's "extractable" flag; ignored. */
  ext?: boolean
  /** X.509 URL; ignored. */
  x5u?: string
  /** X.509 certificate chain (base64 DER); ignored. */
  x5c?: string[]
  /** X.509 SHA-1 thumbprint; ignored. */
  x5t?: string
  /** X.509 SHA-256 thumbprint; ignored. */
  'x5t#S256'?: string
}

/**
 * A JSON Web Key of any type, public or private, every member optional: the shape keys are
 * accepted in. `node:crypto`'s `KeyObject.export({ format: 'jwk' })`, WebCrypto's
 * `exportKey('jwk', …)` and jose's `exportJWK` results all fit it; so does a parsed JSON file
 * (`any`). The checks that matter (type, curve, size, private members) run when the key is
 * imported.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7517, RFC 7518 §6, RFC 8037 §2
 */
export type Jwk = JwkParameters & {
  /** EC or OKP curve (`P-256`, `P-384`, `P-521`, `Ed25519`). */
  crv?: string
  /** EC x coordinate, or the OKP public key (base64url). */
  x?: string
  /** EC y coordinate (base64url). */
  y?: string
  /** RSA modulus (base64url). */
  n?: string
  /** RSA public exponent (base64url). */
  e?: string
  /** The private key: RSA private exponent, EC or OKP private scalar (base64url). */
  d?: string
  /** RSA first prime factor (base64url). */
  p?: string
  /** RSA second prime factor (base64url). */
  q?: string
  /** RSA first factor CRT exponent (base64url). */
  dp?: string
  /** RSA second factor CRT exponent (base64url). */
  dq?: string
  /** RSA first CRT coefficient (base64url). */
  qi?: string
  /** RSA other primes (multi-prime keys). */
  oth?: { d?: string; r?: string; t?: string }[]
  /** The `oct` key value: a shared secret (base64url). */
  k?: string
}

/** A public RSA key (RFC 7518 §6.3.1). */
export type RsaPublicJwk = JwkParameters & {
  kty: 'RSA'
  /** Modulus (base64url). */
  n: string
  /** Public exponent (base64url). */
  e: string
}

/** A private RSA key (RFC 7518 §6.3.2): the public members plus `d` and the CRT members. */
export type RsaPrivateJwk = RsaPublicJwk & {
  /** Private exponent (base64url). */
  d: string
  /** First prime factor (base64url). */
  p?: string
  /** Second prime factor (base64url). */
  q?: string
  /** First factor CRT exponent (base64url). */
  dp?: string
  /** Second factor CRT exponent (base64url). */
  dq?: string
  /** First CRT coefficient (base64url). */
  qi?: string
}

/** A public elliptic-curve key (RFC 7518 §6.2.1). */
export type EcPublicJwk = JwkParameters & {
  kty: 'EC'
  /** Curve: `P-256`, `P-384` or `P-521`. */
  crv: string
  /** x coordinate (base64url). */
  x: string
  /** y coordinate (base64url). */
  y: string
}

/** A private elliptic-curve key (RFC 7518 §6.2.2). */
export type EcPrivateJwk = EcPublicJwk & {
  /** Private scalar (base64url). */
  d: string
}

/** A public octet key pair key, such as Ed25519 (RFC 8037 §2). */
export type OkpPublicJwk = JwkParameters & {
  kty: 'OKP'
  /** Subtype: `Ed25519`. */
  crv: string
  /** Public key (base64url). */
  x: string
}

/** A private octet key pair key (RFC 8037 §2). */
export type OkpPrivateJwk = OkpPublicJwk & {
  /** Private key (base64url). */
  d: string
}

/** A public RSA, EC or OKP key, narrowed by `kty`. */
export type PublicJwk = RsaPublicJwk | EcPublicJwk | OkpPublicJwk

/** A private RSA, EC or OKP key, narrowed by `kty`. */
export type PrivateJwk = RsaPrivateJwk | EcPrivateJwk | OkpPrivateJwk
