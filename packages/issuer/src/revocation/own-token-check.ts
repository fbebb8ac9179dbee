import { createPublicKey, type KeyObject } from 'node:crypto'
import jwt, { type Jwt } from 'jsonwebtoken'
import type { AccessTokenClaims } from '../tokens/issue-token.js'
import {
  importSigningKeys,
  type SigningAlgorithm,
  type SigningKeyInput,
} from '../tokens/signing-keys.js'

/** One of our own access tokens whose signature, issuer and shape are good. */
export interface CheckedToken {
  claims: AccessTokenClaims
  /** `exp` has passed (or `nbf` has not come yet): the token is not usable any more. */
  expired: boolean
}

/** Checks tokens this issuer signed. @internal */
export interface OwnTokenChecker {
  /**
   * The token's claims when this issuer signed it with one of its keys (active, next or
   * retired), `typ` is `at+jwt` and the claims have the shape the issuer writes; `undefined` for
   * anything else. Never throws.
   */
  check(token: string): CheckedToken | undefined
}

interface VerificationKey {
  alg: SigningAlgorithm
  key: KeyObject
}

// Our tokens are a few hundred bytes to a few KiB (extra claims); anything far larger is not ours
// and is refused before any decoding.
const MAX_TOKEN_LENGTH = 16 * 1024
const JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/

/**
 * Builds the checker the revocation and introspection endpoints use: every configured key,
 * whatever its status, verifies (a token signed before a rotation stays revocable until it
 * expires). Each key is imported through {@link importSigningKeys}, so the checks are the signer's
 * own; asymmetric keys verify with their public half.
 *
 * @throws {TypeError} As {@link importSigningKeys} does, for a bad key.
 * @internal
 */
export function createOwnTokenChecker(
  keys: readonly SigningKeyInput[],
  issuer: string,
): OwnTokenChecker {
  const byKid = new Map<string, VerificationKey>()
  for (const input of keys) {
    const { kid, alg, key } = importSigningKeys([{ ...input, status: 'active' }]).active
    byKid.set(kid, { alg, key: key.type === 'private' ? createPublicKey(key) : key })
  }

  return {
    check(token) {
      if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH || !JWS.test(token)) {
        return undefined
      }
      let decoded: Jwt | null
      try {
        decoded = jwt.decode(token, { complete: true })
      } catch {
        return undefined
      }
      const header = decoded?.header
      if (header === undefined || typeof header.kid !== 'string' || header.typ !== 'at+jwt') {
        return undefined
      }
      const key = byKid.get(header.kid)
      if (key === undefined || header.alg !== key.alg) return undefined
      let payload: unknown
      try {
        // Time is judged below, so that an expired token can be told apart from a forged one.
        payload = jwt.verify(token, key.key, {
          algorithms: [key.alg],
          issuer,
          ignoreExpiration: true,
          ignoreNotBefore: true,
        })
      } catch {
        return undefined
      }
      if (!hasOurShape(payload)) return undefined
      const now = Math.floor(Date.now() / 1000)
      const nbf = payload.nbf
      const expired = now >= payload.exp || (typeof nbf === 'number' && nbf > now)
      return { claims: payload, expired }
    },
  }
}

function hasOurShape(payload: unknown): payload is AccessTokenClaims {
  if (typeof payload !== 'object' || payload === null) return false
  const p = payload as Record<string, unknown>
  const aud = p.aud
  return (
    typeof p.iss === 'string' &&
    typeof p.sub === 'string' &&
    typeof p.client_id === 'string' &&
    typeof p.scope === 'string' &&
    typeof p.jti === 'string' &&
    p.jti !== '' &&
    Number.isSafeInteger(p.iat) &&
    Number.isSafeInteger(p.exp) &&
    (p.nbf === undefined || Number.isSafeInteger(p.nbf)) &&
    (typeof aud === 'string' ||
      (Array.isArray(aud) && aud.length > 0 && aud.every((a) => typeof a === 'string')))
  )
}
