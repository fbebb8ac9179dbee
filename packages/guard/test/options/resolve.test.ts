import { afterEach, describe, expect, expectTypeOf, it, vi } from 'vitest'
import { forgetWarnings, type OptionTable } from '@ccflow/core'
import {
  REQUIRE_TOKEN_OPTIONS,
  resolveTransportOptions,
  resolveVerifierOptions,
  TOKEN_VERIFIER_DEFAULTS,
  TOKEN_VERIFIER_OPTIONS,
} from '../../src/options/resolve.js'
import type { TokenVerifierOptions } from '../../src/options/types.js'
import { AUDIENCE, HMAC_SECRET, ISSUER, rsaKeyPair } from '../helpers.js'

const rsa = rsaKeyPair()
const base = { issuer: ISSUER, audience: AUDIENCE, keys: [rsa.publicKey] }

describe('resolveVerifierOptions', () => {
  it('applies the documented defaults', () => {
    const config = resolveVerifierOptions(base)
    expect(config).toMatchObject({
      issuer: ISSUER,
      audience: AUDIENCE,
      clockToleranceSeconds: 5,
      maxTokenAgeSeconds: undefined,
      revocationTimeoutMs: 2000,
      maxTokenLength: 8192,
      realm: 'api',
      scopeClaims: ['scope', 'scp'],
      cacheMax: 1000,
      isRevoked: undefined,
    })
    expect(config.algorithms).toEqual(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'])
    expect([...(config.headerPolicy.types ?? [])]).toEqual(['application/at+jwt'])
    expect(TOKEN_VERIFIER_DEFAULTS.allowedTypes).toEqual(['at+jwt', 'application/at+jwt'])
  })

  it('resolves every optional option set to undefined, deprecated ones included, as absent', () => {
    const optional = Object.keys(TOKEN_VERIFIER_OPTIONS).filter(
      (name) => !['issuer', 'audience', 'keys'].includes(name),
    )
    const everyUndefined = Object.fromEntries(optional.map((name) => [name, undefined]))
    const { keySource, ...config } = resolveVerifierOptions({ ...base, ...everyUndefined })
    const { keySource: expectedSource, ...expected } = resolveVerifierOptions(base)
    expect(config).toStrictEqual(expected)
    expect(keySource.type).toBe(expectedSource.type)
  })

  it('keeps issuer and audience lists as arrays', () => {
    const config = resolveVerifierOptions({ ...base, issuer: ['a', 'b'], audience: ['c'] })
    expect(config.issuer).toEqual(['a', 'b'])
    expect(config.audience).toBe('c')
  })

  it.each([
    [{ ...base, issuer: undefined }, /^F: option "issuer" is required: a non-empty string/],
    [{ ...base, issuer: [] }, /^F: option "issuer" is required/],
    [{ ...base, audience: undefined }, /^F: option "audience" is required/],
    [{ ...base, audience: [''] }, /^F: option "audience" must hold only non-empty strings$/],
    [{ ...base, keys: undefined }, /^F: option "keys" is required: give one key source/],
    [
      { ...base, jwksUri: 'https://x.example/jwks' },
      /^F: options "keys", "jwksUri" and "discover" are key sources; give only one$/,
    ],
    [{ ...base, discover: true }, /give only one/],
    [{ ...base, keys: [] }, /^F: option "keys" must be a non-empty array$/],
    [
      { ...base, jwks: { timeoutMs: 1 } },
      /^F: option "jwks" applies only with "jwksUri" or "discover"$/,
    ],
    [
      {
        ...base,
        keys: undefined,
        discover: true,
        jwks: { jwksUri: 'https://elsewhere.example/jwks' },
      },
      /^F: unknown option "jwks\.jwksUri"$/,
    ],
    [
      { ...base, keys: undefined, jwksUri: 'https://x.example/jwks', jwks: { onEvent: () => 1 } },
      /^F: unknown option "jwks\.onEvent"$/,
    ],
    [
      { ...base, keys: undefined, jwksUri: 'https://x.example/jwks', jwks: { cooldownSecs: 1 } },
      /^F: unknown option "jwks\.cooldownSecs" \(did you mean "jwks\.cooldownSeconds"\?\)$/,
    ],
    [{ ...base, algorithms: ['none'] }, /^F: option "algorithms" must not hold "none"/],
    [
      { ...base, algorithms: ['HS256'] },
      /^F: option "algorithms" holds HS256, which none of "keys" can verify$/,
    ],
    [{ ...base, algorithms: [] }, /^F: option "algorithms" must be a non-empty array$/],
    [
      { ...base, clockToleranceSeconds: -1 },
      /^F: option "clockToleranceSeconds" must be a number ≥ 0$/,
    ],
    [
      { ...base, clockToleranceSeconds: '5' },
      /^F: option "clockToleranceSeconds" must be a number ≥ 0$/,
    ],
    [{ ...base, maxTokenAgeSeconds: 0 }, /^F: option "maxTokenAgeSeconds" must be a number/],
    [{ ...base, maxTokenLength: 1.5 }, /^F: option "maxTokenLength" must be an integer ≥ 1$/],
    [{ ...base, allowedTypes: [] }, /^F: option "allowedTypes"/],
    [{ ...base, realm: 'a\nb' }, /^F: option "realm" must be a string of printable ASCII/],
    [{ ...base, scopeClaims: [] }, /^F: option "scopeClaims"/],
    [{ ...base, cache: true }, /^F: option "cache" must be false or \{ max \}$/],
    [{ ...base, cache: { max: 0 } }, /^F: option "cache\.max" must be an integer ≥ 1$/],
    [{ ...base, cache: { size: 5 } }, /^F: unknown option "cache\.size"$/],
    [{ ...base, isRevoked: 'yes' }, /^F: option "isRevoked" must be a function$/],
    [
      { ...base, revocationTimeoutMs: 0 },
      /^F: option "revocationTimeoutMs" must be an integer from 1 to 60000$/,
    ],
    [{ ...base, keys: [{ secret: 'short' }] }, /at least 32 bytes/],
    [{ ...base, keys: [rsaKeyPair(1024).publicKey] }, /RSA key of 1024 bits/],
    [
      { ...base, keys: undefined, discover: true, issuer: ['a', 'b'] },
      /^F: option "issuer" must be exactly one issuer with "discover: true"$/,
    ],
  ])('throws a TypeError naming the problem (%#)', (options, message) => {
    expect(() => resolveVerifierOptions(options, 'F')).toThrow(TypeError)
    expect(() => resolveVerifierOptions(options, 'F')).toThrow(message)
  })

  it('throws a TypeError naming an unknown option and the nearest known one', () => {
    expect(() => resolveVerifierOptions({ ...base, audiance: 'x' }, 'requireToken')).toThrow(
      /^requireToken: unknown option "audiance" \(did you mean "audience"\?\)$/,
    )
  })

  it('names createTokenVerifier by default', () => {
    expect(() => resolveVerifierOptions({ ...base, clockToleranceSeconds: -1 })).toThrow(
      /^createTokenVerifier: option "clockToleranceSeconds"/,
    )
  })

  it.each([
    ['clockTolerance', 'clockToleranceSeconds', 30, 'CCFLOW_DEP_CLOCK_TOLERANCE'],
    ['maxTokenAge', 'maxTokenAgeSeconds', 600, 'CCFLOW_DEP_MAX_TOKEN_AGE'],
    ['revocationTimeout', 'revocationTimeoutMs', 300, 'CCFLOW_DEP_REVOCATION_TIMEOUT'],
  ])(
    'still accepts the deprecated %s (as %s), warning once per process',
    (oldName, newName, value, code) => {
      const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined)
      try {
        const config = resolveVerifierOptions({ ...base, [oldName]: value }, 'requireToken')
        expect((config as unknown as Record<string, unknown>)[newName]).toBe(value)
        resolveVerifierOptions({ ...base, [oldName]: value }, 'requireToken')
        const warnings = warn.mock.calls.filter(
          ([, options]) => (options as { code?: string } | undefined)?.code === code,
        )
        expect(warnings).toEqual([
          [
            `requireToken: option "${oldName}" is deprecated and will be removed in the next major version; use "${newName}" (same value)`,
            { type: 'DeprecationWarning', code },
          ],
        ])
      } finally {
        warn.mockRestore()
      }
    },
  )

  it('refuses a deprecated name together with its replacement', () => {
    expect(() =>
      resolveVerifierOptions(
        { ...base, clockTolerance: 1, clockToleranceSeconds: 1 },
        'requireToken',
      ),
    ).toThrow(
      /^requireToken: options "clockTolerance" and "clockToleranceSeconds" are the same option; keep only "clockToleranceSeconds"$/,
    )
  })

  it('lists every option of TokenVerifierOptions in its table, checked by the compiler', () => {
    expectTypeOf(TOKEN_VERIFIER_OPTIONS).toEqualTypeOf<OptionTable<TokenVerifierOptions>>()
    const rest: Omit<
      OptionTable<TokenVerifierOptions>,
      'revocationTimeoutMs'
    > = TOKEN_VERIFIER_OPTIONS
    // @ts-expect-error a table that leaves out an option (here revocationTimeoutMs) does not compile
    const missing: OptionTable<TokenVerifierOptions> = rest
    expect(missing).toBe(TOKEN_VERIFIER_OPTIONS)
  })

  it('points a transport option given to the verifier at requireToken', () => {
    expect(() => resolveVerifierOptions({ ...base, passErrors: true })).toThrow(
      /^createTokenVerifier: unknown option "passErrors" \(it is an option of requireToken\)$/,
    )
    expect(() =>
      resolveVerifierOptions({ ...base, passErrors: true }, 'requireToken', REQUIRE_TOKEN_OPTIONS),
    ).not.toThrow()
  })

  it('accepts allowedTypes any', () => {
    expect(
      resolveVerifierOptions({ ...base, allowedTypes: 'any' }).headerPolicy.types,
    ).toBeUndefined()
  })

  it('turns the cache off with false', () => {
    expect(resolveVerifierOptions({ ...base, cache: false }).cacheMax).toBe(0)
  })

  it('derives HS256 for an HMAC secret and every asymmetric algorithm for a JWKS', () => {
    expect(resolveVerifierOptions({ ...base, keys: [{ secret: HMAC_SECRET }] }).algorithms).toEqual(
      ['HS256'],
    )
    const remote = resolveVerifierOptions({
      issuer: ISSUER,
      audience: AUDIENCE,
      jwksUri: 'https://auth.example.com/jwks.json',
    })
    expect(remote.algorithms).not.toContain('HS256')
    expect(remote.algorithms).toContain('ES256')
    expect(remote.keySource).toMatchObject({ type: 'remote', discover: false })
  })
})

