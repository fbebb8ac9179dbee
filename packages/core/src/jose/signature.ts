import { constants, KeyObject, sign, verify } from 'node:crypto'
import type { AsymmetricKeyDetails, SignKeyObjectInput } from 'node:crypto'
import { isObjectRecord } from '../objects.js'
import {
  EC_ALGORITHM_BY_NODE_CURVE,
  EDDSA_ALGORITHM,
  MIN_RSA_BITS,
  SIGNATURE_ALGORITHMS,
} from './algorithms.js'

// Why node:crypto and not a JOSE library: jsonwebtoken 9 has no EdDSA, and jose 6 is ESM-only,
// which our CommonJS build must not load (it has to work where require(esm) is unavailable,
// STYLE.md decision 2). Each algorithm is one node:crypto call with the parameters of RFC 7518
// §3 or RFC 8037 §3.1, and the test suite checks both directions against jose.

interface AlgorithmParameters {
  /** How the key and the signature are used. */
  readonly family: 'rsa' | 'pss' | 'ec' | 'eddsa'
  /** The digest node:crypto is given: `null` for EdDSA, which hashes internally. */
  readonly digest: string | null
  /** Digest length in bytes: the PSS salt length (RFC 7518 §3.5). */
  readonly digestBytes: number
  /** The curve an ECDSA key must be on, as node:crypto names it (RFC 7518 §3.4). */
  readonly curve: string | undefined
}

function parameters(
  family: AlgorithmParameters['family'],
  bits: 256 | 384 | 512,
  curve?: string,
): AlgorithmParameters {
  return { family, digest: `sha${bits}`, digestBytes: bits / 8, curve }
}

// A Map, not an object literal: an `alg` such as "constructor" must find nothing.
const PARAMETERS: ReadonlyMap<string, AlgorithmParameters> = new Map([
  ['RS256', parameters('rsa', 256)],
  ['RS384', parameters('rsa', 384)],
  ['RS512', parameters('rsa', 512)],
  ['PS256', parameters('pss', 256)],
  ['PS384', parameters('pss', 384)],
  ['PS512', parameters('pss', 512)],
  ['ES256', parameters('ec', 256, 'prime256v1')],
  ['ES384', parameters('ec', 384, 'secp384r1')],
  ['ES512', parameters('ec', 512, 'secp521r1')],
  [EDDSA_ALGORITHM, { family: 'eddsa', digest: null, digestBytes: 64, curve: undefined }],
])

/**
 * Whether a key can be used with an algorithm. The caller has checked that it is a public or a
 * private `KeyObject`: node:crypto sets `asymmetricKeyDetails` on every such key, with
 * `modulusLength` for RSA and `namedCurve` for EC.
 */
function fits(params: AlgorithmParameters, key: KeyObject): boolean {
  const type = key.asymmetricKeyType
  const details = key.asymmetricKeyDetails as AsymmetricKeyDetails
  switch (params.family) {
    case 'ec':
      return type === 'ec' && details.namedCurve === params.curve
    case 'eddsa':
      // RFC 8037 also allows Ed448 under EdDSA; ccflow accepts Ed25519 only.
      return type === 'ed25519'
    case 'rsa':
      // An RSA-PSS key (RFC 4055) may only make PSS signatures: never RS*.
      return type === 'rsa' && (details.modulusLength as number) >= MIN_RSA_BITS
    case 'pss': {
      if (type !== 'rsa' && type !== 'rsa-pss') return false
      if ((details.modulusLength as number) < MIN_RSA_BITS) return false
      if (type === 'rsa') return true
      // An RSA-PSS key may restrict its own use: PSn needs SHA-n for the hash and MGF1, and a
      // minimum salt no longer than the digest (RFC 7518 §3.5).
      const digest = params.digest as string
      return (
        (details.hashAlgorithm === undefined || details.hashAlgorithm === digest) &&
        (details.mgf1HashAlgorithm === undefined || details.mgf1HashAlgorithm === digest) &&
        (details.saltLength === undefined || details.saltLength <= params.digestBytes)
      )
    }
  }
}

/** The key with the options node:crypto needs for the algorithm, for `sign` and `verify`. */
function keyInput(params: AlgorithmParameters, key: KeyObject): KeyObject | SignKeyObjectInput {
  switch (params.family) {
    case 'pss':
      return { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: params.digestBytes }
    case 'ec':
      // JWS signatures are r || s of fixed width, not DER (RFC 7518 §3.4).
      return { key, dsaEncoding: 'ieee-p1363' }
    case 'rsa':
    case 'eddsa':
      return key
  }
}

