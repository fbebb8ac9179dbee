import { describe, expect, it } from 'vitest'
import {
  isTokenClientError,
  OAuthError,
  ThrottledError,
  TokenClientError,
  TransportError,
} from '../src/errors.js'

describe('OAuthError', () => {
  it('carries the RFC 6749 error, its description and the status under code oauth_error', () => {
    const error = new OAuthError('invalid_scope', 400, 'scope not allowed')
    expect(error).toMatchObject({
      name: 'OAuthError',
      code: 'oauth_error',
      error: 'invalid_scope',
      error_description: 'scope not allowed',
      status: 400,
      message: 'token endpoint refused the request: invalid_scope (HTTP 400)',
    })
    expect(error).toBeInstanceOf(TokenClientError)
  })

  it('keeps an error code outside the RFC 6749 §5.2 characters out of the message', () => {
    const error = new OAuthError('bad"\ncode', 400)
    expect(error.error).toBe('invalid_error_code')
    expect(error.message).not.toContain('bad')
    expect(error.error_description).toBeUndefined()
  })

  it('cuts the description to printable ASCII and 512 characters', () => {
    const error = new OAuthError('invalid_client', 401, `a\r\nb\u2028${'x'.repeat(600)}`)
    expect(error.error_description).toBe(`ab${'x'.repeat(510)}`)
  })
})

describe('ThrottledError', () => {
  it('carries retryAfter and the status under code throttled', () => {
    expect(new ThrottledError(90, 429)).toMatchObject({
      name: 'ThrottledError',
      code: 'throttled',
      retryAfter: 90,
      status: 429,
    })
  })
})

describe('TransportError', () => {
  it('carries reason, retryable, status and cause under code transport_error', () => {
    const cause = new Error('socket hang up')
    expect(
      new TransportError('network', 'failed', { retryable: true, status: 502, cause }),
    ).toMatchObject({
      code: 'transport_error',
      reason: 'network',
      retryable: true,
      status: 502,
      cause,
    })
  })
})

describe('isTokenClientError', () => {
  it('recognizes every error of the package and nothing that only looks like one', () => {
    expect(isTokenClientError(new ThrottledError(1, 503))).toBe(true)
    expect(TokenClientError.is(new OAuthError('invalid_client', 401))).toBe(true)
    expect(isTokenClientError({ code: 'throttled', retryAfter: 1 })).toBe(false)
    expect(isTokenClientError(new Error('x'))).toBe(false)
    expect(isTokenClientError(null)).toBe(false)
  })
})
