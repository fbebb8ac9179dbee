import jwt from 'jsonwebtoken'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createTokenVerifier } from '../../src/verify/verifier.js'
import type { TokenVerifierOptions } from '../../src/options/types.js'
import { BearerError } from '../../src/errors.js'
import { jwks, json, startKeyServer, status, testKey } from '../../../core/test/jwks-server.js'
import type { TestKeyServer } from '../../../core/test/jwks-server.js'
import {
  accessClaims,
  AUDIENCE,
  craftToken,
  ecKeyPair,
  HMAC_SECRET,
  hmacKey,
  ISSUER,
  nowSeconds,
  rsaKeyPair,
  signToken,
} from '../helpers.js'

const rsa = rsaKeyPair()
const rsa2 = rsaKeyPair()
const ec384 = ecKeyPair('P-384')
const HEADER = { alg: 'RS256', typ: 'at+jwt', kid: 'k1' }

function verifier(
  overrides: Partial<TokenVerifierOptions> = {},
): ReturnType<typeof createTokenVerifier> {
  return createTokenVerifier({
    issuer: ISSUER,
    audience: AUDIENCE,
    keys: [{ key: rsa.publicKey, kid: 'k1' }],
    ...overrides,
  })
}

function remoteVerifier(
  jwksUri: string,
  extra: Partial<TokenVerifierOptions> = {},
): ReturnType<typeof createTokenVerifier> {
  return createTokenVerifier({ issuer: ISSUER, audience: AUDIENCE, jwksUri, ...extra })
}

function token(claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}): string {
  return craftToken({ ...HEADER, ...header }, accessClaims(claims), rsa.privateKey)
}

/**
 * What `verify(t)` must answer for the token `t`: that very token with its own header and claims,
 * decoded here independently of the verifier (every token carries a fresh jti, so another
 * token's result never matches).
 */
function authOf(t: string): { token: string; header: unknown; claims: unknown } {
  const [header, claims] = t
    .split('.', 2)
    .map((part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as unknown)
  return { token: t, header, claims }
}

async function rejection(promise: Promise<unknown>): Promise<BearerError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(BearerError.is(error)).toBe(true)
  return error as BearerError
}

afterEach(() => {
  vi.useRealTimers()
  vi.restoreAllMocks()
})

