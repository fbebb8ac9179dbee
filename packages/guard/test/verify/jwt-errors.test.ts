import jwt from 'jsonwebtoken'
import { describe, expect, it } from 'vitest'
import { isBadSignature, reasonFor } from '../../src/verify/jwt-errors.js'

describe('reasonFor', () => {
  it.each<[string, Error, Record<string, unknown>, string]>([
    ['an expired token', new jwt.TokenExpiredError('jwt expired', new Date()), {}, 'token_expired'],
    [
      'maxAge exceeded',
      new jwt.TokenExpiredError('maxAge exceeded', new Date()),
      {},
      'token_too_old',
    ],
    [
      'nbf in the future',
      new jwt.NotBeforeError('jwt not active', new Date()),
      {},
      'token_not_active',
    ],
    ['a bad signature', new jwt.JsonWebTokenError('invalid signature'), {}, 'bad_signature'],
    [
      'a wrong audience',
      new jwt.JsonWebTokenError('jwt audience invalid. expected: x'),
      { aud: 'y' },
      'wrong_audience',
    ],
    [
      'no audience',
      new jwt.JsonWebTokenError('jwt audience invalid. expected: x'),
      {},
      'missing_aud',
    ],
    [
      'a wrong issuer',
      new jwt.JsonWebTokenError('jwt issuer invalid. expected: x'),
      { iss: 'y' },
      'wrong_issuer',
    ],
    ['no issuer', new jwt.JsonWebTokenError('jwt issuer invalid. expected: x'), {}, 'missing_iss'],
    [
      'no iat with maxAge',
      new jwt.JsonWebTokenError('iat required when maxAge is specified'),
      {},
      'missing_iat',
    ],
    ['a bad exp', new jwt.JsonWebTokenError('invalid exp value'), {}, 'invalid_claims'],
    ['a refused algorithm', new jwt.JsonWebTokenError('invalid algorithm'), {}, 'unsupported_alg'],
    ['anything else', new jwt.JsonWebTokenError('jwt malformed'), {}, 'malformed'],
    // jsonwebtoken hands on, unwrapped, what node:crypto throws under jws.verify.
    [
      'a crypto error from below jsonwebtoken',
      Object.assign(new TypeError('error:1E08010C:DECODER routines::unsupported'), {
        code: 'ERR_OSSL_UNSUPPORTED',
      }),
      {},
      'bad_signature',
    ],
  ])('maps %s', (_what, error, payload, reason) => {
    expect(reasonFor(error, payload)).toBe(reason)
  })
})

describe('isBadSignature', () => {
  it('is true only for jsonwebtoken’s invalid signature error', () => {
    expect(isBadSignature(new jwt.JsonWebTokenError('invalid signature'))).toBe(true)
    expect(isBadSignature(new jwt.JsonWebTokenError('jwt expired'))).toBe(false)
    expect(isBadSignature(new Error('invalid signature'))).toBe(false)
  })
})
