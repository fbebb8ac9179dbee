import express from 'express'
import request from 'supertest'
import { describe, expect, it } from 'vitest'
import {
  BearerError,
  bearerChallenge,
  InsufficientScopeError,
  InvalidRequestError,
  InvalidTokenError,
  isBearerError,
  KeySourceUnavailableError,
  quoteHeaderValue,
  sendBearerError,
  ServiceUnavailableError,
  UnauthorizedError,
} from '../src/errors.js'

describe('quoteHeaderValue', () => {
  it('escapes quotes and backslashes', () => {
    expect(quoteHeaderValue('a"b\\c')).toBe('"a\\"b\\\\c"')
  })

  it('drops CR, LF, other controls and non-ASCII such as U+2028', () => {
    expect(quoteHeaderValue('a\r\nb\u2028c\u0000d\u00e9')).toBe('"abcd"')
  })
})

describe('bearerChallenge', () => {
  it('builds a bare challenge and one with error, description and scope', () => {
    expect(bearerChallenge('api')).toBe('Bearer realm="api"')
    expect(bearerChallenge('api', 'insufficient_scope', 'd', 'a b')).toBe(
      'Bearer realm="api", error="insufficient_scope", error_description="d", scope="a b"',
    )
  })
})

describe('UnauthorizedError', () => {
  it('is a 401 unauthorized whose challenge carries no error code (RFC 6750 §3.1)', () => {
    const error = new UnauthorizedError()
    expect(error).toMatchObject({
      name: 'UnauthorizedError',
      status: 401,
      code: 'unauthorized',
      reason: 'missing_token',
      expose: true,
      headers: { 'WWW-Authenticate': 'Bearer realm="api"' },
    })
    expect(error.toJSON()).toEqual({
      error: 'unauthorized',
      error_description: 'A bearer token is required',
      reason: 'missing_token',
    })
  })
})

describe('InvalidRequestError', () => {
  it('is a 400 invalid_request with the description in the challenge', () => {
    const error = new InvalidRequestError('multiple_token_locations', { realm: 'orders' })
    expect(error.status).toBe(400)
    expect(error.code).toBe('invalid_request')
    expect(error.headers['WWW-Authenticate']).toBe(
      'Bearer realm="orders", error="invalid_request", error_description="The request carries a token in more than one location"',
    )
  })
})

describe('InvalidTokenError', () => {
  it('is a 401 invalid_token that keeps its cause out of the message', () => {
    const cause = new Error('jwt issuer invalid. expected: https://secret.example')
    const error = new InvalidTokenError('wrong_issuer', { cause })
    expect(error.status).toBe(401)
    expect(error.code).toBe('invalid_token')
    expect(error.cause).toBe(cause)
    expect(error.message).toBe('The token issuer is not accepted')
    expect(JSON.stringify(error.toJSON())).not.toContain('secret.example')
  })
})

describe('InsufficientScopeError', () => {
  it('is a 403 naming the required scopes', () => {
    const error = new InsufficientScopeError(['reports:read', 'reports:write'])
    expect(error.status).toBe(403)
    expect(error.scopes).toEqual(['reports:read', 'reports:write'])
    expect(error.headers['WWW-Authenticate']).toBe(
      'Bearer realm="api", error="insufficient_scope", error_description="The token does not grant the required scope", scope="reports:read reports:write"',
    )
  })
})

describe('ServiceUnavailableError', () => {
  it('is a 503 temporarily_unavailable with Retry-After and no challenge', () => {
    const error = new ServiceUnavailableError('revocation_check_failed', { retryAfter: 4.2 })
    expect(error).toMatchObject({ status: 503, code: 'temporarily_unavailable', retryAfter: 5 })
    expect(error.headers).toEqual({ 'Retry-After': '5' })
    expect(error.toJSON().error).toBe('temporarily_unavailable')
  })

  it.each([
    ['revocation_check_failed', 'revocation_check'],
    ['key_source_unavailable', 'key_source'],
  ] as const)('names the dependency of reason %s: %s', (reason, dependency) => {
    expect(new ServiceUnavailableError(reason).dependency).toBe(dependency)
  })
})

