import { verifyJwsSignature } from '@ccflow/core'
import { generateKeyPair, generateKeyPairSync, type KeyObject } from 'node:crypto'

// Throw-away public keys, one per key type, made on first use and kept for the process. Their
// private halves are dropped at once: nothing can ever verify under them.
const throwAwayKeys = new Map<string, KeyObject>()

function throwAwayKey(alg: string): KeyObject | undefined {
  const type = KEY_TYPES.get(alg)
  if (type === undefined) return undefined
  let key = throwAwayKeys.get(type)
  if (key === undefined) {
    key =
      type === 'rsa'
        ? generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey
        : type === 'ed25519'
          ? generateKeyPairSync('ed25519').publicKey
          : generateKeyPairSync('ec', { namedCurve: type }).publicKey
    throwAwayKeys.set(type, key)
  }
  return key
}

/**
 * Makes the throw-away keys in the background (RSA takes tens of milliseconds), so that the first
 * refused assertion does not stand out by a key generation. Called once per endpoint; a key that
 * is not ready yet when first needed is made synchronously.
 *
 * @internal
 */
export function prepareThrowAwayKeys(): void {
  for (const type of new Set(KEY_TYPES.values())) {
    if (throwAwayKeys.has(type) || preparing.has(type)) continue
    preparing.add(type)
    const done = (err: Error | null, publicKey: KeyObject): void => {
      preparing.delete(type)
      if (err === null && !throwAwayKeys.has(type)) throwAwayKeys.set(type, publicKey)
    }
    if (type === 'rsa') generateKeyPair('rsa', { modulusLength: 2048 }, done)
    else if (type === 'ed25519') generateKeyPair('ed25519', {}, done)
    else generateKeyPair('ec', { namedCurve: type }, done)
  }
}
const preparing = new Set<string>()

// A Map, not an object: an `alg` such as "constructor" must find nothing.
const KEY_TYPES: ReadonlyMap<string, string> = new Map([
  ['RS256', 'rsa'],
  ['RS384', 'rsa'],
  ['RS512', 'rsa'],
  ['PS256', 'rsa'],
  ['PS384', 'rsa'],
  ['PS512', 'rsa'],
  ['ES256', 'P-256'],
  ['ES384', 'P-384'],
  ['ES512', 'P-521'],
  ['EdDSA', 'ed25519'],
])

/**
 * Verifies the assertion's signature against a throw-away key of its algorithm and ignores the
 * answer: the refusal of an unknown client (or one of another method, or a disallowed
 * algorithm) then costs what a wrong signature costs, so response times do not tell which
 * client ids exist (RFC 6819 §5.1.4.2.2).
 *
 * @internal
 */
export function burnSignatureCheck(assertion: string, alg: string): void {
  const key = throwAwayKey(alg)
  if (key !== undefined) verifyJwsSignature(assertion, alg, key)
}
