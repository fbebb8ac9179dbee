import {
  EC_ALGORITHM_BY_NODE_CURVE,
  MIN_HMAC_BYTES,
  MIN_RSA_BITS,
  PSS_ALGORITHMS,
  RSA_ALGORITHMS,
  type Jwk,
} from '@ccflow/core'
import { createPublicKey, createSecretKey, KeyObject } from 'node:crypto'
import type { StaticKeyInput } from '../types.js'

/** A verification key imported once at setup. */
export interface StaticKey {
  /** The public (or secret) key. */
  key: KeyObject
  /** Key id, when the input carried one. */
  kid: string | undefined
  /** The algorithms this key may verify: derived from its type, narrowed by its `alg`. */
  algorithms: ReadonlySet<string>
}

const derived = new WeakMap<KeyObject, readonly string[]>()

/**
 * The algorithms a key may verify, from its type alone: RSA → RS* and PS*, RSA-PSS → PS*,
 * EC P-256/P-384/P-521 → ES256/ES384/ES512, a secret → HS256 (HS384 from 48 bytes, HS512 from
 * 64, RFC 7518 §3.2: the key must be at least as long as the hash). An HMAC secret therefore never
 * verifies an asymmetric algorithm and an asymmetric key never verifies HS*, which closes the
 * algorithm-confusion attack. An empty list means the key is unusable (weak or unsupported).
 */
export function algorithmsForKey(key: KeyObject): readonly string[] {
  const cached = derived.get(key)
  if (cached !== undefined) return cached
  let algorithms: readonly string[] = []
  if (key.type === 'secret') {
    const size = key.symmetricKeySize ?? 0
    const hmac: string[] = []
    if (size >= MIN_HMAC_BYTES) hmac.push('HS256')
    if (size >= 48) hmac.push('HS384')
    if (size >= 64) hmac.push('HS512')
    algorithms = hmac
  } else if (key.type === 'public') {
    const details = key.asymmetricKeyDetails
    if (key.asymmetricKeyType === 'rsa' && (details?.modulusLength ?? 0) >= MIN_RSA_BITS) {
      algorithms = RSA_ALGORITHMS
    } else if (
      key.asymmetricKeyType === 'rsa-pss' &&
      (details?.modulusLength ?? 0) >= MIN_RSA_BITS
    ) {
      algorithms = PSS_ALGORITHMS
    } else if (key.asymmetricKeyType === 'ec') {
      const alg = EC_ALGORITHM_BY_NODE_CURVE[details?.namedCurve ?? '']
      if (alg !== undefined) algorithms = [alg]
    }
  }
  derived.set(key, algorithms)
  return algorithms
}

// Messages start with the key's path in the options (`keys[0].secret must …`); the factory that
// takes the keys prefixes its own name (`requireToken: option "keys[0].secret" must …`).
function where(index: number): string {
  return `keys[${index}]`
}

// DER forms a key may be pasted in; PEM (any "-----BEGIN", certificates and private keys
// included) and JWK JSON are recognised from their text.
const DER_PUBLIC_KEY_TYPES = ['spki', 'pkcs1'] as const

/**
 * True when the bytes of a would-be HMAC secret are asymmetric key material: a PEM, a DER
 * public key or a JWK. Such a "secret" is usually the issuer's public key, which anyone can
 * fetch, so accepting it would let anyone sign HS256 tokens: the algorithm-confusion attack
 * (RFC 8725 §2.1), configured by hand. jsonwebtoken refuses a PEM as an HMAC key for the same
 * reason, but we pass it a ready-made secret KeyObject, so the check has to live here.
 */
function isKeyMaterial(bytes: Buffer): boolean {
  if (bytes.includes('-----BEGIN')) return true
  for (const type of DER_PUBLIC_KEY_TYPES) {
    try {
      createPublicKey({ key: bytes, format: 'der', type })
      return true
    } catch {
      // Not this DER form.
    }
  }
  try {
    const parsed: unknown = JSON.parse(bytes.toString('utf8'))
    return typeof parsed === 'object' && parsed !== null && 'kty' in parsed
  } catch {
    return false
  }
}

function secretKey(value: unknown, index: number): KeyObject {
  let key: KeyObject
  if (value instanceof KeyObject) {
    if (value.type !== 'secret') {
      throw new TypeError(`${where(index)}.secret must be a secret KeyObject`)
    }
    key = value
  } else if (typeof value === 'string' || value instanceof Uint8Array) {
    key = createSecretKey(typeof value === 'string' ? Buffer.from(value, 'utf8') : value)
  } else {
    throw new TypeError(`${where(index)}.secret must be a string, Uint8Array or KeyObject`)
  }
  if ((key.symmetricKeySize ?? 0) < MIN_HMAC_BYTES) {
    throw new TypeError(`${where(index)}.secret must be at least ${MIN_HMAC_BYTES} bytes`)
  }
  if (isKeyMaterial(key.export())) {
    throw new TypeError(
      `${where(index)}.secret is a public key (PEM, DER or JWK), not a shared secret; pass it as keys[${index}].key`,
    )
  }
  return key
}

