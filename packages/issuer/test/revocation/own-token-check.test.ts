import { generateKeyPairSync } from 'node:crypto'
import jwt from 'jsonwebtoken'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { signAccessToken } from '../../src/tokens/issue-token.js'
import {
  generateSigningKey,
  importSigningKeys,
  type SigningKeyInput,
} from '../../src/tokens/signing-keys.js'
import { createOwnTokenChecker } from '../../src/revocation/own-token-check.js'

const ISSUER = 'https://auth.example.com'
const HMAC_SECRET = 'test-only-hmac-secret-0123456789-abcdef'

const rs = generateSigningKey('RS256', { kid: 'rs-1' })
const es = generateSigningKey('ES256', { kid: 'es-old' })
const ps = generateSigningKey('PS256', { kid: 'ps-next' })
const keys: SigningKeyInput[] = [
  { kid: rs.kid, alg: 'RS256', privateKey: rs.privateKey, status: 'active' },
  { kid: es.kid, alg: 'ES256', privateKey: es.privateKey, status: 'retired' },
  { kid: ps.kid, alg: 'PS256', privateKey: ps.privateKey, status: 'next' },
  { kid: 'hs-1', alg: 'HS256', secret: HMAC_SECRET, status: 'retired' },
]
const checker = createOwnTokenChecker(keys, ISSUER)

/** A token as the endpoint signs it, with `keyIndex` as the active key. */
function issued(keyIndex = 0, ttl = 300, issuer = ISSUER): string {
  const input = keys.map((k, i) => ({ ...k, status: i === keyIndex ? 'active' : 'retired' }))
  return signAccessToken({
    keySet: importSigningKeys(input as SigningKeyInput[]),
    issuer,
    clientId: 'svc-a',
    audience: 'https://api.example.com',
    scope: 'reports:read',
    ttl,
  }).token
}

function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000)
  return {
    iss: ISSUER,
    sub: 'svc-a',
    client_id: 'svc-a',
    aud: 'https://api.example.com',
    scope: 'reports:read',
    iat: now,
    exp: now + 300,
    jti: 'jti-1',
    ...overrides,
  }
}

function crafted(
  payload: Record<string, unknown>,
  header: Record<string, unknown> = {},
  key: jwt.Secret = rs.privateKey,
  algorithm: jwt.Algorithm = 'RS256',
): string {
  return jwt.sign(payload, key, {
    algorithm,
    header: { alg: algorithm, kid: rs.kid, typ: 'at+jwt', ...header },
  })
}

afterEach(() => {
  vi.useRealTimers()
})

describe('createOwnTokenChecker', () => {
  it.each([
    ['the active RS256 key', 0],
    ['a retired ES256 key', 1],
    ['a next PS256 key', 2],
    ['a retired HS256 secret', 3],
  ])('accepts a token signed with %s', (_name, index) => {
    const checked = checker.check(issued(index))
    expect(checked?.expired).toBe(false)
    expect(checked?.claims).toMatchObject({
      iss: ISSUER,
      client_id: 'svc-a',
      scope: 'reports:read',
    })
  })

  it('reports an expired token as expired, not as unknown', () => {
    vi.useFakeTimers()
    const token = issued(0, 60)
    vi.advanceTimersByTime(60_000)
    expect(checker.check(token)).toMatchObject({ expired: true })
  })

  it('reports a token whose nbf has not come yet as not usable', () => {
    const now = Math.floor(Date.now() / 1000)
    expect(checker.check(crafted(claims({ nbf: now + 60 })))).toMatchObject({ expired: true })
  })

  it('refuses a token from another issuer signed with our key', () => {
    expect(checker.check(issued(0, 300, 'https://evil.example.com'))).toBeUndefined()
  })

  it('refuses a token signed by another key under one of our kids', () => {
    const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey
    expect(checker.check(crafted(claims(), {}, stranger))).toBeUndefined()
  })

  it('refuses an unknown kid and a missing kid', () => {
    expect(checker.check(crafted(claims(), { kid: 'nope' }))).toBeUndefined()
    const noKid = jwt.sign(claims(), rs.privateKey, {
      algorithm: 'RS256',
      header: { alg: 'RS256', typ: 'at+jwt' },
    })
    expect(checker.check(noKid)).toBeUndefined()
  })

  it('refuses an alg that is not the key’s own (HS256 keyed with the RSA public key)', () => {
    const publicPem = rs.publicJwk
    const forged = jwt.sign(claims(), JSON.stringify(publicPem), {
      algorithm: 'HS256',
      header: { alg: 'HS256', kid: rs.kid, typ: 'at+jwt' },
    })
    expect(checker.check(forged)).toBeUndefined()
  })

  it('refuses a token whose typ is not at+jwt', () => {
    expect(checker.check(crafted(claims(), { typ: 'JWT' }))).toBeUndefined()
  })

  it.each([
    ['no jti', { jti: undefined }],
    ['an empty jti', { jti: '' }],
    ['no client_id', { client_id: undefined }],
    ['a numeric scope', { scope: 7 }],
    ['an empty aud list', { aud: [] }],
    ['a fractional iat', { iat: 1.5 }],
  ])('refuses a token with %s', (_name, overrides) => {
    expect(checker.check(crafted(claims(overrides)))).toBeUndefined()
  })

  it('accepts an aud list of strings and refuses one with a non-string member', () => {
    const list = ['https://api.example.com', 'https://other.example.com']
    expect(checker.check(crafted(claims({ aud: list })))?.claims.aud).toEqual(list)
    expect(checker.check(crafted(claims({ aud: [list[0], 7] })))).toBeUndefined()
  })

  it('refuses, without throwing, a JWT-typed token whose payload is not JSON', () => {
    // jsonwebtoken's decode throws on this one (typ JWT makes jws parse the payload as JSON).
    const segment = (value: string) => Buffer.from(value).toString('base64url')
    const token = `${segment(JSON.stringify({ alg: 'RS256', kid: rs.kid, typ: 'JWT' }))}.${segment('{not json')}.c2ln`
    expect(() => jwt.decode(token, { complete: true })).toThrow()
    expect(checker.check(token)).toBeUndefined()
  })

  it.each([
    ['an empty string', ''],
    ['two segments', 'a.b'],
    ['garbage', 'not a token'],
    ['non-JSON segments', 'aaaa.bbbb.cccc'],
    ['a huge token', `${'a'.repeat(20_000)}.b.c`],
    ['a JWE', 'a.b.c.d.e'],
  ])('refuses %s without throwing', (_name, token) => {
    expect(checker.check(token)).toBeUndefined()
  })
})