describe('createTokenVerifier', () => {
  it('returns frozen auth info with claims, scopes, client id and header', async () => {
    const t = token()
    const auth = await verifier().verify(t)
    expect(auth.token).toBe(t)
    expect(auth.header).toEqual(HEADER)
    expect(auth.claims.iss).toBe(ISSUER)
    expect(auth.scopes).toEqual(['reports:read', 'reports:write'])
    expect(auth.clientId).toBe('billing-service')
    expect(Object.isFrozen(auth)).toBe(true)
    expect(Object.isFrozen(auth.claims)).toBe(true)
    expect(Object.isFrozen(auth.scopes)).toBe(true)
  })

  it('reports the header as decoded for key selection, a non-ASCII kid intact', async () => {
    const v = verifier({ keys: [{ key: rsa.publicKey, kid: 'clé-1' }] })
    const auth = await v.verify(token({}, { kid: 'clé-1' }))
    expect(auth.header).toEqual({ ...HEADER, kid: 'clé-1' })
    expect(Object.isFrozen(auth.header)).toBe(true)
  })

  it('falls back to azp for the client id and leaves it undefined without either', async () => {
    const v = verifier()
    expect((await v.verify(token({ client_id: undefined, azp: 'svc' }))).clientId).toBe('svc')
    expect((await v.verify(token({ client_id: undefined }))).clientId).toBeUndefined()
  })

  it('reads scp arrays and custom scope claims', async () => {
    const v = verifier({ scopeClaims: ['scp', 'roles'] })
    const auth = await v.verify(token({ scope: undefined, scp: ['a', 'b'], roles: 'c a' }))
    expect(auth.scopes).toEqual(['a', 'b', 'c'])
  })

  it('accepts any issuer and audience of an allow-list', async () => {
    const v = verifier({ issuer: ['https://old.example', ISSUER], audience: ['x', AUDIENCE] })
    const t = token({ iss: ISSUER, aud: ['y', AUDIENCE] })
    const auth = await v.verify(t)
    expect(auth).toMatchObject(authOf(t))
    expect(auth).toMatchObject({ claims: { iss: ISSUER, aud: ['y', AUDIENCE] } })
  })

  it('rejects claims of the wrong type', async () => {
    const v = verifier()
    expect((await rejection(v.verify(token({ exp: 'tomorrow' })))).reason).toBe('invalid_claims')
    expect((await rejection(v.verify(token({ iat: 'now' })))).reason).toBe('invalid_claims')
    expect((await rejection(v.verify(token({ aud: [AUDIENCE, 7] })))).reason).toBe('invalid_claims')
  })

  it.each([
    ['an exp that JSON reads as Infinity', '"exp":1e999'],
    ['an nbf that JSON reads as -Infinity', '"nbf":-1e999'],
    ['an iat that JSON reads as -Infinity', '"iat":-1e999'],
  ])('rejects %s as invalid_claims', async (_label, member) => {
    // jsonwebtoken checks only typeof === 'number', which Infinity passes: a token that would
    // never expire (or an nbf no comparison can fail) must not get through.
    const claims = accessClaims()
    const name = member.slice(1, member.indexOf('"', 1))
    delete claims[name]
    const payload = `${JSON.stringify(claims).slice(0, -1)},${member}}`
    const t = craftToken(HEADER, payload, rsa.privateKey)
    expect((await rejection(verifier().verify(t))).reason).toBe('invalid_claims')
  })

  it('rejects a non-string token as malformed', async () => {
    const error = await rejection(verifier().verify(42 as unknown as string))
    expect(error.reason).toBe('malformed')
  })

  it('honours maxTokenLength', async () => {
    const error = await rejection(verifier({ maxTokenLength: 100 }).verify(token()))
    expect(error.reason).toBe('too_large')
  })

  it('accepts typ JWT only when allowed, and any typ with allowedTypes any', async () => {
    const plain = token({}, { typ: 'JWT' })
    expect((await rejection(verifier().verify(plain))).reason).toBe('bad_typ')
    const auth = await verifier({ allowedTypes: ['at+jwt', 'JWT'] }).verify(plain)
    expect(auth).toMatchObject(authOf(plain))
    expect(auth).toMatchObject({ header: { typ: 'JWT' } })
    const untyped = token({}, { typ: undefined })
    const anyTyp = await verifier({ allowedTypes: 'any' }).verify(untyped)
    expect(anyTyp).toMatchObject(authOf(untyped))
    expect(anyTyp.header).not.toHaveProperty('typ')
  })

  it('compares typ as a media type: case-insensitive, application/ optional', async () => {
    const t = token({}, { typ: 'Application/AT+JWT' })
    const auth = await verifier().verify(t)
    expect(auth).toMatchObject(authOf(t))
    expect(auth).toMatchObject({ header: { typ: 'Application/AT+JWT' } })
  })

  it('restricts the algorithms to the configured allow-list', async () => {
    const v = verifier({ algorithms: ['PS256'] })
    expect((await rejection(v.verify(token()))).reason).toBe('unsupported_alg')
    const pss = craftToken({ ...HEADER, alg: 'PS256' }, accessClaims(), rsa.privateKey)
    const auth = await v.verify(pss)
    expect(auth).toMatchObject(authOf(pss))
    expect(auth).toMatchObject({ header: { alg: 'PS256' } })
  })

  it('throws a TypeError for bad options at creation', () => {
    expect(() => verifier({ tokenLocations: {} } as Partial<TokenVerifierOptions>)).toThrow(
      /^createTokenVerifier: unknown option "tokenLocations" \(it is an option of requireToken\)$/,
    )
  })
})

