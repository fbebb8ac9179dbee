import { describe, expect, it } from 'vitest'
import {
  DEFAULT_DESCRIPTIONS,
  InvalidClientError,
  InvalidGrantError,
  InvalidRequestError,
  InvalidScopeError,
  InvalidTargetError,
  isTokenError,
  TemporarilyUnavailableError,
  TokenError,
  UnauthorizedClientError,
  UnsupportedGrantTypeError,
  type TokenErrorCode,
  type UnavailableDependency,
} from '../src/errors.js'

describe('TokenError subclasses', () => {
  it.each<[new () => TokenError, TokenErrorCode, number, string]>([
    [InvalidRequestError, 'invalid_request', 400, 'InvalidRequestError'],
    [InvalidClientError, 'invalid_client', 401, 'InvalidClientError'],
    [InvalidGrantError, 'invalid_grant', 400, 'InvalidGrantError'],
    [UnauthorizedClientError, 'unauthorized_client', 400, 'UnauthorizedClientError'],
    [UnsupportedGrantTypeError, 'unsupported_grant_type', 400, 'UnsupportedGrantTypeError'],
    [InvalidScopeError, 'invalid_scope', 400, 'InvalidScopeError'],
    [InvalidTargetError, 'invalid_target', 400, 'InvalidTargetError'],
  ])('%o has code %s and status %i (RFC 6749 §5.2, RFC 8707 §2)', (Class, code, status, name) => {
    const err = new Class()
    expect(err).toBeInstanceOf(TokenError)
    expect(err).toBeInstanceOf(Error)
    expect(err).toMatchObject({ code, status, name, expose: true })
    expect(err.description).toBe(DEFAULT_DESCRIPTIONS[code])
    expect(err.message).toBe(DEFAULT_DESCRIPTIONS[code])
    expect(err.headers).toBeUndefined()
    expect(err.reason).toBeUndefined()
  })

  it('carries a specific description, headers, a reason and a cause', () => {
    const cause = new Error('inner')
    const err = new InvalidClientError('Client authentication failed.', {
      headers: { 'WWW-Authenticate': 'Basic realm="x"' },
      reason: 'wrong_secret',
      cause,
    })
    expect(err).toMatchObject({
      description: 'Client authentication failed.',
      headers: { 'WWW-Authenticate': 'Basic realm="x"' },
      reason: 'wrong_secret',
      cause,
    })
  })

  it('keeps descriptions free of characters that would need escaping in a header or JSON', () => {
    for (const text of Object.values(DEFAULT_DESCRIPTIONS)) {
      expect(text).toMatch(/^[\x20-\x21\x23-\x5B\x5D-\x7E]+$/)
    }
  })
})

describe('TemporarilyUnavailableError', () => {
  it.each<UnavailableDependency>(['denylist', 'rate_limit', 'client_store', 'extra_claims'])(
    'is a 503 temporarily_unavailable with Retry-After naming the %s dependency',
    (dependency) => {
      const error = new TemporarilyUnavailableError(dependency)
      expect(error).toBeInstanceOf(TokenError)
      expect(error).toMatchObject({
        name: 'TemporarilyUnavailableError',
        code: 'temporarily_unavailable',
        status: 503,
        headers: { 'Retry-After': '1' },
        dependency,
        reason: `${dependency}_unavailable`,
        expose: true,
      })
      expect(error.description).toBe(DEFAULT_DESCRIPTIONS.temporarily_unavailable)
      expect(isTokenError(error)).toBe(true)
    },
  )

  it.each([
    [30, '30'],
    [2.2, '3'],
    [0.5, '1'],
    [Number.NaN, '1'],
    [1e9, '3600'],
  ])('sends Retry-After %s as %s when the caller knows when to retry', (retryAfter, header) => {
    const error = new TemporarilyUnavailableError('client_jwks', { retryAfter })
    expect(error.headers).toEqual({ 'Retry-After': header })
  })

  it('keeps the failure as its cause', () => {
    const cause = new Error('down')
    expect(new TemporarilyUnavailableError('denylist', { cause }).cause).toBe(cause)
  })

  it('still answers the deprecated store with the dependency', () => {
    expect(new TemporarilyUnavailableError('client_store').store).toBe('client_store')
  })
})

describe('isTokenError', () => {
  it('recognizes instances of every subclass', () => {
    expect(isTokenError(new InvalidClientError())).toBe(true)
    expect(isTokenError(new TokenError('invalid_request'))).toBe(true)
  })

  it.each([
    ['a plain object with the same fields', { ...new InvalidScopeError() }],
    [
      'an Error with code and status set',
      Object.assign(new Error('x'), { code: 'invalid_scope', status: 400, expose: true }),
    ],
    [
      "an error with another package's brand",
      Object.defineProperty(new Error('x'), Symbol.for('ccflow.guard.BearerError'), {
        value: true,
      }),
    ],
  ])('refuses %s', (_label, value) => {
    expect(isTokenError(value)).toBe(false)
  })
})

describe('TokenError.is', () => {
  it('recognizes instances of every subclass', () => {
    expect(TokenError.is(new InvalidScopeError())).toBe(true)
    expect(TokenError.is(new TokenError('invalid_target'))).toBe(true)
  })

  it('recognizes an error from the other build by its brand', () => {
    const foreign = Object.defineProperty(new Error('x'), Symbol.for('ccflow.issuer.TokenError'), {
      value: true,
    })
    expect(TokenError.is(foreign)).toBe(true)
  })

  it.each([
    ['a plain Error', new Error('invalid_scope')],
    ['a look-alike object', { code: 'invalid_scope', status: 400, expose: true }],
    ['null', null],
    ['a string', 'invalid_client'],
  ])('rejects %s', (_label, value) => {
    expect(TokenError.is(value)).toBe(false)
  })
})
