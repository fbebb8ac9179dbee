import { describe, expect, it } from 'vitest'
import {
  DEFAULTS,
  REQUIRE_TOKEN_KEYS,
  resolveTransportOptions,
  resolveVerifierOptions,
} from '../src/options.js'
import { AUDIENCE, HMAC_SECRET, ISSUER, rsaKeyPair } from './helpers.js'

const rsa = rsaKeyPair()
const base = { issuer: ISSUER, audience: AUDIENCE, keys: [rsa.publicKey] }

describe('resolveVerifierOptions', () => {
  it('applies the documented defaults', () => {
    const config = resolveVerifierOptions(base)
    expect(config).toMatchObject({
      issuer: ISSUER,
      audience: AUDIENCE,
      clockTolerance: 5,
      maxTokenAge: undefined,
      maxTokenLength: 8192,
      realm: 'api',
      scopeClaims: ['scope', 'scp'],
      cacheMax: 1000,
      isRevoked: undefined,
    })
    expect(config.algorithms).toEqual(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'])
    expect([...(config.headerPolicy.types ?? [])]).toEqual(['application/at+jwt'])
    expect(DEFAULTS.allowedTypes).toEqual(['at+jwt', 'application/at+jwt'])
  })

  it('keeps issuer and audience lists as arrays', () => {
    const config = resolveVerifierOptions({ ...base, issuer: ['a', 'b'], audience: ['c'] })
    expect(config.issuer).toEqual(['a', 'b'])
    expect(config.audience).toBe('c')
  })

  it.each([
    [{ ...base, issuer: undefined }, /options\.issuer is required/],
    [{ ...base, issuer: [] }, /options\.issuer is required/],
    [{ ...base, audience: undefined }, /options\.audience is required/],
    [{ ...base, audience: [''] }, /options\.audience must hold only non-empty strings/],
    [{ ...base, keys: undefined }, /One key source is required/],
    [{ ...base, jwksUri: 'https://x.example/jwks' }, /Only one key source/],
    [{ ...base, discover: true }, /Only one key source/],
    [{ ...base, keys: [] }, /options\.keys must be a non-empty array/],
    [{ ...base, jwks: { timeout: 1 } }, /options\.jwks applies only/],
    [
      {
        ...base,
        keys: undefined,
        discover: true,
        jwks: { jwksUri: 'https://elsewhere.example/jwks' },
      },
      /options\.jwks: unknown option "jwksUri"/,
    ],
    [
      { ...base, keys: undefined, jwksUri: 'https://x.example/jwks', jwks: { onEvent: () => 1 } },
      /options\.jwks: unknown option "onEvent"/,
    ],
    [{ ...base, algorithms: ['none'] }, /"none" is never accepted/],
    [{ ...base, algorithms: ['HS256'] }, /HS256 cannot be verified by any of options\.keys/],
    [{ ...base, algorithms: [] }, /options\.algorithms must be a non-empty array/],
    [{ ...base, clockTolerance: -1 }, /options\.clockTolerance/],
    [{ ...base, maxTokenAge: 0 }, /options\.maxTokenAge/],
    [{ ...base, maxTokenLength: 1.5 }, /options\.maxTokenLength/],
    [{ ...base, allowedTypes: [] }, /options\.allowedTypes/],
    [{ ...base, realm: 'a\nb' }, /options\.realm/],
    [{ ...base, scopeClaims: [] }, /options\.scopeClaims/],
    [{ ...base, cache: true }, /options\.cache/],
    [{ ...base, cache: { max: 0 } }, /options\.cache\.max/],
    [{ ...base, cache: { size: 5 } }, /Unknown option "cache\.size"/],
    [{ ...base, isRevoked: 'yes' }, /options\.isRevoked/],
    [{ ...base, keys: [{ secret: 'short' }] }, /at least 32 bytes/],
    [{ ...base, keys: [rsaKeyPair(1024).publicKey] }, /RSA key of 1024 bits/],
    [
      { ...base, keys: undefined, discover: true, issuer: ['a', 'b'] },
      /exactly one options\.issuer/,
    ],
  ])('throws a TypeError naming the problem (%#)', (options, message) => {
    expect(() => resolveVerifierOptions(options)).toThrow(TypeError)
    expect(() => resolveVerifierOptions(options)).toThrow(message)
  })

  it('throws a TypeError naming an unknown option', () => {
    expect(() => resolveVerifierOptions({ ...base, audiance: 'x' })).toThrow(
      'Unknown option "audiance"',
    )
  })

  it('points a transport option given to the verifier at requireToken', () => {
    expect(() => resolveVerifierOptions({ ...base, passErrors: true })).toThrow(
      /"passErrors" \(it is an option of requireToken\)/,
    )
    expect(() =>
      resolveVerifierOptions({ ...base, passErrors: true }, REQUIRE_TOKEN_KEYS),
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

describe('resolveTransportOptions', () => {
  it('defaults every location and mode to off', () => {
    expect(resolveTransportOptions({})).toEqual({
      body: false,
      query: false,
      credentialsOptional: false,
      passErrors: false,
    })
  })

  it('throws a TypeError for an unknown location and a non-boolean', () => {
    expect(() => resolveTransportOptions({ tokenLocations: { cookie: true } })).toThrow(
      'Unknown option "tokenLocations.cookie"',
    )
    expect(() => resolveTransportOptions({ passErrors: 'yes' })).toThrow(/options\.passErrors/)
  })
})