describe('KeySourceUnavailableError', () => {
  it('is a 503 key_source_unavailable defaulting to 30 s', () => {
    const error = new KeySourceUnavailableError()
    expect(error).toBeInstanceOf(ServiceUnavailableError)
    expect(error).toMatchObject({ name: 'KeySourceUnavailableError', status: 503 })
    expect(error.reason).toBe('key_source_unavailable')
    expect(error.dependency).toBe('key_source')
    expect(error.headers['Retry-After']).toBe('30')
  })
})

describe('BearerError.code', () => {
  const errors = [
    new UnauthorizedError('unsupported_scheme'),
    new InvalidRequestError('malformed_authorization'),
    new InvalidTokenError('token_expired'),
    new InsufficientScopeError(['a']),
    new ServiceUnavailableError('revocation_check_failed'),
    new KeySourceUnavailableError(),
  ]

  it.each(errors.map((error) => [error.name, error] as const))(
    'is the error of the JSON body for %s',
    (_name, error) => {
      expect(error.toJSON().error).toBe(error.code)
    },
  )

  it.each(errors.map((error) => [error.name, error] as const))(
    'is in the challenge of %s exactly when RFC 6750 defines it',
    (_name, error) => {
      const challenge = error.headers['WWW-Authenticate']
      if (error.status === 503) expect(challenge).toBeUndefined()
      else if (error.code === 'unauthorized') expect(challenge).toBe('Bearer realm="api"')
      else expect(challenge).toContain(`error="${error.code}"`)
    },
  )

  it('is also read by the deprecated error property', () => {
    expect(new UnauthorizedError().error).toBe('unauthorized')
    expect(new InvalidTokenError('revoked').error).toBe('invalid_token')
  })
})

describe('isBearerError', () => {
  it('recognizes every guard error', () => {
    expect(isBearerError(new UnauthorizedError())).toBe(true)
    expect(isBearerError(new KeySourceUnavailableError())).toBe(true)
  })

  it('recognizes an error from the other build by its brand', () => {
    const foreign = Object.defineProperty(new Error('x'), Symbol.for('ccflow.guard.BearerError'), {
      value: true,
    })
    expect(isBearerError(foreign)).toBe(true)
  })

  it.each([
    ['a plain object with the same fields', { ...new InvalidTokenError('malformed') }],
    [
      'an Error with code and status set',
      Object.assign(new Error('x'), { code: 'invalid_token', status: 401, reason: 'malformed' }),
    ],
    [
      "an error with another package's brand",
      Object.defineProperty(new Error('x'), Symbol.for('ccflow.issuer.TokenError'), {
        value: true,
      }),
    ],
    ['null', null],
  ])('refuses %s', (_label, value) => {
    expect(isBearerError(value)).toBe(false)
  })
})

describe('BearerError.is', () => {
  it('recognises guard errors and nothing else', () => {
    expect(BearerError.is(new InvalidTokenError('malformed'))).toBe(true)
    expect(BearerError.is(new Error('x'))).toBe(false)
    expect(BearerError.is({ status: 401, reason: 'malformed' })).toBe(false)
    expect(BearerError.is(null)).toBe(false)
  })
})

describe('sendBearerError', () => {
  it('writes status, headers, no-store and the JSON body', async () => {
    const app = express()
    app.get('/', (_req, res) => sendBearerError(res, new InvalidTokenError('revoked')))
    const res = await request(app).get('/')
    expect(res.status).toBe(401)
    expect(res.headers['www-authenticate']).toBe(
      'Bearer realm="api", error="invalid_token", error_description="The token has been revoked"',
    )
    expect(res.headers['cache-control']).toBe('no-store')
    expect(res.headers.pragma).toBe('no-cache')
    expect(res.body).toEqual({
      error: 'invalid_token',
      error_description: 'The token has been revoked',
      reason: 'revoked',
    })
  })
})
