import { groupByKid } from '@ccflow/core'
import type { KeyObject } from 'node:crypto'
import type { StaticKey } from './static-keys.js'
import type { JwtHeader } from '../types.js'

/**
 * Indexes static keys by `kid` once, and returns the lookup of a token's candidate keys: the
 * keys that may verify its `alg`, among those configured with its `kid` (a token naming a
 * configured kid is checked against that key only) or, for another or no kid, the keys
 * configured without a kid.
 */
export function createStaticKeyIndex(
  keys: readonly StaticKey[],
): (header: JwtHeader) => KeyObject[] {
  const withoutKid = keys.filter((key) => key.kid === undefined)
  const byKid = groupByKid(keys)
  return (header) => {
    const alg = header.alg
    const kid = header.kid
    let pool: readonly StaticKey[] = keys
    if (kid !== undefined) pool = byKid.get(kid) ?? withoutKid
    const candidates: KeyObject[] = []
    for (const key of pool) if (key.algorithms.has(alg)) candidates.push(key.key)
    return candidates
  }
}