describe('createTokenVerifier time checks', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(new Date('2030-06-01T12:00:00Z'))
  })

  it('applies the clock tolerance to nbf and iat', async () => {
    const now = nowSeconds()
    const v = verifier({ clockToleranceSeconds: 10 })
    const early = token({ nbf: now + 10, iat: now + 10 })
    const auth = await v.verify(early)
    expect(auth).toMatchObject(authOf(early))
    expect(auth).toMatchObject({ claims: { nbf: now + 10, iat: now + 10 } })
    expect((await rejection(v.verify(token({ nbf: now + 11 })))).reason).toBe('token_not_active')
    expect((await rejection(v.verify(token({ iat: now + 11 })))).reason).toBe('iat_in_future')
  })

  it('rejects a token older than maxTokenAgeSeconds and one without iat', async () => {
    const now = nowSeconds()
    const v = verifier({ maxTokenAgeSeconds: 60, clockToleranceSeconds: 0 })
    const young = token({ iat: now - 59 })
    const auth = await v.verify(young)
    expect(auth).toMatchObject(authOf(young))
    expect(auth).toMatchObject({ claims: { iat: now - 59 } })
    expect((await rejection(v.verify(token({ iat: now - 61 })))).reason).toBe('token_too_old')
    expect((await rejection(v.verify(token({ iat: undefined })))).reason).toBe('missing_iat')
  })

  it('re-runs the time checks on a cache hit', async () => {
    const now = nowSeconds()
    const v = verifier({ clockToleranceSeconds: 0 })
    const t = token({ iat: now, exp: now + 60 })
    await v.verify(t)
    const spy = vi.spyOn(jwt, 'verify')
    vi.setSystemTime((now + 59) * 1000)
    await expect(v.verify(t)).resolves.toMatchObject(authOf(t))
    vi.setSystemTime((now + 60) * 1000)
    expect((await rejection(v.verify(t))).reason).toBe('token_expired')
    expect(spy).not.toHaveBeenCalled()
  })

  it('re-checks maxTokenAgeSeconds on a cache hit', async () => {
    const now = nowSeconds()
    const v = verifier({ maxTokenAgeSeconds: 30, clockToleranceSeconds: 0 })
    const t = token({ iat: now, exp: now + 600 })
    await v.verify(t)
    vi.setSystemTime((now + 30) * 1000)
    expect((await rejection(v.verify(t))).reason).toBe('token_too_old')
  })
})

describe('createTokenVerifier cache', () => {
  it('verifies the signature once for repeated use of a token', async () => {
    const v = verifier()
    const t = token()
    const spy = vi.spyOn(jwt, 'verify')
    const first = await v.verify(t)
    const second = await v.verify(t)
    expect(spy).toHaveBeenCalledTimes(1)
    expect(second).toBe(first)
  })

  it('rejects a re-encoding of a cached token whose signature decodes to the same bytes', async () => {
    const v = verifier()
    const t = token()
    await v.verify(t)
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
    const last = alphabet.indexOf(t.charAt(t.length - 1))
    const variant = t.slice(0, -1) + alphabet.charAt(last ^ 1)
    const error = await rejection(v.verify(variant))
    expect(error.status).toBe(401)
    expect(error.reason).toBe('bad_signature')
  })

  it('never caches a failure', async () => {
    const v = verifier()
    const bad = token({ aud: 'https://other.example' })
    const spy = vi.spyOn(jwt, 'verify')
    await rejection(v.verify(bad))
    await rejection(v.verify(bad))
    expect(spy).toHaveBeenCalledTimes(2)
  })

  it('verifies every time with cache: false', async () => {
    const v = verifier({ cache: false })
    const t = token()
    const spy = vi.spyOn(jwt, 'verify')
    await v.verify(t)
    await v.verify(t)
    expect(spy).toHaveBeenCalledTimes(2)
  })

  it('keeps at most cache.max tokens', async () => {
    const v = verifier({ cache: { max: 1 } })
    const a = token()
    const b = token()
    const spy = vi.spyOn(jwt, 'verify')
    await v.verify(a)
    await v.verify(b)
    await v.verify(a)
    expect(spy).toHaveBeenCalledTimes(3)
  })
})

