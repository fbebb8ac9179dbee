import { generateKeyPairSync } from 'node:crypto'
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JWTVerifyOptions } from 'jose'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { signAccessToken, type AccessTokenClaims } from '../../src/tokens/issue-token.js'
import { importSigningKeys, type SigningKeySet } from '../../src/tokens/signing-keys.js'

const ISSUER = 'https://auth.example.com'
const AUDIENCE = 'https://api.example.com'
const HS_SECRET = 'an HS256 test secret of 32+ bytes!!'

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey
const rsaNext = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
const pss = generateKeyPairSync('rsa-pss', {
  modulusLength: 2048,
  hashAlgorithm: 'sha256',
  mgf1HashAlgorithm: 'sha256',
}).privateKey

const REQUIRED_CLAIMS = ['iss', 'sub', 'client_id', 'aud', 'scope', 'iat', 'exp', 'jti']

function verifyOptions(alg: string): JWTVerifyOptions {
  return {
    issuer: ISSUER,
    audience: AUDIENCE,
    algorithms: [alg],
    typ: 'at+jwt',
    requiredClaims: REQUIRED_CLAIMS,
  }
}

/** jose's view of our JWKS (a mutable copy: ours is frozen and typed readonly). */
function localJwks(keySet: SigningKeySet): ReturnType<typeof createLocalJWKSet> {
  return createLocalJWKSet(structuredClone(keySet.jwks) as Parameters<typeof createLocalJWKSet>[0])
}

function sign(
  keySet: SigningKeySet,
  overrides: Partial<Parameters<typeof signAccessToken>[0]> = {},
): { token: string; claims: AccessTokenClaims } {
  return signAccessToken({
    keySet,
    issuer: ISSUER,
    clientId: 'billing',
    audience: AUDIENCE,
    scope: 'invoices:read invoices:write',
    ttl: 300,
    ...overrides,
  })
}

afterEach(() => {
  vi.useRealTimers()
})