describe('resolveVerifierOptions (static keys)', () => {
  afterEach(() => {
    forgetWarnings('')
    vi.restoreAllMocks()
  })

  it.each([
    [
      [rsa.publicKey, rsaKeyPair(1024).publicKey],
      /^F: option "keys\[1\]" is an RSA key of 1024 bits/,
    ],
    [[{ secret: 'x'.repeat(31) }], /^F: option "keys\[0\]\.secret" must be at least 32 bytes$/],
    [[{ kty: 'oct' }], /^F: option "keys\[0\]" is an oct JWK without "k"$/],
  ])('names a bad key in the one option format: F: option "keys[i]…" (%#)', (keys, message) => {
    expect(() => resolveVerifierOptions({ ...base, keys }, 'F')).toThrow(message)
  })

  it.each([
    ['a private KeyObject', () => rsa.privateKey],
    ['a PEM private key', () => rsa.privateKey.export({ type: 'pkcs8', format: 'pem' })],
    ['a private JWK', () => rsa.privateKey.export({ format: 'jwk' })],
    ['a private key wrapped in { key }', () => ({ key: rsa.privateKey, kid: 'k1' })],
  ])('warns once, naming the option, when a static key is %s', (_name, key) => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined)
    resolveVerifierOptions({ ...base, keys: [rsa.publicKey, key()] }, 'F')
    resolveVerifierOptions({ ...base, keys: [rsa.publicKey, key()] }, 'F')
    expect(warn).toHaveBeenCalledTimes(1)
    expect(warn).toHaveBeenCalledWith(
      expect.stringMatching(/^F: option "keys\[1\]" is a private key; .*give the public key/),
      { code: 'CCFLOW_GUARD_PRIVATE_KEY' },
    )
  })

  it('does not warn for public keys and secrets', () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined)
    resolveVerifierOptions({
      ...base,
      keys: [
        rsa.publicKey,
        rsa.publicKey.export({ type: 'spki', format: 'pem' }),
        rsa.publicKey.export({ format: 'jwk' }),
        { secret: HMAC_SECRET },
      ],
    })
    expect(warn).not.toHaveBeenCalled()
  })
})