function base64urlJson(value: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url')
}

/** The key, in words, for an error message (never key material). */
function describeKey(key: unknown): string {
  if (!(key instanceof KeyObject)) return `${key === null ? 'null' : typeof key} (not a KeyObject)`
  if (key.type === 'secret') return 'a secret key'
  const details = key.asymmetricKeyDetails as AsymmetricKeyDetails
  const about: string[] = []
  if (details.modulusLength !== undefined) about.push(`${details.modulusLength} bits`)
  if (details.namedCurve !== undefined) about.push(details.namedCurve)
  if (details.hashAlgorithm !== undefined) about.push(`restricted to ${details.hashAlgorithm}`)
  const named = `a ${key.type} ${String(key.asymmetricKeyType)} key`
  return about.length === 0 ? named : `${named} (${about.join(', ')})`
}

/**
 * Verifies the signature of a compact JWS with `node:crypto`. The signing input is everything
 * before the last `.` (RFC 7515 §5.2, step 8). Only the signature is checked: run
 * {@link decodeCompactJws} first for the structure and the header, and pass the `alg` of the
 * header it accepted. RS256/384/512 use RSASSA-PKCS1-v1_5, PS256/384/512 RSASSA-PSS with MGF1 and
 * a salt as long as the digest, ES256/384/512 ECDSA with an r || s signature on P-256/384/521
 * (RFC 7518 §3.3 to §3.5); EdDSA is Ed25519 (RFC 8037 §3.1).
 *
 * Never throws: it answers `false` for an unknown algorithm (`none` and HMAC included), a
 * key that is not a public `KeyObject` or does not fit the algorithm (an RSA key for ES256, an
 * EC key on another curve, an Ed25519 key for RS256, an RSA-PSS key for RS*, an RSA key under
 * 2048 bits, a secret key), a token that is not three segments, a signature that is not
 * canonical base64url, and a signature that does not verify.
 *
 * @example
 * ```ts
 * const decoded = decodeCompactJws(assertion, policy)
 * if (typeof decoded === 'string') return reject(decoded)
 * if (!verifyJwsSignature(assertion, decoded.header.alg, clientKey)) return reject('bad_signature')
 * ```
 * @param token - a compact JWS (RFC 7515 §7.1).
 * @param alg - one of {@link SIGNATURE_ALGORITHMS}: the `alg` of the token's checked header.
 * @param key - the public key.
 * @returns whether the signature is valid for `alg` and `key`.
 * @see https://www.rfc-editor.org/rfc/rfc7515#section-5.2 (message signature validation)
 * @see https://www.rfc-editor.org/rfc/rfc7518#section-3 (algorithms)
 * @see https://www.rfc-editor.org/rfc/rfc8037#section-3.1 (EdDSA)
 */
export function verifyJwsSignature(token: string, alg: string, key: KeyObject): boolean {
  try {
    const params = PARAMETERS.get(alg)
    if (params === undefined || typeof token !== 'string') return false
    if (!(key instanceof KeyObject) || key.type !== 'public' || !fits(params, key)) return false
    const first = token.indexOf('.')
    const last = token.lastIndexOf('.')
    // Exactly three segments: a JWE or any other shape has no JWS signing input.
    if (first === -1 || token.indexOf('.', first + 1) !== last) return false
    const encoded = token.slice(last + 1)
    const signature = Buffer.from(encoded, 'base64url')
    // The decoder skips characters outside the alphabet and ignores stray pad bits: only the
    // one canonical text of these bytes counts (RFC 4648 §3.5), so a signature has one spelling.
    if (signature.toString('base64url') !== encoded) return false
    return verify(
      params.digest,
      Buffer.from(token.slice(0, last)),
      keyInput(params, key),
      signature,
    )
  } catch {
    return false
  }
}

