import {
  type CachedSet,
  groupByKid,
  importJwks,
  keyFor,
  onlyKeyFor,
  SIGNATURE_ALGORITHMS,
} from '@ccflow/core'
import type { KeyObject } from 'node:crypto'
import type { ClientJwks } from '../client-store.js'

// Why a key was not imported, in words for the record's error message.
const SKIP_MESSAGES: Readonly<Record<string, string>> = {
  invalid: 'is not a valid JWK',
  not_for_signatures: 'is not for signatures ("use" or "key_ops" say otherwise)',
  private_key: 'holds private key members: publish only the public key',
  unsupported_type: 'is not an RSA, EC (P-256, P-384, P-521) or Ed25519 key',
  unsupported_alg: 'names an "alg" that does not fit the key',
  weak_key: 'is an RSA key under 2048 bits',
  duplicate_kid: 'repeats a "kid" already used by a key of the same type',
}

// Imported sets by the (frozen) jwks object of a checked record: a record is imported once.
const importedSets = new WeakMap<ClientJwks, CachedSet>()

/**
 * Imports a client's inline JWK Set with core's rule for published keys (RFC 7517; public
 * signing keys only, RSA ≥ 2048 bits, EC P-256/P-384/P-521, Ed25519), refusing the whole record
 * when any key is unusable: a private key pasted by mistake or an encryption key must stop the
 * store from loading, not be skipped quietly.
 *
 * @throws {TypeError} `<where>.keys[i] …` naming the key and what is wrong with it.
 * @internal
 */
export function importClientJwks(jwks: ClientJwks, where: string): CachedSet {
  const options = { algorithms: SIGNATURE_ALGORITHMS }
  jwks.keys.forEach((jwk, i) => {
    const { skipped } = importJwks({ keys: [jwk] }, options)
    const reason = skipped[0]?.reason
    if (reason !== undefined) {
      throw new TypeError(`${where}.keys[${i}] ${SKIP_MESSAGES[reason] ?? 'is not usable'}`)
    }
  })
  const { keys, skipped } = importJwks(jwks, options)
  const reason = skipped[0]?.reason
  if (reason !== undefined) {
    throw new TypeError(`${where}: a key ${SKIP_MESSAGES[reason] ?? 'is not usable'}`)
  }
  return { keys, byKid: groupByKid(keys), fetchedAt: 0, expiresAt: Number.POSITIVE_INFINITY }
}

/** Remembers the imported set of a checked record's `jwks`. @internal */
export function rememberClientJwks(jwks: ClientJwks, set: CachedSet): void {
  importedSets.set(jwks, set)
}

/**
 * The key of a client's inline `jwks` for an assertion header: by `kid`, or without `kid` the
 * only key that fits `alg` (none when several do).
 *
 * @internal
 */
export function inlineClientKey(
  jwks: ClientJwks,
  kid: string | undefined,
  alg: string,
): KeyObject | undefined {
  // Every checked record's set was imported when it was checked; a record that somehow was not
  // is imported now, under the same rule.
  let set = importedSets.get(jwks)
  if (set === undefined) {
    set = importClientJwks(jwks, 'client store record.jwks')
    importedSets.set(jwks, set)
  }
  return kid === undefined ? onlyKeyFor(set, alg) : keyFor(set, kid, alg)
}