describe('createTokenVerifier isRevoked', () => {
  it('runs on every request, cached or not, with the claims', async () => {
    const isRevoked = vi.fn().mockReturnValueOnce(false).mockReturnValueOnce(true)
    const v = verifier({ isRevoked })
    const t = token({ jti: 'abc' })
    await v.verify(t)
    const error = await rejection(v.verify(t))
    expect(error.reason).toBe('revoked')
    expect(error.status).toBe(401)
    expect(isRevoked).toHaveBeenCalledTimes(2)
    expect(isRevoked).toHaveBeenLastCalledWith(expect.objectContaining({ iss: ISSUER, jti: 'abc' }))
  })

  it('adopts a thenable that is not a native promise', async () => {
    const thenable = { then: (resolve: (value: boolean) => void) => resolve(true) }
    const v = verifier({ isRevoked: () => thenable as unknown as Promise<boolean> })
    expect((await rejection(v.verify(token()))).reason).toBe('revoked')
  })

  it('awaits an async hook', async () => {
    const v = verifier({ isRevoked: () => Promise.resolve(true) })
    expect((await rejection(v.verify(token()))).reason).toBe('revoked')
  })

  it('fails closed with 503 when the hook throws, rejects or answers a non-boolean', async () => {
    const hooks = [
      (): boolean => {
        throw new Error('redis down\nwith a newline')
      },
      (): Promise<boolean> => Promise.reject(new Error('timeout')),
      (): boolean => undefined as unknown as boolean,
    ]
    for (const isRevoked of hooks) {
      const error = await rejection(verifier({ isRevoked }).verify(token()))
      expect(error.status).toBe(503)
      expect(error.reason).toBe('revocation_check_failed')
      expect(error.headers['Retry-After']).toBe('30')
      expect(error.message).not.toContain('redis')
    }
  })
})

describe('createTokenVerifier revocationTimeoutMs', () => {
  it('fails closed with 503 when an async hook does not answer within revocationTimeoutMs', async () => {
    const v = verifier({
      isRevoked: () => new Promise<boolean>(() => undefined),
      revocationTimeoutMs: 20,
    })
    const error = await rejection(v.verify(token()))
    expect(error.status).toBe(503)
    expect(error.reason).toBe('revocation_check_failed')
  })

  it('uses the answer of a hook that answers within revocationTimeoutMs', async () => {
    const slowNo = (): Promise<boolean> =>
      new Promise((resolve) => setTimeout(() => resolve(false), 5))
    const v = verifier({ isRevoked: slowNo, revocationTimeoutMs: 1000 })
    expect((await v.verify(token())).claims.iss).toBe(ISSUER)
  })

  it.each([0, 1.5, 60_001, '100'])(
    'refuses revocationTimeoutMs %s with a TypeError naming it',
    (value) => {
      expect(() => verifier({ revocationTimeoutMs: value as number })).toThrow(
        /^createTokenVerifier: option "revocationTimeoutMs" must be an integer from 1 to 60000$/,
      )
    },
  )
})

