import { describe, expect, it } from 'vitest'
import { groupByKid } from '../../src/keys/group-by-kid.js'
import { importJwks, keyFor, onlyKeyFor } from '../../src/keys/jwk-set.js'
import { testKey } from '../jwks-server.js'

const rsa = testKey('shared')
const ec = testKey('shared', 'EC')
const other = testKey('other')

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
