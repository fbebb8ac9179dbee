import { MemoryStore } from 'express-rate-limit'
import { describe, expect, it } from 'vitest'
import { resolveOptions } from '../src/options.js'
import { ISSUER, baseOptions, clientStore } from './helpers.js'

function resolveWith(overrides: Record<string, unknown>): ReturnType<typeof resolveOptions> {
  return resolveOptions({ ...baseOptions(), ...overrides })
}

function expectOptionError(overrides: Record<string, unknown>, message: string | RegExp): void {
  expect(() => resolveWith(overrides)).toThrow(TypeError)
  expect(() => resolveWith(overrides)).toThrow(message)
}

describe('resolveOptions', () => {
  it('fills in the documented defaults', () => {
    const config = resolveOptions(baseOptions())
    expect(config).toMatchObject({
      issuer: ISSUER,
      clients: clientStore,
      accessTokenTtl: 300,
      maxAccessTokenTtl: 3600,
      secretPepper: undefined,
      allowJsonBody: false,
      bodyLimit: 4096,
      realm: 'ccflow',
      paths: {
        token: '/token',
        jwks: '/jwks.json',
        metadata: '/.well-known/oauth-authorization-server',
      },
      urls: {
        token: `${ISSUER}/token`,
        jwks: `${ISSUER}/jwks.json`,
        metadata: `${ISSUER}/.well-known/oauth-authorization-server`,
      },
      jwksMaxAge: 300,
      scopesSupported: undefined,
      rateLimit: { failures: {}, issuance: {} },
      onEvent: undefined,
      extraClaims: undefined,
    })
    expect(config.keySet.active.kid).toBe('test-es256')
  })

  it('returns a frozen configuration', () => {
    const config = resolveOptions(baseOptions())
    expect(Object.isFrozen(config)).toBe(true)
    expect(Object.isFrozen(config.paths)).toBe(true)
    expect(Object.isFrozen(config.rateLimit)).toBe(true)
  })

  it('throws a TypeError naming an unknown option', () => {
    expectOptionError({ audiance: 'x' }, 'tokenEndpoint: unknown option "audiance"')
  })

  it('names unknown nested options with their path', () => {
    expectOptionError({ paths: { tokens: '/t' } }, 'tokenEndpoint: unknown option "paths.tokens"')
    expectOptionError(
      { rateLimit: { failure: {} } },
      'tokenEndpoint: unknown option "rateLimit.failure"',
    )
    expectOptionError(
      { rateLimit: { failures: { max: 5 } } },
      'tokenEndpoint: unknown option "rateLimit.failures.max"',
    )
    expectOptionError(
      { rateLimit: { issuance: { handler: () => {} } } },
      'tokenEndpoint: unknown option "rateLimit.issuance.handler"',
    )
    expectOptionError(
      { rateLimit: { issuance: { keyGenerator: () => 'x' } } },
      'tokenEndpoint: unknown option "rateLimit.issuance.keyGenerator"',
    )
  })

  it('refuses a non-object', () => {
    expect(() => resolveOptions(undefined as never)).toThrow(
      'tokenEndpoint: options must be an object',
    )
    expect(() => resolveOptions([] as never)).toThrow(TypeError)
  })

  describe('issuer', () => {
    it.each([
      'https://auth.example.com',
      'https://auth.example.com/',
      'https://auth.example.com/tenants/a',
      'http://localhost:3000',
      'http://127.0.0.1:4000/oauth',
      'http://[::1]:4000',
    ])('accepts %s', (issuer) => {
      expect(resolveWith({ issuer }).issuer).toBe(issuer)
    })

    it.each<[string, unknown, RegExp]>([
      ['a missing issuer', undefined, /option "issuer" is required/],
      ['a non-string', 42, /option "issuer" is required/],
      ['a relative URL', '/oauth', /option "issuer" must be an absolute URL/],
      [
        'plain http on a public host',
        'http://auth.example.com',
        /option "issuer" must be an https URL/,
      ],
      [
        'http on a host that only starts with localhost',
        'http://localhost.evil.com',
        /must be an https URL/,
      ],
      ['another scheme', 'ftp://auth.example.com', /must be an https URL/],
      ['a query', 'https://auth.example.com/?tenant=a', /must not have a query or fragment/],
      ['an empty query', 'https://auth.example.com/?', /must not have a query or fragment/],
      ['a fragment', 'https://auth.example.com/#x', /must not have a query or fragment/],
      ['credentials', 'https://user:pw@auth.example.com', /must not contain credentials/],
      ['surrounding whitespace', ' https://auth.example.com', /must not contain whitespace/],
      ['a newline', 'https://auth.example.com/\n', /must not contain whitespace/],
    ])('refuses %s', (_label, issuer, message) => {
      expectOptionError({ issuer }, message)
    })

    it('joins an issuer with a trailing slash without doubling it', () => {
      expect(resolveWith({ issuer: 'https://a.example/' }).urls.token).toBe(
        'https://a.example/token',
      )
    })
  })

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['clients without findClient', { clients: {} }, /option "clients"/],
    ['missing keys', { keys: undefined }, /option "keys"/],
    ['empty keys', { keys: [] }, /option "keys"/],
    ['a bad key', { keys: [{ kid: 'k', alg: 'RS256', privateKey: 'not a pem' }] }, /option "keys"/],
    ['a fractional ttl', { accessTokenTtl: 1.5 }, /option "accessTokenTtl" must be an integer/],
    ['a zero ttl', { accessTokenTtl: 0 }, /option "accessTokenTtl"/],
    [
      'a ttl over the maximum',
      { accessTokenTtl: 600, maxAccessTokenTtl: 300 },
      /"accessTokenTtl" must not exceed/,
    ],
    ['a maximum over a day', { maxAccessTokenTtl: 86_401 }, /option "maxAccessTokenTtl"/],
    [
      'a short pepper',
      { secretPepper: 'short' },
      /option "secretPepper" must be a string of at least 32 bytes/,
    ],
    [
      'a non-boolean allowJsonBody',
      { allowJsonBody: 'yes' },
      /option "allowJsonBody" must be a boolean/,
    ],
    ['a tiny bodyLimit', { bodyLimit: 10 }, /option "bodyLimit"/],
    ['a huge bodyLimit', { bodyLimit: 10_000_000 }, /option "bodyLimit"/],
    ['a realm with a quote', { realm: 'a"b' }, /option "realm"/],
    ['a realm with a newline', { realm: 'a\nb' }, /option "realm"/],
    ['an empty realm', { realm: '' }, /option "realm"/],
    ['a path with route syntax', { paths: { token: '/:id' } }, /option "paths.token"/],
    ['a path without a slash', { paths: { jwks: 'jwks' } }, /option "paths.jwks"/],
    ['a path with a query', { paths: { metadata: '/m?x' } }, /option "paths.metadata"/],
    [
      'two equal paths',
      { paths: { jwks: '/token' } },
      /option "paths" must give a different path to each route/,
    ],
    ['a negative jwksMaxAge', { jwksMaxAge: -1 }, /option "jwksMaxAge"/],
    ['a bad scope token', { scopesSupported: ['ok', 'not ok'] }, /option "scopesSupported"/],
    ['scopesSupported as a string', { scopesSupported: 'a b' }, /option "scopesSupported"/],
    ['rateLimit true', { rateLimit: true }, /option "rateLimit" must be an object or false/],
    [
      'a limiter as true',
      { rateLimit: { failures: true } },
      /option "rateLimit.failures" must be an object or false/,
    ],
    [
      'a zero limit',
      { rateLimit: { failures: { limit: 0 } } },
      /option "rateLimit.failures.limit"/,
    ],
    [
      'a tiny window',
      { rateLimit: { issuance: { windowMs: 5 } } },
      /option "rateLimit.issuance.windowMs"/,
    ],
    [
      'an unknown header draft',
      { rateLimit: { issuance: { standardHeaders: 'draft-9' } } },
      /"rateLimit.issuance.standardHeaders"/,
    ],
    [
      'a store without increment',
      { rateLimit: { failures: { store: {} } } },
      /option "rateLimit.failures.store"/,
    ],
    ['a non-function onEvent', { onEvent: 'log' }, /option "onEvent" must be a function/],
    ['a non-function extraClaims', { extraClaims: {} }, /option "extraClaims" must be a function/],
  ])('throws a TypeError naming the option for %s', (_label, overrides, message) => {
    expectOptionError(overrides, message)
  })

  it('refuses one store shared by both limiters', () => {
    const store = new MemoryStore()
    expectOptionError(
      { rateLimit: { failures: { store }, issuance: { store } } },
      /option "rateLimit" needs a separate store for each limiter/,
    )
  })

  it('accepts express-rate-limit options and turns single limiters off', () => {
    const store = new MemoryStore()
    const config = resolveWith({
      rateLimit: {
        failures: { limit: 5, windowMs: 60_000, store, ipv6Subnet: 64 },
        issuance: false,
      },
    })
    expect(config.rateLimit).toEqual({
      failures: { limit: 5, windowMs: 60_000, store, ipv6Subnet: 64 },
      issuance: false,
    })
    expect(resolveWith({ rateLimit: false }).rateLimit).toEqual({
      failures: false,
      issuance: false,
    })
  })

  it('de-duplicates scopesSupported', () => {
    expect(resolveWith({ scopesSupported: ['a', 'b', 'a'] }).scopesSupported).toEqual(['a', 'b'])
  })

  it('lowers the default accessTokenTtl to a smaller maxAccessTokenTtl', () => {
    expect(resolveWith({ maxAccessTokenTtl: 60 }).accessTokenTtl).toBe(60)
  })
})
