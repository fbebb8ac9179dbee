import jwt from 'jsonwebtoken'
import type { InvalidTokenReason } from '../errors.js'

// jsonwebtoken reports everything through three classes and message texts; the texts below are
// those of jsonwebtoken 9 (lib verify.js), pinned by the dependency version and by the tests.
/** The invalid_token reason of an error jsonwebtoken threw while verifying. */
export function reasonFor(error: unknown, payload: Record<string, unknown>): InvalidTokenReason {
  if (error instanceof jwt.TokenExpiredError) {
    return error.message === 'maxAge exceeded' ? 'token_too_old' : 'token_expired'
  }
  if (error instanceof jwt.NotBeforeError) return 'token_not_active'
  if (!(error instanceof jwt.JsonWebTokenError)) return 'bad_signature'
  const message = error.message
  if (message === 'invalid signature') return 'bad_signature'
  if (message.startsWith('jwt audience invalid')) {
    return payload.aud === undefined ? 'missing_aud' : 'wrong_audience'
  }
  if (message.startsWith('jwt issuer invalid')) {
    return payload.iss === undefined ? 'missing_iss' : 'wrong_issuer'
  }
  if (message === 'iat required when maxAge is specified') return 'missing_iat'
  if (message === 'invalid exp value' || message === 'invalid nbf value') return 'invalid_claims'
  if (message === 'invalid algorithm' || message.includes('key')) return 'unsupported_alg'
  return 'malformed'
}

/** Whether jsonwebtoken refused only the signature: the one failure worth another candidate key. */
export function isBadSignature(error: unknown): boolean {
  return error instanceof jwt.JsonWebTokenError && error.message === 'invalid signature'
}
