import { generateKeyPairSync } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { groupByKid } from '../../src/keys/group-by-kid.js'
import { importJwks, keyFor, onlyKeyFor } from '../../src/keys/jwk-set.js'
import { testKey } from '../jwks-server.js'

const rsa = testKey('shared')
const ec = testKey('shared', 'EC')
const other = testKey('other')
const ed = generateKeyPairSync('ed25519')
const edJwk = { ...ed.publicKey.export({ format: 'jwk' }), kid: 'ed' }

function setOf(document: unknown) {
  const { keys, skipped } = importJwks(document)
  return { set: { keys, byKid: groupByKid(keys), fetchedAt: 0, expiresAt: 1 }, skipped }
}

describe('importJwks', () => {
  it('imports each usable key once and reports the skipped ones with a reason', () => {
    const { set, skipped } = setOf({
      keys: [rsa.jwk, ec.jwk, { ...other.jwk, d: 'private' }, { kty: 'oct', k: 'c2VjcmV0' }],
    })
    expect(set.keys.map((entry) => entry.kid)).toEqual(['shared', 'shared'])
    expect(skipped).toEqual([
      { kid: 'other', reason: 'private_key' },
      { kid: undefined, reason: 'private_key' },
    ])
  })

  it('skips an Ed25519 key by default, as a type it cannot verify', () => {
    const { set, skipped } = setOf({ keys: [edJwk, rsa.jwk] })
    expect(set.keys.map((entry) => entry.kid)).toEqual(['shared'])
    expect(skipped).toEqual([{ kid: 'ed', reason: 'unsupported_type' }])
  })

  it('imports an Ed25519 key for EdDSA when the allowed algorithms hold EdDSA (RFC 8037)', () => {
    const { keys, skipped } = importJwks({ keys: [edJwk] }, { algorithms: ['EdDSA', 'RS256'] })
    expect(skipped).toEqual([])
    expect(keys).toHaveLength(1)
    expect(keys[0]?.algorithms).toEqual(['EdDSA'])
    expect(keys[0]?.key.equals(ed.publicKey)).toBe(true)
  })

  it('accepts the allowed algorithms as a Set as well as an array', () => {
    const { keys } = importJwks({ keys: [edJwk] }, { algorithms: new Set(['EdDSA']) })
    expect(keys.map((entry) => entry.kid)).toEqual(['ed'])
  })

  it.each([
    ['a private member d', { ...edJwk, kid: 'x', d: 'cHJpdmF0ZQ' }, 'private_key'],
    ['an alg other than EdDSA', { ...edJwk, kid: 'x', alg: 'ES256' }, 'unsupported_alg'],
    ['the X25519 curve', { ...edJwk, kid: 'x', crv: 'X25519' }, 'unsupported_type'],
    ['the Ed448 curve', { ...edJwk, kid: 'x', crv: 'Ed448' }, 'unsupported_type'],
    ['a truncated x', { ...edJwk, kid: 'x', x: String(edJwk.x).slice(0, 20) }, 'invalid'],
    ['no x', { kty: 'OKP', crv: 'Ed25519', kid: 'x' }, 'invalid'],
    ['use: enc', { ...edJwk, kid: 'x', use: 'enc' }, 'not_for_signatures'],
  ])('skips an OKP key with %s even when EdDSA is allowed', (_name, jwk, reason) => {
    const { keys, skipped } = importJwks({ keys: [jwk] }, { algorithms: ['EdDSA'] })
    expect(keys).toEqual([])
    expect(skipped).toEqual([{ kid: 'x', reason }])
  })

  it('keeps a key only for the allowed algorithms, and skips it when none is allowed', () => {
    const { keys, skipped } = importJwks(
      { keys: [rsa.jwk, ec.jwk] },
      { algorithms: ['PS256', 'RS512'] },
    )
    expect(keys.map((entry) => entry.algorithms)).toEqual([['RS512', 'PS256']])
    expect(skipped).toEqual([{ kid: 'shared', reason: 'unsupported_alg' }])
  })

  it('refuses a document that is not { keys: [...] } (RFC 7517 §5)', () => {
    expect(() => importJwks([rsa.jwk])).toThrow(
      expect.objectContaining({ reason: 'invalid_shape' }),
    )
    expect(() => importJwks({ keys: {} })).toThrow(
      expect.objectContaining({ reason: 'invalid_shape' }),
    )
  })
})

describe('keyFor', () => {
  it('resolves one kid shared by keys of two types by the token alg (RFC 7517 §4.5)', () => {
    const { set } = setOf({ keys: [rsa.jwk, ec.jwk] })
    expect(keyFor(set, 'shared', 'RS256')?.equals(rsa.publicKey)).toBe(true)
    expect(keyFor(set, 'shared', 'ES256')?.equals(ec.publicKey)).toBe(true)
    expect(keyFor(set, 'shared', 'HS256')).toBeUndefined()
    expect(keyFor(set, 'missing', 'RS256')).toBeUndefined()
  })
})

describe('onlyKeyFor', () => {
  it('answers the one key that fits a token without kid, and none when two fit', () => {
    expect(onlyKeyFor(setOf({ keys: [rsa.jwk, ec.jwk] }).set, 'ES256')?.equals(ec.publicKey)).toBe(
      true,
    )
    expect(onlyKeyFor(setOf({ keys: [rsa.jwk, other.jwk] }).set, 'RS256')).toBeUndefined()
  })
})