function jwkKey(jwk: Jwk, index: number): KeyObject {
  if (jwk.use !== undefined && jwk.use !== 'sig') {
    throw new TypeError(`${where(index)} is a JWK whose "use" is not "sig", so it cannot verify`)
  }
  // RFC 7517 §4.3: key_ops, when present, must allow "verify".
  const ops: unknown = jwk.key_ops
  if (ops !== undefined && (!Array.isArray(ops) || !(ops as unknown[]).includes('verify'))) {
    throw new TypeError(
      `${where(index)} is a JWK whose "key_ops" lacks "verify", so it cannot verify`,
    )
  }
  if (jwk.kty === 'oct') {
    if (typeof jwk.k !== 'string') throw new TypeError(`${where(index)} is an oct JWK without "k"`)
    return secretKey(Buffer.from(jwk.k, 'base64url'), index)
  }
  try {
    return createPublicKey({ key: jwk, format: 'jwk' })
  } catch (cause) {
    throw new TypeError(`${where(index)} is not a valid JWK`, { cause })
  }
}

function publicKey(value: unknown, index: number): KeyObject {
  if (value instanceof KeyObject) {
    if (value.type === 'secret') return secretKey(value, index)
    // A private key works too: only its public half is kept.
    return value.type === 'private' ? createPublicKey(value) : value
  }
  if (typeof value === 'string') {
    try {
      return createPublicKey(value)
    } catch (cause) {
      throw new TypeError(`${where(index)} is not a valid PEM public key or certificate`, {
        cause,
      })
    }
  }
  if (typeof value === 'object' && value !== null && 'kty' in value) {
    return jwkKey(value as Jwk, index)
  }
  throw new TypeError(`${where(index)} must be a PEM string, a JWK, a KeyObject or { secret }`)
}

// createPublicKey accepts private keys (PEM, JWK, KeyObject) and keeps their public half; these
// tell that the input held a private key, which the guard warns about.
const PRIVATE_PEM = /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/

function isPrivateMaterial(value: unknown): boolean {
  if (value instanceof KeyObject) return value.type === 'private'
  if (typeof value === 'string') return PRIVATE_PEM.test(value)
  return typeof value === 'object' && value !== null && 'kty' in value && 'd' in value
}

/**
 * Whether a `keys` entry holds a private key (a `KeyObject`, a PEM "PRIVATE KEY" or a JWK with
 * `d`, bare or as `{ key }`), of which only the public half is used.
 */
export function isPrivateKeyInput(input: unknown): boolean {
  if (typeof input === 'object' && input !== null && 'key' in input) {
    return isPrivateMaterial(input.key)
  }
  return isPrivateMaterial(input)
}

function keyName(key: KeyObject): string {
  if (key.type === 'secret') return 'HMAC secret'
  const details = key.asymmetricKeyDetails
  if (key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'rsa-pss') {
    return `RSA key of ${details?.modulusLength ?? 0} bits`
  }
  if (key.asymmetricKeyType === 'ec') return `EC key on curve ${details?.namedCurve ?? 'unknown'}`
  return `${key.asymmetricKeyType ?? 'unknown'} key`
}

function optionalString(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string' || value === '') {
    throw new TypeError(`${name} must be a non-empty string`)
  }
  return value
}

/**
 * Imports the static keys once at setup and works out which algorithms each may verify.
 *
 * @throws {TypeError} for an empty list, unparsable key material, an HMAC secret under 32 bytes,
 * an RSA key under 2048 bits, an unsupported key type or curve, or an `alg` the key cannot do.
 */
export function importStaticKeys(inputs: readonly StaticKeyInput[]): StaticKey[] {
  if (!Array.isArray(inputs) || inputs.length === 0) {
    throw new TypeError('keys must be a non-empty array')
  }
  return inputs.map((input: unknown, index): StaticKey => {
    let key: KeyObject
    let kid: string | undefined
    let alg: string | undefined
    if (typeof input === 'object' && input !== null && !(input instanceof KeyObject)) {
      const record = input as Record<string, unknown>
      if ('secret' in record) {
        key = secretKey(record.secret, index)
      } else if ('key' in record) {
        key = publicKey(record.key, index)
      } else {
        key = publicKey(record, index)
      }
      kid = optionalString(record.kid, `${where(index)}.kid`)
      alg = optionalString(record.alg, `${where(index)}.alg`)
      if ('key' in record && typeof record.key === 'object' && !(record.key instanceof KeyObject)) {
        const jwk = record.key as Record<string, unknown>
        kid ??= optionalString(jwk.kid, `${where(index)}.kid`)
        // RFC 7517 §4.4: a JWK that names its algorithm is for that algorithm only, wrapped or not
        // (the remote key set applies the same rule).
        const jwkAlg = optionalString(jwk.alg, `${where(index)}.key.alg`)
        if (alg !== undefined && jwkAlg !== undefined && alg !== jwkAlg) {
          throw new TypeError(`${where(index)}.alg and ${where(index)}.key.alg disagree`)
        }
        alg ??= jwkAlg
      }
    } else {
      key = publicKey(input, index)
    }
    const derivedAlgorithms = algorithmsForKey(key)
    if (derivedAlgorithms.length === 0) {
      const bits = key.asymmetricKeyDetails?.modulusLength
      throw new TypeError(
        bits !== undefined && bits < MIN_RSA_BITS
          ? `${where(index)} is an RSA key of ${bits} bits; at least ${MIN_RSA_BITS} are required`
          : `${where(index)} is an unsupported ${keyName(key)}`,
      )
    }
    if (alg !== undefined && !derivedAlgorithms.includes(alg)) {
      throw new TypeError(`${where(index)}.alg "${alg}" cannot be used with an ${keyName(key)}`)
    }
    return {
      key,
      kid,
      algorithms: new Set(alg === undefined ? derivedAlgorithms : [alg]),
    }
  })
}
