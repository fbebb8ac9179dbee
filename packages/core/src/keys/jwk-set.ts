import { createPublicKey, type KeyObject } from 'node:crypto'
import {
  ASYMMETRIC_ALGORITHMS,
  EC_ALGORITHM_BY_JWK_CURVE,
  EDDSA_ALGORITHM,
  MIN_RSA_BITS,
  RSA_ALGORITHMS,
  SIGNATURE_ALGORITHMS,
  type SignatureAlgorithm,
} from '../jose/algorithms.js'
import type { PublicJwk } from '../jose/jwk.js'
import { KeySourceFetchError } from './jwks-fetch.js'

/**
 * JWS algorithms a remote key can verify: the asymmetric ones of RFC 7518 §3.1, plus EdDSA
 * (RFC 8037) where the caller opts in.
 */
export type RemoteKeyAlgorithm = SignatureAlgorithm

/** Algorithms a remote key may verify by default: the asymmetric ones of RFC 7518. */
export const SUPPORTED_ALGORITHMS: ReadonlySet<string> = new Set<string>(ASYMMETRIC_ALGORITHMS)

/**
 * Every algorithm a caller may allow a remote key set to import keys for: the asymmetric ones and
 * EdDSA (`jose/algorithms.ts`'s SIGNATURE_ALGORITHMS). Ed25519 keys are opt-in: jsonwebtoken, and
 * so the guard, cannot verify EdDSA.
 */
export const IMPORTABLE_ALGORITHMS: readonly RemoteKeyAlgorithm[] = SIGNATURE_ALGORITHMS

// RFC 7517 §9.3 / RFC 7518 §6: members that only a private or symmetric key has. A JWKS that
// publishes them has leaked the key, so anyone could sign with it: the key is refused.
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const

/** Why a key from a fetched JWKS was not used. */
export type SkippedKeyReason =
  | 'invalid'
  | 'not_for_signatures'
  | 'private_key'
  | 'unsupported_type'
  | 'unsupported_alg'
  | 'weak_key'
  | 'duplicate_kid'

/** A usable key of a fetched set, imported once, with the algorithms it may verify. */
export interface ImportedKey {
  kid: string | undefined
  key: KeyObject
  algorithms: readonly RemoteKeyAlgorithm[]
}

/** One fetched key set, indexed by kid, with its freshness. */
export interface CachedSet {
  keys: readonly ImportedKey[]
  byKid: ReadonlyMap<string, readonly ImportedKey[]>
  fetchedAt: number
  expiresAt: number
}

/** The key for a kid and alg in a set (a loop on every cache miss, no closure). */
export function keyFor(set: CachedSet, kid: string, alg: string): KeyObject | undefined {
  const entries = set.byKid.get(kid)
  if (entries === undefined) return undefined
  // A loop, not find(): this runs on every cache miss and a closure per call is garbage.
  for (const entry of entries) if (suits(entry, alg)) return entry.key
  return undefined
}

/** The one key of a set that fits `alg`, for a token without kid; none when ambiguous. */
export function onlyKeyFor(set: CachedSet, alg: string): KeyObject | undefined {
  const candidates = set.keys.filter((entry) => suits(entry, alg))
  return candidates.length === 1 ? candidates[0]?.key : undefined
}

function suits(entry: ImportedKey, alg: string): boolean {
  return (entry.algorithms as readonly string[]).includes(alg)
}

/** The usable keys of a JWK Set, and the skipped ones with the reason. */
export interface ImportResult {
  keys: ImportedKey[]
  skipped: { kid: string | undefined; reason: SkippedKeyReason }[]
}

/** Options of {@link importJwks}. */
export interface ImportJwksOptions {
  /**
   * The algorithms keys may be imported for: a key is kept with those of its algorithms that
   * are listed, and skipped when none is. Ed25519 keys are imported only when `EdDSA` is listed.
   * @default SUPPORTED_ALGORITHMS (RS256–RS512, PS256–PS512, ES256–ES512)
   */
  algorithms?: ReadonlySet<string> | readonly string[] | undefined
}

/**
 * Imports the usable signing keys of a JWK Set, each once, as a public KeyObject.
 *
 * A key is skipped (and reported) when it is not for signatures (`use`, `key_ops`), carries
 * private members, is not RSA or EC P-256/P-384/P-521 (or Ed25519, when `EdDSA` is allowed), is
 * RSA under 2048 bits, has an `alg` that does not fit its type, is for none of the allowed
 * algorithms, cannot be imported, or repeats a kid already taken for one of its algorithms
 * (RFC 7517 §4.5 allows one kid for keys of different types; for the same type the first wins,
 * so every kid + alg resolves to exactly one key).
 *
 * @throws {KeySourceFetchError} `invalid_shape` when the document is not `{ keys: [...] }`.
 */