describe('signAccessToken', () => {
  describe.each([
    ['RS256', 'RS256', rsa],
    ['PS256', 'PS256', rsa],
    ['PS256 and an RSA-PSS key', 'PS256', pss],
    ['ES256', 'ES256', ec],
  ] as const)('with %s', (_label, alg, privateKey) => {
    const keySet = importSigningKeys([{ kid: `kid-${alg}`, alg, privateKey }])

    it('signs a token that jose verifies against the published JWKS', async () => {
      const { token, claims } = sign(keySet)
      const { payload, protectedHeader } = await jwtVerify(
        token,
        localJwks(keySet),
        verifyOptions(alg),
      )
      expect(protectedHeader).toEqual({ alg, kid: `kid-${alg}`, typ: 'at+jwt' })
      expect(payload).toEqual(claims)
    })
  })

  it('signs an HS256 token that jose verifies with the shared secret', async () => {
    const keySet = importSigningKeys([{ kid: 'shared', alg: 'HS256', secret: HS_SECRET }])
    const { token, claims } = sign(keySet)
    const { payload, protectedHeader } = await jwtVerify(
      token,
      new TextEncoder().encode(HS_SECRET),
      verifyOptions('HS256'),
    )
    expect(protectedHeader).toEqual({ alg: 'HS256', kid: 'shared', typ: 'at+jwt' })
    expect(payload).toEqual(claims)
  })

  it('sets the RFC 9068 claims from its input and the clock', () => {
    vi.useFakeTimers()
    vi.setSystemTime(new Date('2030-01-01T00:00:00.999Z'))
    const keySet = importSigningKeys([{ kid: 'k', alg: 'ES256', privateKey: ec }])
    const { claims } = sign(keySet, { ttl: 600, audience: ['urn:a', 'urn:b'], scope: '' })
    const now = Date.UTC(2030, 0, 1) / 1000
    expect(claims).toEqual({
      iss: ISSUER,
      sub: 'billing',
      client_id: 'billing',
      aud: ['urn:a', 'urn:b'],
      scope: '',
      iat: now,
      exp: now + 600,
      jti: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/) as string,
    })
  })

  it('returns exactly the claims it signed', () => {
    const keySet = importSigningKeys([{ kid: 'k', alg: 'ES256', privateKey: ec }])
    const { token, claims } = sign(keySet, { extraClaims: { tenant: 't-1' } })
    const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as object
    expect(payload).toEqual(claims)
  })

  it('gives every token a different 128-bit jti', () => {
    const keySet = importSigningKeys([{ kid: 'k', alg: 'HS256', secret: HS_SECRET }])
    const jtis = new Set<string>()
    // More than one batch of the random pool.
    for (let i = 0; i < 600; i++) jtis.add(sign(keySet).claims.jti)
    expect(jtis.size).toBe(600)
    for (const jti of jtis) expect(Buffer.from(jti, 'base64url')).toHaveLength(16)
  })

  it('adds extra claims next to the reserved ones', async () => {
    const keySet = importSigningKeys([{ kid: 'k', alg: 'ES256', privateKey: ec }])
    const { token } = sign(keySet, {
      extraClaims: { tenant: 't-1', roles: ['a', 'b'], skipped: undefined },
    })
    const { payload } = await jwtVerify(token, localJwks(keySet), verifyOptions('ES256'))
    expect(payload).toMatchObject({ tenant: 't-1', roles: ['a', 'b'], client_id: 'billing' })
    expect(payload).not.toHaveProperty('skipped')
  })

  it.each([
    'iss',
    'sub',
    'aud',
    'exp',
    'nbf',
    'iat',
    'jti',
    'client_id',
    'scope',
    'cnf',
    'act',
    'may_act',
    'typ',
  ])('throws a TypeError when extra claims try to set the reserved claim %s', (claim) => {
    const keySet = importSigningKeys([{ kid: 'k', alg: 'ES256', privateKey: ec }])
    expect(() => sign(keySet, { extraClaims: { [claim]: 'attacker' } })).toThrow(
      new TypeError(`extraClaims may not set the reserved claim "${claim}"`),
    )
  })

  it('throws a TypeError for an own __proto__ key in extra claims', () => {
    const keySet = importSigningKeys([{ kid: 'k', alg: 'ES256', privateKey: ec }])
    const extra = JSON.parse('{"__proto__": {"scope": "admin"}}') as Record<string, unknown>
    expect(() => sign(keySet, { extraClaims: extra })).toThrow(/reserved claim "__proto__"/)
  })

  it('throws a TypeError for a toJSON method, which would replace the whole payload', () => {
    const keySet = importSigningKeys([{ kid: 'k', alg: 'ES256', privateKey: ec }])
    const extra = { toJSON: () => ({ iss: 'https://evil.example', sub: 'admin', exp: 9e9 }) }
    expect(() => sign(keySet, { extraClaims: extra })).toThrow(/reserved claim "toJSON"/)
  })

  it('throws a TypeError for extra claims that are not a plain object (a model instance)', () => {
    const keySet = importSigningKeys([{ kid: 'k', alg: 'ES256', privateKey: ec }])
    class Row {
      tenant = 't1'
    }
    expect(() =>
      sign(keySet, { extraClaims: new Row() as unknown as Record<string, unknown> }),
    ).toThrow(new TypeError('extraClaims must return a plain object'))
    expect(() =>
      sign(keySet, { extraClaims: new Map([['iss', 'x']]) as unknown as Record<string, unknown> }),
    ).toThrow(new TypeError('extraClaims must return a plain object'))
  })

  it('reads the keys of extra claims once, so a proxy cannot show a reserved claim late', () => {
    const keySet = importSigningKeys([{ kid: 'k', alg: 'ES256', privateKey: ec }])
    let calls = 0
    const extra = new Proxy(
      { tenant: 't1', iss: 'https://evil.example' },
      {
        ownKeys: (target) => (calls++ === 0 ? ['tenant'] : Reflect.ownKeys(target)),
      },
    )
    let token: string | undefined
    try {
      token = sign(keySet, { extraClaims: extra }).token
    } catch (err) {
      expect(err).toEqual(new TypeError('extraClaims may not set the reserved claim "iss"'))
    }
    if (token !== undefined) {
      const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as {
        iss: string
      }
      expect(payload.iss).toBe(ISSUER)
    }
  })

  it.each([
    ['null', null],
    ['an array', ['tenant']],
    ['a string', 'tenant'],
  ])('throws a TypeError when extra claims are %s', (_label, extra) => {
    const keySet = importSigningKeys([{ kid: 'k', alg: 'ES256', privateKey: ec }])
    expect(() =>
      sign(keySet, { extraClaims: extra as unknown as Record<string, unknown> }),
    ).toThrow(new TypeError('extraClaims must return a plain object'))
  })

  it.each([0, -1, 1.5, Number.NaN])('throws a TypeError for the ttl %s', (ttl) => {
    const keySet = importSigningKeys([{ kid: 'k', alg: 'ES256', privateKey: ec }])
    expect(() => sign(keySet, { ttl })).toThrow(TypeError)
  })

  it('throws a TypeError for an empty audience', () => {
    const keySet = importSigningKeys([{ kid: 'k', alg: 'ES256', privateKey: ec }])
    expect(() => sign(keySet, { audience: [] })).toThrow(TypeError)
    expect(() => sign(keySet, { audience: '' })).toThrow(TypeError)
  })

  describe('key rotation', () => {
    it('signs with the active key only, and the next key is already published', () => {
      const keySet = importSigningKeys([
        { kid: 'old', alg: 'RS256', privateKey: rsa, status: 'active' },
        { kid: 'new', alg: 'ES256', privateKey: ec, status: 'next' },
      ])
      expect(decodeProtectedHeader(sign(keySet).token).kid).toBe('old')
      expect(keySet.jwks.keys.map((k) => k.kid)).toEqual(['old', 'new'])
    })

    it('keeps tokens from the old key valid once the new key is active', async () => {
      const before = importSigningKeys([
        { kid: 'old', alg: 'RS256', privateKey: rsa },
        { kid: 'new', alg: 'RS256', privateKey: rsaNext, status: 'next' },
      ])
      const after = importSigningKeys([
        { kid: 'new', alg: 'RS256', privateKey: rsaNext, status: 'active' },
        { kid: 'old', alg: 'RS256', privateKey: rsa, status: 'retired' },
      ])
      const oldToken = sign(before).token
      const newToken = sign(after).token
      expect(decodeProtectedHeader(newToken).kid).toBe('new')

      const jwks = localJwks(after)
      await expect(jwtVerify(oldToken, jwks, verifyOptions('RS256'))).resolves.toMatchObject({
        protectedHeader: { kid: 'old' },
      })
      await expect(jwtVerify(newToken, jwks, verifyOptions('RS256'))).resolves.toMatchObject({
        protectedHeader: { kid: 'new' },
      })
    })

    it('produces tokens that fail verification once their key is dropped from the JWKS', async () => {
      const oldToken = sign(
        importSigningKeys([{ kid: 'old', alg: 'RS256', privateKey: rsa }]),
      ).token
      const onlyNew = importSigningKeys([{ kid: 'new', alg: 'RS256', privateKey: rsaNext }])
      const jwks = localJwks(onlyNew)
      await expect(jwtVerify(oldToken, jwks, verifyOptions('RS256'))).rejects.toMatchObject({
        code: 'ERR_JWKS_NO_MATCHING_KEY',
      })
    })
  })
})