/**
 * Signs a JWS and returns its compact serialisation: base64url of the JSON header, `.`,
 * base64url of the JSON payload, `.`, base64url of the signature (RFC 7515 §5.1 and §7.1), with
 * the parameters {@link verifyJwsSignature} checks. `header.alg` chooses the algorithm and must
 * fit the private key; {@link defaultAlgorithmForKey} picks one.
 *
 * @example
 * ```ts
 * const assertion = signJws(
 *   { alg: defaultAlgorithmForKey(privateKey), typ: 'JWT', kid: 'client-key-1' },
 *   { iss: clientId, sub: clientId, aud: tokenEndpoint, jti: randomUUID(), exp: now + 60 },
 *   privateKey,
 * )
 * ```
 * @param header - the protected header; `alg` is one of {@link SIGNATURE_ALGORITHMS}.
 * @param payload - the claims.
 * @param key - the private key.
 * @returns the compact JWS.
 * @throws {TypeError} when `header` or `payload` is not an object, `header.alg` is missing or
 * not one of {@link SIGNATURE_ALGORITHMS}, or `key` is not a private `KeyObject` that fits it
 * (RSA keys of at least 2048 bits, never an RSA-PSS key for RS*; ECDSA on the algorithm's curve;
 * Ed25519 for EdDSA).
 * @see https://www.rfc-editor.org/rfc/rfc7515#section-5.1 (message signature)
 * @see https://www.rfc-editor.org/rfc/rfc7518#section-3 (algorithms)
 * @see https://www.rfc-editor.org/rfc/rfc8037#section-3.1 (EdDSA)
 */
export function signJws(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  key: KeyObject,
): string {
  if (!isObjectRecord(header)) throw new TypeError('signJws: header must be an object')
  if (!isObjectRecord(payload)) throw new TypeError('signJws: payload must be an object')
  const alg = header.alg
  const params = typeof alg === 'string' ? PARAMETERS.get(alg) : undefined
  if (params === undefined) {
    throw new TypeError(`signJws: header.alg must be one of ${SIGNATURE_ALGORITHMS.join(', ')}`)
  }
  if (!(key instanceof KeyObject) || key.type !== 'private' || !fits(params, key)) {
    const needs = `signJws: header.alg ${alg as string} needs a private key that fits it`
    throw new TypeError(`${needs}; got ${describeKey(key)}`)
  }
  const input = `${base64urlJson(header)}.${base64urlJson(payload)}`
  const signature = sign(params.digest, Buffer.from(input), keyInput(params, key))
  return `${input}.${signature.toString('base64url')}`
}

/**
 * The JWS algorithm to sign with a key when none is configured: ES256, ES384 or ES512 for an EC
 * key on P-256, P-384 or P-521 (RFC 7518 §3.4 binds each to its curve), EdDSA for Ed25519
 * (RFC 8037 §3.1), RS256 for RSA and PS256 for RSA-PSS (RFC 7518 §3.3 and §3.5). Public and
 * private keys alike; the algorithm always fits the key in {@link signJws} and
 * {@link verifyJwsSignature}.
 *
 * @example
 * ```ts
 * const token = signJws({ alg: defaultAlgorithmForKey(key), typ: 'JWT' }, claims, key)
 * ```
 * @param key - an asymmetric key.
 * @returns the algorithm.
 * @throws {TypeError} for any other key: a secret key, Ed448, X25519, X448, an EC key on another
 * curve, an RSA key under 2048 bits, or an RSA-PSS key restricted to a hash other than SHA-256.
 * @see https://www.rfc-editor.org/rfc/rfc7518#section-3.1
 * @see https://www.rfc-editor.org/rfc/rfc8037#section-3.1
 */
export function defaultAlgorithmForKey(
  key: KeyObject,
): 'ES256' | 'ES384' | 'ES512' | 'EdDSA' | 'RS256' | 'PS256' {
  let alg: 'ES256' | 'ES384' | 'ES512' | 'EdDSA' | 'RS256' | 'PS256' | undefined
  if (key instanceof KeyObject && key.type !== 'secret') {
    const type = key.asymmetricKeyType
    const details = key.asymmetricKeyDetails as AsymmetricKeyDetails
    if (type === 'ec') alg = EC_ALGORITHM_BY_NODE_CURVE[details.namedCurve as string]
    else if (type === 'ed25519') alg = EDDSA_ALGORITHM
    else if (type === 'rsa') alg = 'RS256'
    else if (type === 'rsa-pss') alg = 'PS256'
  }
  if (alg === undefined || !fits(PARAMETERS.get(alg) as AlgorithmParameters, key)) {
    throw new TypeError(
      'defaultAlgorithmForKey: ccflow signs with EC P-256, P-384 or P-521, Ed25519 and RSA keys ' +
        `of at least ${MIN_RSA_BITS} bits; got ${describeKey(key)}`,
    )
  }
  return alg
}
