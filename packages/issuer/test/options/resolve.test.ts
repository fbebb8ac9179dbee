import { MemoryStore } from 'express-rate-limit'
import { describe, expect, it, vi } from 'vitest'
import { resolveOptions } from '../../src/options/resolve.js'
import {
  FAILURE_LIMITER_OPTIONS,
  ISSUANCE_LIMITER_OPTIONS,
  PATHS_OPTIONS,
  TOKEN_ENDPOINT_DEFAULTS,
  TOKEN_ENDPOINT_OPTIONS,
} from '../../src/options/defaults.js'
import { ISSUER, baseOptions, clientStore } from '../helpers.js'

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
      accessTokenTtlSeconds: 300,
      maxAccessTokenTtlSeconds: 3600,
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
      jwksMaxAgeSeconds: 300,
      hookTimeoutMs: 5000,
      scopesSupported: undefined,
      rateLimit: { failures: {}, issuance: {} },
      onEvent: undefined,
      extraClaims: undefined,
    })
    expect(config.keySet.active.kid).toBe('test-es256')
  })

  describe('an option set to undefined (process.env.X that is not set)', () => {
    const undefinedFor = (table: object, except: string[] = []): Record<string, undefined> =>
      Object.fromEntries(
        Object.keys(table)
          .filter((name) => !except.includes(name))
          .map((name) => [name, undefined]),
      )
    // The parts of the configuration that hold no per-call closure or store instance.
    const comparable = (config: ReturnType<typeof resolveOptions>): object => {
      const { privateKeyJwt, ...rest } = config
      const { replayStore, keySets, ...rules } = privateKeyJwt
      return {
        ...rest,
        privateKeyJwt: rules,
        replayStore: typeof replayStore,
        keySets: typeof keySets,
      }
    }

    it('resolves every optional option, deprecated ones included, as when it is absent', () => {
      const everyUndefined = undefinedFor(TOKEN_ENDPOINT_OPTIONS, ['issuer', 'clients', 'keys'])
      expect(comparable(resolveWith(everyUndefined))).toStrictEqual(
        comparable(resolveOptions(baseOptions())),
      )
    })

    it('resolves undefined inside rateLimit, paths and privateKeyJwt as absent', () => {
      const nested = resolveWith({
        rateLimit: {
          failures: undefinedFor(FAILURE_LIMITER_OPTIONS),
          issuance: undefinedFor(ISSUANCE_LIMITER_OPTIONS),
        },
        paths: undefinedFor(PATHS_OPTIONS),
        privateKeyJwt: {
          assertionAudience: undefined,
          signingAlgorithms: undefined,
          maxAssertionLifetimeSeconds: undefined,
          clockToleranceSeconds: undefined,
          replayStore: undefined,
          jwksUri: {
            allowedAddresses: undefined,
            allowHttpLoopback: undefined,
            timeoutMs: undefined,
            maxResponseBytes: undefined,
            cooldownSeconds: undefined,
            staleForSeconds: undefined,
            maxKeySets: undefined,
          },
        },
      })
      // A limiter option spread as undefined over the defaults would replace them.
      expect(comparable(nested)).toStrictEqual(comparable(resolveOptions(baseOptions())))
      expect(nested.rateLimit).toStrictEqual({ failures: {}, issuance: {} })
    })
  })

  it('returns a frozen configuration', () => {
    const config = resolveOptions(baseOptions())
    expect(Object.isFrozen(config)).toBe(true)
    expect(Object.isFrozen(config.paths)).toBe(true)
    expect(Object.isFrozen(config.rateLimit)).toBe(true)
  })

  it('takes its defaults from TOKEN_ENDPOINT_DEFAULTS, which is frozen', () => {
    const config = resolveOptions(baseOptions())
    expect(config).toMatchObject({
      accessTokenTtlSeconds: TOKEN_ENDPOINT_DEFAULTS.accessTokenTtlSeconds,
      hookTimeoutMs: TOKEN_ENDPOINT_DEFAULTS.hookTimeoutMs,
      paths: TOKEN_ENDPOINT_DEFAULTS.paths,
    })
    expect(Object.isFrozen(TOKEN_ENDPOINT_DEFAULTS)).toBe(true)
    expect(Object.isFrozen(TOKEN_ENDPOINT_DEFAULTS.paths)).toBe(true)
  })

  it('throws a TypeError naming an unknown option', () => {
    expectOptionError({ zzz: 'x' }, /^tokenEndpoint: unknown option "zzz"$/)
  })

  it('suggests the option an unknown one is a near miss of', () => {
    expectOptionError(
      { issuerr: 'x' },
      /^tokenEndpoint: unknown option "issuerr" \(did you mean "issuer"\?\)$/,
    )
    expectOptionError(
      { accessTokenTTLSeconds: 60 },
      /^tokenEndpoint: unknown option "accessTokenTTLSeconds" \(did you mean "accessTokenTtlSeconds"\?\)$/,
    )
    expectOptionError(
      { hookTimeoutMillis: 60 },
      /^tokenEndpoint: unknown option "hookTimeoutMillis" \(did you mean "hookTimeoutMs"\?\)$/,
    )
  })

  it('names unknown nested options with their path', () => {
    expectOptionError(
      { paths: { tokens: '/t' } },
      /^tokenEndpoint: unknown option "paths\.tokens" \(did you mean "paths\.token"\?\)$/,
    )
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
      ['a query', 'https://auth.example.com?tenant=a', /must not have a query or fragment/],
      ['an empty query', 'https://auth.example.com/?', /must not have a query or fragment/],
      ['a fragment', 'https://auth.example.com/#x', /must not have a query or fragment/],
      ['credentials', 'https://user:pw@auth.example.com', /must not contain credentials/],
      ['surrounding whitespace', ' https://auth.example.com', /must not contain whitespace/],
      ['a newline', 'https://auth.example.com/\n', /must not contain whitespace/],
    ])('refuses %s', (_label, issuer, message) => {
      expectOptionError({ issuer }, message)
    })

    it.each([
      ['https://a.example/', 'https://a.example'],
      ['https://a.example/oauth/', 'https://a.example/oauth'],
    ])('refuses the issuer %s, which ends in "/", naming the spelling to use', (issuer, use) => {
      expect(() => resolveWith({ issuer })).toThrow(
        `tokenEndpoint: option "issuer" must not end with "/": every guard compares it character for character; use "${use}" here and in the guards`,
      )
    })

    it('joins an issuer with a path and the route paths', () => {
      expect(resolveWith({ issuer: 'https://a.example/oauth' }).urls.token).toBe(
        'https://a.example/oauth/token',
      )
    })
  })

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['clients without findClient', { clients: {} }, /option "clients"/],
    ['missing keys', { keys: undefined }, /option "keys"/],
    ['empty keys', { keys: [] }, /option "keys"/],
    ['a bad key', { keys: [{ kid: 'k', alg: 'RS256', privateKey: 'not a pem' }] }, /option "keys"/],
    [
      'a fractional ttl',
      { accessTokenTtlSeconds: 1.5 },
      /^tokenEndpoint: option "accessTokenTtlSeconds" must be an integer from 1 to 86400$/,
    ],
    ['a zero ttl', { accessTokenTtlSeconds: 0 }, /option "accessTokenTtlSeconds"/],
    ['a ttl as a string', { accessTokenTtlSeconds: '60' }, /option "accessTokenTtlSeconds"/],
    [
      'a ttl over the maximum',
      { accessTokenTtlSeconds: 600, maxAccessTokenTtlSeconds: 300 },
      /^tokenEndpoint: option "accessTokenTtlSeconds" must not exceed "maxAccessTokenTtlSeconds"$/,
    ],
    [
      'a maximum over a day',
      { maxAccessTokenTtlSeconds: 86_401 },
      /option "maxAccessTokenTtlSeconds" must be an integer from 1 to 86400/,
    ],
    [
      'a zero hookTimeoutMs',
      { hookTimeoutMs: 0 },
      /^tokenEndpoint: option "hookTimeoutMs" must be an integer from 1 to 60000$/,
    ],
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
    [
      'a negative jwksMaxAgeSeconds',
      { jwksMaxAgeSeconds: -1 },
      /^tokenEndpoint: option "jwksMaxAgeSeconds" must be an integer from 0 to 604800$/,
    ],
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
      /^tokenEndpoint: option "rateLimit\.issuance\.standardHeaders" must be true, false, 'draft-6', 'draft-7' or 'draft-8'$/,
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

  it('lowers the default accessTokenTtlSeconds to a smaller maxAccessTokenTtlSeconds', () => {
    expect(resolveWith({ maxAccessTokenTtlSeconds: 60 }).accessTokenTtlSeconds).toBe(60)
  })

  describe('deprecated names', () => {
    it.each([
      ['accessTokenTtl', 'accessTokenTtlSeconds', 120, 'CCFLOW_DEP_ACCESS_TOKEN_TTL'],
      ['maxAccessTokenTtl', 'maxAccessTokenTtlSeconds', 600, 'CCFLOW_DEP_MAX_ACCESS_TOKEN_TTL'],
      ['jwksMaxAge', 'jwksMaxAgeSeconds', 60, 'CCFLOW_DEP_JWKS_MAX_AGE'],
      ['hookTimeout', 'hookTimeoutMs', 250, 'CCFLOW_DEP_HOOK_TIMEOUT'],
    ])('still accept %s (as %s), warning once per process', (oldName, newName, value, code) => {
      const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined)
      try {
        const config = resolveWith({ [oldName]: value }) as unknown as Record<string, unknown>
        expect(config[newName]).toBe(value)
        resolveWith({ [oldName]: value })
        const warnings = warn.mock.calls.filter(
          ([, options]) => (options as { code?: string } | undefined)?.code === code,
        )
        expect(warnings).toEqual([
          [
            `tokenEndpoint: option "${oldName}" is deprecated and will be removed in the next major version; use "${newName}" (same value)`,
            { type: 'DeprecationWarning', code },
          ],
        ])
      } finally {
        warn.mockRestore()
      }
    })

    it('checks a value given under an old name by the new name’s rule', () => {
      vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined)
      try {
        expectOptionError(
          { accessTokenTtl: 0 },
          /^tokenEndpoint: option "accessTokenTtlSeconds" must be an integer from 1 to 86400$/,
        )
      } finally {
        vi.restoreAllMocks()
      }
    })

    it('refuses an old name together with its new name', () => {
      expectOptionError(
        { hookTimeout: 10, hookTimeoutMs: 10 },
        /^tokenEndpoint: options "hookTimeout" and "hookTimeoutMs" are the same option; keep only "hookTimeoutMs"$/,
      )
    })
  })
})
