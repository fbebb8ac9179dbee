import type { InvalidTokenReason } from '../errors.js'

/** Why a token's times refuse it now, or `undefined` when they do not. */
export type TimeCheck = (
  exp: number,
  nbf: number | undefined,
  iat: number | undefined,
) => InvalidTokenReason | undefined

/**
 * The time checks, identical on a cache miss and on every cache hit: jsonwebtoken's arithmetic
 * for `exp`, `nbf` and `maxAge`, plus the iat-in-the-future check it does not make (RFC 8725
 * §3.10 lets a verifier refuse it).
 *
 * @param clockTolerance Seconds of leeway for clock skew.
 * @param maxTokenAge Seconds after `iat` a token is still accepted (`iat` then required).
 */
export function createTimeCheck(
  clockTolerance: number,
  maxTokenAge: number | undefined,
): TimeCheck {
  return (exp, nbf, iat) => {
    const now = Math.floor(Date.now() / 1000)
    if (now >= exp + clockTolerance) return 'token_expired'
    if (nbf !== undefined && nbf > now + clockTolerance) return 'token_not_active'
    if (iat !== undefined && iat > now + clockTolerance) return 'iat_in_future'
    if (maxTokenAge !== undefined && now >= (iat as number) + maxTokenAge + clockTolerance) {
      return 'token_too_old'
    }
    return undefined
  }
}