describe('createTokenVerifier key selection', () => {
  it('picks the key named by kid among several', async () => {
    const v = verifier({
      keys: [
        { key: rsa.publicKey, kid: 'k1' },
        { key: rsa2.publicKey, kid: 'k2' },
      ],
    })
    const t = craftToken({ ...HEADER, kid: 'k2' }, accessClaims(), rsa2.privateKey)
    expect((await v.verify(t)).header.kid).toBe('k2')
    const wrong = craftToken({ ...HEADER, kid: 'k1' }, accessClaims(), rsa2.privateKey)
    expect((await rejection(v.verify(wrong))).reason).toBe('bad_signature')
  })

  it('tries every suitable key when the token has no kid', async () => {
    const v = verifier({ keys: [rsa.publicKey, rsa2.publicKey] })
    const t = craftToken({ alg: 'RS256', typ: 'at+jwt' }, accessClaims(), rsa2.privateKey)
    await expect(v.verify(t)).resolves.toMatchObject(authOf(t))
  })

  it('stops at the first key that verifies the signature but refuses a claim, and names that claim', async () => {
    // Without kid both keys are candidates; the right key comes first and finds the wrong
    // audience, and trying the other key must not turn that into bad_signature.
    const v = verifier({ keys: [rsa.publicKey, rsa2.publicKey] })
    const t = craftToken(
      { alg: 'RS256', typ: 'at+jwt' },
      accessClaims({ aud: 'https://elsewhere.example' }),
      rsa.privateKey,
    )
    expect((await rejection(v.verify(t))).reason).toBe('wrong_audience')
  })

  it('answers bad_signature when no candidate key verifies the token', async () => {
    const v = verifier({ keys: [rsa.publicKey, rsa2.publicKey] })
    const t = craftToken({ alg: 'RS256', typ: 'at+jwt' }, accessClaims(), rsaKeyPair().privateKey)
    expect((await rejection(v.verify(t))).reason).toBe('bad_signature')
  })

  it('uses keys configured without kid for any kid', async () => {
    const v = verifier({ keys: [rsa.publicKey] })
    const t = token({}, { kid: 'rotated-in' })
    const auth = await v.verify(t)
    expect(auth).toMatchObject(authOf(t))
    expect(auth).toMatchObject({ header: { kid: 'rotated-in' } })
  })

  it('verifies HS256 with an HMAC secret, and never with an RSA key', async () => {
    const v = verifier({ keys: [{ secret: HMAC_SECRET }] })
    const hs = craftToken({ alg: 'HS256', typ: 'at+jwt' }, accessClaims(), hmacKey())
    const auth = await v.verify(hs)
    expect(auth).toMatchObject(authOf(hs))
    expect(auth).toMatchObject({ header: { alg: 'HS256' } })
    expect((await rejection(v.verify(token()))).reason).toBe('unsupported_alg')
  })

  it('verifies ES384 with a P-384 key', async () => {
    const v = verifier({ keys: [ec384.publicKey] })
    const t = craftToken({ alg: 'ES384', typ: 'at+jwt' }, accessClaims(), ec384.privateKey)
    const auth = await v.verify(t)
    expect(auth).toMatchObject(authOf(t))
    expect(auth).toMatchObject({ header: { alg: 'ES384' } })
  })
})

describe('createTokenVerifier interop', () => {
  it.each([
    ['RS256', rsa.privateKey, rsa.publicKey],
    ['PS256', rsa.privateKey, rsa.publicKey],
    ['ES384', ec384.privateKey, ec384.publicKey],
  ] as const)('verifies a %s token from jose SignJWT', async (alg, privateKey, publicKey) => {
    const v = verifier({ keys: [publicKey] })
    const t = await signToken(accessClaims(), privateKey, { alg })
    await expect(v.verify(t)).resolves.toMatchObject({ ...authOf(t), clientId: 'billing-service' })
  })
})

describe('createTokenVerifier with a remote JWKS', () => {
  let server: TestKeyServer
  const key = testKey('remote-1')

  beforeEach(async () => {
    server = await startKeyServer()
    return () => server.close()
  })

  function remoteToken(kid = 'remote-1'): string {
    return craftToken({ alg: 'RS256', typ: 'at+jwt', kid }, accessClaims(), key.privateKey)
  }

  it('verifies a token with a key from jwksUri', async () => {
    server.route('/jwks.json', json(jwks(key)))
    const v = remoteVerifier(server.url('/jwks.json'))
    await v.ready
    const t = remoteToken()
    const auth = await v.verify(t)
    expect(auth).toMatchObject(authOf(t))
    expect(auth).toMatchObject({ header: { kid: 'remote-1' }, clientId: 'billing-service' })
    expect(server.hits('/jwks.json')).toBe(1)
    v.close()
  })

  it('finds the JWKS through discovery', async () => {
    server.route(
      '/.well-known/oauth-authorization-server',
      json({ issuer: server.origin, jwks_uri: server.url('/keys') }),
    )
    server.route('/keys', json(jwks(key)))
    const v = createTokenVerifier({ issuer: server.origin, audience: AUDIENCE, discover: true })
    const t = craftToken(
      { alg: 'RS256', typ: 'at+jwt', kid: 'remote-1' },
      accessClaims({ iss: server.origin }),
      key.privateKey,
    )
    const auth = await v.verify(t)
    expect(auth).toMatchObject(authOf(t))
    expect(auth).toMatchObject({ claims: { iss: server.origin } })
    v.close()
  })

  it('answers an unknown kid with 401 invalid_token', async () => {
    server.route('/jwks.json', json(jwks(key)))
    const v = remoteVerifier(server.url('/jwks.json'))
    const error = await rejection(v.verify(remoteToken('other')))
    expect(error.status).toBe(401)
    expect(error.reason).toBe('unknown_kid')
    v.close()
  })

  it('answers 503 with Retry-After when no key set can be had', async () => {
    server.route('/jwks.json', status(500))
    const v = remoteVerifier(server.url('/jwks.json'))
    await expect(v.ready).rejects.toMatchObject({ status: 503 })
    const error = await rejection(v.verify(remoteToken()))
    expect(error.status).toBe(503)
    expect(error.reason).toBe('key_source_unavailable')
    expect(error.code).toBe('temporarily_unavailable')
    expect(Number(error.headers['Retry-After'])).toBeGreaterThan(0)
    v.close()
  })

  it('never lets the JWKS verify HS256', () => {
    expect(() => remoteVerifier(server.url('/jwks.json'), { algorithms: ['HS256'] })).toThrow(
      TypeError,
    )
  })
})

