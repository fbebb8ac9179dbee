import { settleWithin } from '@ccflow/core'
import { type InvalidTokenError, ServiceUnavailableError } from '../errors.js'
import type { AccessTokenClaims, AuthInfo } from '../types.js'

/** The app's `isRevoked` hook, as the options hold it. */
export type IsRevoked = (claims: AccessTokenClaims) => unknown

/**
 * The revocation step after a token verified (and on every cache hit): asks `isRevoked`, bounded
 * by `revocationTimeout` milliseconds. A synchronous boolean answers synchronously; a promise or
 * any thenable is adopted. A revoked token is `invalid('revoked')`; a hook that throws, rejects,
 * times out or answers anything but a boolean fails closed with a 503.
 */
export function createRevocationStep(
  isRevoked: IsRevoked,
  revocationTimeout: number,
  invalid: (reason: 'revoked') => InvalidTokenError,
): (auth: AuthInfo) => AuthInfo | Promise<AuthInfo> {
  return (auth) => {
    let result: unknown
    try {
      result = isRevoked(auth.claims)
    } catch (cause) {
      throw new ServiceUnavailableError('revocation_check_failed', { cause })
    }
    if (result === false) return auth
    if (result === true) throw invalid('revoked')
    if (typeof (result as PromiseLike<unknown> | undefined)?.then === 'function') {
      // Any thenable (a Redis client's promise type, Bluebird), adopted as a native promise and
      // bounded by revocationTimeout: a store that never answers fails closed, it does not hang.
      return settleWithin(
        result as PromiseLike<unknown>,
        revocationTimeout,
        () => new Error(`isRevoked gave no answer within ${revocationTimeout} ms`),
      ).then(
        (revoked: unknown) => {
          if (revoked === false) return auth
          if (revoked === true) throw invalid('revoked')
          throw new ServiceUnavailableError('revocation_check_failed')
        },
        (cause: unknown) => {
          throw new ServiceUnavailableError('revocation_check_failed', { cause })
        },
      )
    }
    // A hook that answers anything but a boolean is broken: fail closed, visibly.
    throw new ServiceUnavailableError('revocation_check_failed')
  }
}