export function importJwks(document: unknown, options: ImportJwksOptions = {}): ImportResult {
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw new KeySourceFetchError('invalid_shape', 'JWKS is not a JSON object')
  }
  const { keys } = document as { keys?: unknown }
  if (!Array.isArray(keys)) {
    throw new KeySourceFetchError('invalid_shape', 'JWKS has no keys array')
  }
  const allowed =
    options.algorithms === undefined
      ? SUPPORTED_ALGORITHMS
      : options.algorithms instanceof Set
        ? options.algorithms
        : new Set(options.algorithms)
  const result: ImportResult = { keys: [], skipped: [] }
  const taken = new Set<string>()
  for (const jwk of keys as unknown[]) {
    const imported = importJwk(jwk, allowed)
    if ('reason' in imported) {
      result.skipped.push(imported)
      continue
    }
    if (imported.kid !== undefined) {
      const slots = imported.algorithms.map((alg) => `${alg} ${String(imported.kid)}`)
      if (slots.some((slot) => taken.has(slot))) {
        result.skipped.push({ kid: imported.kid, reason: 'duplicate_kid' })
        continue
      }
      for (const slot of slots) taken.add(slot)
    }
    result.keys.push(imported)
  }
  return result
}

function importJwk(
  value: unknown,
  allowed: ReadonlySet<string>,
): ImportedKey | { kid: string | undefined; reason: SkippedKeyReason } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { kid: undefined, reason: 'invalid' }
  }
  const jwk = value as Record<string, unknown>
  const kid = typeof jwk.kid === 'string' ? jwk.kid : undefined
  const skip = (
    reason: SkippedKeyReason,
  ): { kid: string | undefined; reason: SkippedKeyReason } => ({
    kid,
    reason,
  })
  if (jwk.kid !== undefined && kid === undefined) return skip('invalid')
  // RFC 7517 §4.2, §4.3: a key meant for encryption must not verify signatures.
  if (jwk.use !== undefined && jwk.use !== 'sig') return skip('not_for_signatures')
  if (
    jwk.key_ops !== undefined &&
    (!Array.isArray(jwk.key_ops) || !(jwk.key_ops as unknown[]).includes('verify'))
  ) {
    return skip('not_for_signatures')
  }
  if (PRIVATE_MEMBERS.some((member) => member in jwk)) return skip('private_key')

  let algorithms: readonly RemoteKeyAlgorithm[]
  let publicJwk: PublicJwk
  if (jwk.kty === 'RSA') {
    algorithms = RSA_ALGORITHMS
    publicJwk = { kty: 'RSA', n: jwk.n as string, e: jwk.e as string }
  } else if (
    jwk.kty === 'EC' &&
    typeof jwk.crv === 'string' &&
    jwk.crv in EC_ALGORITHM_BY_JWK_CURVE
  ) {
    algorithms = [EC_ALGORITHM_BY_JWK_CURVE[jwk.crv] as RemoteKeyAlgorithm]
    publicJwk = { kty: 'EC', crv: jwk.crv, x: jwk.x as string, y: jwk.y as string }
  } else if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519' && allowed.has(EDDSA_ALGORITHM)) {
    // RFC 8037 §2: an OKP public key is `crv` and `x`; Ed25519 signs with EdDSA only.
    algorithms = [EDDSA_ALGORITHM]
    publicJwk = { kty: 'OKP', crv: 'Ed25519', x: jwk.x as string }
  } else {
    return skip('unsupported_type')
  }
  // RFC 7517 §4.4: a JWK that names its algorithm may be used with that algorithm only.
  if (jwk.alg !== undefined) {
    if (typeof jwk.alg !== 'string' || !(algorithms as readonly string[]).includes(jwk.alg)) {
      return skip('unsupported_alg')
    }
    algorithms = [jwk.alg as RemoteKeyAlgorithm]
  }
  algorithms = algorithms.filter((alg) => allowed.has(alg))
  if (algorithms.length === 0) return skip('unsupported_alg')
  const members: unknown[] = Object.values(publicJwk)
  if (members.some((member) => typeof member !== 'string' || member === '')) return skip('invalid')

  let key: KeyObject
  try {
    key = createPublicKey({ key: publicJwk, format: 'jwk' })
  } catch {
    return skip('invalid')
  }
  const bits = key.asymmetricKeyDetails?.modulusLength
  if (jwk.kty === 'RSA' && (bits === undefined || bits < MIN_RSA_BITS)) return skip('weak_key')
  return { kid, key, algorithms }
}