describe('resolveVerifierOptions (onEvent)', () => {
  it('keeps the hook and refuses one that is not a function', () => {
    const onEvent = vi.fn()
    expect(resolveVerifierOptions({ ...base, onEvent }).onEvent).toBe(onEvent)
    expect(() => resolveVerifierOptions({ ...base, onEvent: 'log' }, 'F')).toThrow(
      /^F: option "onEvent" must be a function$/,
    )
  })
})

describe('resolveTransportOptions', () => {
  it('defaults every location and mode to off, also when they are set to undefined', () => {
    expect(
      resolveTransportOptions({
        tokenLocations: { body: undefined, query: undefined },
        credentialsOptional: undefined,
        passErrors: undefined,
      }),
    ).toStrictEqual(resolveTransportOptions({}))
    expect(resolveTransportOptions({ tokenLocations: undefined })).toStrictEqual(
      resolveTransportOptions({}),
    )
    expect(resolveTransportOptions({})).toEqual({
      body: false,
      query: false,
      credentialsOptional: false,
      passErrors: false,
    })
  })

  it('throws a TypeError for an unknown location and a non-boolean', () => {
    expect(() => resolveTransportOptions({ tokenLocations: { cookie: true } })).toThrow(
      /^requireToken: unknown option "tokenLocations\.cookie"$/,
    )
    expect(() => resolveTransportOptions({ tokenLocations: { bdy: true } })).toThrow(
      /^requireToken: unknown option "tokenLocations\.bdy" \(did you mean "tokenLocations\.body"\?\)$/,
    )
    expect(() => resolveTransportOptions({ passErrors: 'yes' })).toThrow(
      /^requireToken: option "passErrors" must be a boolean$/,
    )
  })
})