describe('createTokenVerifier stats', () => {
  it('reports static keys, the cache size and its hits and misses', async () => {
    const v = verifier({ cache: { max: 10 } })
    const t = token()
    await v.verify(t)
    await v.verify(t)
    await v.verify(token())
    await v.verify('x.y.z').catch(() => undefined)
    expect(v.stats()).toEqual({
      keySource: 'static',
      keys: 1,
      cache: { size: 2, max: 10, hits: 1, misses: 3 },
      jwks: undefined,
    })
  })

  it('reports a cache that is off as max 0, every verification a miss', async () => {
    const v = verifier({ cache: false })
    const t = token()
    await v.verify(t)
    await v.verify(t)
    expect(v.stats().cache).toEqual({ size: 0, max: 0, hits: 0, misses: 2 })
  })

  describe('with a remote JWKS', () => {
    let server: TestKeyServer
    const key = testKey('remote-1')
    beforeEach(async () => {
      server = await startKeyServer()
      return () => server.close()
    })

    it('reports the key count and the freshness of the key set', async () => {
      server.route('/jwks.json', json(jwks(key), { 'cache-control': 'max-age=60' }))
      const started = Date.now()
      const v = remoteVerifier(server.url('/jwks.json'))
      try {
        await v.ready
        const { jwks: set, ...rest } = v.stats()
        expect(rest).toEqual({
          keySource: 'remote',
          keys: 1,
          cache: { size: 0, max: 1000, hits: 0, misses: 0 },
        })
        expect(set).toMatchObject({
          fresh: true,
          fetches: 1,
          lastError: undefined,
          consecutiveFailures: 0,
          staleServed: 0,
        })
        expect(set?.lastSuccessAt).toBeGreaterThanOrEqual(started)
        expect(set?.lastFetchAt).toBeGreaterThanOrEqual(started)
        expect(set?.expiresAt).toBe((set?.lastSuccessAt ?? 0) + 60_000)
      } finally {
        v.close()
      }
    })

    it('counts the lookups answered from the stale key set while the JWKS fails', async () => {
      vi.useFakeTimers({ toFake: ['Date'] })
      server.route('/jwks.json', json(jwks(key), { 'cache-control': 'max-age=60' }))
      const v = remoteVerifier(server.url('/jwks.json'))
      try {
        await v.ready
        server.route('/jwks.json', status(503))
        vi.setSystemTime(Date.now() + 61_000)
        const t = craftToken(
          { alg: 'RS256', typ: 'at+jwt', kid: 'remote-1' },
          accessClaims(),
          key.privateKey,
        )
        await v.verify(t)
        expect(v.stats().jwks).toMatchObject({
          fresh: false,
          staleServed: 1,
          lastError: 'http_status',
        })
      } finally {
        v.close()
      }
    })

    it('reports a key set that never loaded as not fresh, with the failure', async () => {
      server.route('/jwks.json', status(500))
      const v = remoteVerifier(server.url('/jwks.json'))
      try {
        await v.ready.catch(() => undefined)
        expect(v.stats()).toMatchObject({
          keys: 0,
          jwks: {
            fresh: false,
            fetches: 1,
            lastSuccessAt: undefined,
            expiresAt: undefined,
            lastError: 'http_status',
            consecutiveFailures: 1,
          },
        })
      } finally {
        v.close()
      }
    })
  })
})
