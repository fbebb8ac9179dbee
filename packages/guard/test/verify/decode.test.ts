import { describe, expect, it } from 'vitest'
import {
  decodeToken,
  freezeDeep,
  HEADER_MEMO_MAX,
  hasDuplicateMembers,
  normalizeType,
} from '../../src/verify/decode.js'
import type { HeaderMemo, HeaderPolicy } from '../../src/verify/decode.js'
import { b64url, craftToken, rsaKeyPair } from '../helpers.js'

const rsa = rsaKeyPair()
const policy: HeaderPolicy = {
  algorithms: new Set(['RS256', 'ES256']),
  types: new Set(['application/at+jwt']),
}
const HEADER = { alg: 'RS256', typ: 'at+jwt' }
const PAYLOAD = { iss: 'i', aud: 'a', exp: 1 }

describe('normalizeType', () => {
  it('lower-cases and adds the application/ prefix when it is omitted (RFC 7515 §4.1.9)', () => {
    expect(normalizeType('AT+JWT')).toBe('application/at+jwt')
    expect(normalizeType('Application/At+Jwt')).toBe('application/at+jwt')
  })
})

describe('hasDuplicateMembers', () => {
  it('finds duplicates at the top level and in nested objects', () => {
    expect(hasDuplicateMembers('{"a":1,"a":2}')).toBe(true)
    expect(hasDuplicateMembers('{"a":{"b":1,"b":2}}')).toBe(true)
    expect(hasDuplicateMembers('{"a":[{"b":1},{"b":2,"b":3}]}')).toBe(true)
  })

  it('compares names after unescaping', () => {
    expect(hasDuplicateMembers('{"aud":1,"\\u0061ud":2}')).toBe(true)
    expect(hasDuplicateMembers('{"a\\"b":1,"a\\"b":2}')).toBe(true)
  })

  it('accepts equal names in sibling objects and equal string values', () => {
    expect(hasDuplicateMembers('{"a":{"x":1},"b":{"x":1}}')).toBe(false)
    expect(hasDuplicateMembers('{"a":"a","b":["a","a"],"c":"{\\"a\\":1,\\"a\\":2}"}')).toBe(false)
    expect(hasDuplicateMembers('{ "a" : 1 , "b" : [ 1 , { "a" : 2 } ] }')).toBe(false)
  })
})

describe('decodeToken', () => {
  it('returns the header and payload of a well-formed token', () => {
    const token = craftToken(HEADER, PAYLOAD, rsa.privateKey)
    expect(decodeToken(token, policy)).toEqual({ header: HEADER, payload: PAYLOAD })
  })

  it.each([
    ['two segments', 'a.b'],
    ['five segments', 'a.b.c.d.e'],
    ['a token without any dot', b64url('{"alg":"RS256"}')],
    ['an empty header', `.${b64url('{}')}.c2ln`],
    ['a header that is not base64url', `e+J9.${b64url('{}')}.c2ln`],
    ['a header that is not JSON', `${b64url('nope')}.${b64url('{}')}.c2ln`],
    ['a header that is a JSON array', `${b64url('[]')}.${b64url('{}')}.c2ln`],
    [
      'invalid UTF-8',
      `${Buffer.from([0x7b, 0xff, 0x7d]).toString('base64url')}.${b64url('{}')}.c2ln`,
    ],
    ['a numeric alg', craftToken({ alg: 1 }, PAYLOAD)],
    ['a numeric kid', craftToken({ ...HEADER, kid: 7 }, PAYLOAD) + 'c2ln'],
    ['a payload that is a string', craftToken(HEADER, '"claims"') + 'c2ln'],
    ['an empty signature', craftToken(HEADER, PAYLOAD)],
    ['a signature of impossible length', craftToken(HEADER, PAYLOAD) + 'abcde'],
  ])('rejects %s as malformed', (_name, token) => {
    expect(decodeToken(token, policy)).toBe('malformed')
  })

  it('rejects a signature whose last character has stray pad bits (RFC 4648 §3.5)', () => {
    const token = craftToken(HEADER, PAYLOAD, rsa.privateKey)
    const signature = token.slice(token.lastIndexOf('.') + 1)
    // 256 signature bytes: 342 characters, the last holding 2 data bits and 4 pad bits.
    expect(signature.length % 4).toBe(2)
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
    const last = alphabet.indexOf(signature.charAt(signature.length - 1))
    const variant = token.slice(0, -1) + alphabet.charAt(last | 1)
    expect(Buffer.from(variant.slice(variant.lastIndexOf('.') + 1), 'base64url')).toEqual(
      Buffer.from(signature, 'base64url'),
    )
    expect(decodeToken(variant, policy)).toBe('bad_signature')
    expect(decodeToken(`${craftToken(HEADER, PAYLOAD)}c2lnbg`, policy)).toHaveProperty('header')
    expect(decodeToken(`${craftToken(HEADER, PAYLOAD)}c2lnbh`, policy)).toBe('bad_signature')
    expect(decodeToken(`${craftToken(HEADER, PAYLOAD)}c2lnbmE`, policy)).toHaveProperty('header')
    expect(decodeToken(`${craftToken(HEADER, PAYLOAD)}c2lnbmF`, policy)).toBe('bad_signature')
  })

  it('rejects an algorithm outside the policy, none included', () => {
    expect(decodeToken(craftToken({ ...HEADER, alg: 'none' }, PAYLOAD), policy)).toBe(
      'unsupported_alg',
    )
    expect(decodeToken(craftToken({ ...HEADER, alg: 'HS256' }, PAYLOAD) + 'c2ln', policy)).toBe(
      'unsupported_alg',
    )
  })

  it('rejects any crit header', () => {
    expect(decodeToken(craftToken({ ...HEADER, crit: [] }, PAYLOAD) + 'c2ln', policy)).toBe(
      'crit_header',
    )
  })

  it('rejects a missing or other typ, and skips the check without a type policy', () => {
    const untyped = craftToken({ alg: 'RS256' }, PAYLOAD) + 'c2ln'
    expect(decodeToken(untyped, policy)).toBe('bad_typ')
    expect(decodeToken(craftToken({ alg: 'RS256', typ: 'JWT' }, PAYLOAD) + 'c2ln', policy)).toBe(
      'bad_typ',
    )
    expect(decodeToken(untyped, { ...policy, types: undefined })).not.toBe('bad_typ')
  })

  it('rejects duplicate members in header and payload', () => {
    expect(
      decodeToken(craftToken('{"alg":"RS256","typ":"at+jwt","typ":"x"}', PAYLOAD) + 'c2ln', policy),
    ).toBe('duplicate_member')
    expect(decodeToken(craftToken(HEADER, '{"exp":1,"exp":2}') + 'c2ln', policy)).toBe(
      'duplicate_member',
    )
  })

  it('rejects an ECDSA signature of the wrong width or with a zero half', () => {
    const unsigned = craftToken({ alg: 'ES256', typ: 'at+jwt' }, PAYLOAD)
    const half = Buffer.alloc(32, 1)
    const zero = Buffer.alloc(32)
    expect(decodeToken(unsigned + Buffer.alloc(63, 1).toString('base64url'), policy)).toBe(
      'bad_signature',
    )
    expect(decodeToken(unsigned + Buffer.concat([zero, half]).toString('base64url'), policy)).toBe(
      'bad_signature',
    )
    expect(decodeToken(unsigned + Buffer.concat([half, zero]).toString('base64url'), policy)).toBe(
      'bad_signature',
    )
    expect(
      decodeToken(unsigned + Buffer.concat([half, half]).toString('base64url'), policy),
    ).toMatchObject({
      header: { alg: 'ES256' },
    })
  })
})

describe('decodeToken with a header memo', () => {
  it('decodes a header once and shares it, deeply frozen, between tokens that carry it', () => {
    const memo: HeaderMemo = new Map()
    const header = { ...HEADER, kid: 'k1', ext: { nested: [1] } }
    const first = decodeToken(craftToken(header, PAYLOAD, rsa.privateKey), policy, memo)
    const second = decodeToken(
      craftToken(header, { ...PAYLOAD, exp: 2 }, rsa.privateKey),
      policy,
      memo,
    )
    expect(first).toMatchObject({ header, payload: PAYLOAD })
    expect(second).toMatchObject({ header, payload: { exp: 2 } })
    if (typeof first === 'string' || typeof second === 'string') throw new Error('rejected')
    expect(second.header).toBe(first.header)
    expect(Object.isFrozen(first.header)).toBe(true)
    expect(Object.isFrozen(first.header.ext)).toBe(true)
    expect(Object.isFrozen((first.header.ext as { nested: unknown }).nested)).toBe(true)
    expect(memo.size).toBe(1)
  })

  it('remembers no rejected header and still checks each payload and signature', () => {
    const memo: HeaderMemo = new Map()
    expect(
      decodeToken(craftToken({ alg: 'HS256', typ: 'at+jwt' }, PAYLOAD) + 'c2ln', policy, memo),
    ).toBe('unsupported_alg')
    expect(
      decodeToken(craftToken({ ...HEADER, crit: ['b64'] }, PAYLOAD) + 'c2ln', policy, memo),
    ).toBe('crit_header')
    expect(memo.size).toBe(0)
    const good = craftToken(HEADER, PAYLOAD, rsa.privateKey)
    expect(decodeToken(good, policy, memo)).toHaveProperty('header')
    expect(memo.size).toBe(1)
    expect(decodeToken(craftToken(HEADER, '{"exp":1,"exp":2}') + 'c2ln', policy, memo)).toBe(
      'duplicate_member',
    )
    expect(decodeToken(craftToken(HEADER, 'not json') + 'c2ln', policy, memo)).toBe('malformed')
    expect(decodeToken(`${good.slice(0, good.lastIndexOf('.'))}.c2lnbh`, policy, memo)).toBe(
      'bad_signature',
    )
  })

  it('stays bounded under a stream of distinct headers', () => {
    const memo: HeaderMemo = new Map()
    for (let i = 0; i < HEADER_MEMO_MAX * 3 + 1; i++) {
      const token = craftToken({ ...HEADER, kid: `kid-${i}` }, PAYLOAD) + 'c2ln'
      expect(decodeToken(token, policy, memo)).toHaveProperty('header.kid', `kid-${i}`)
      expect(memo.size).toBeLessThanOrEqual(HEADER_MEMO_MAX)
    }
  })
})

describe('freezeDeep', () => {
  it('freezes an object with every object and array reachable from it, and returns it', () => {
    const value = { a: 1, b: { c: [{ d: 2 }, 'e'] }, f: ['g'], h: null }
    expect(freezeDeep(value)).toBe(value)
    expect(Object.isFrozen(value)).toBe(true)
    expect(Object.isFrozen(value.b)).toBe(true)
    expect(Object.isFrozen(value.b.c)).toBe(true)
    expect(Object.isFrozen(value.b.c[0])).toBe(true)
    expect(Object.isFrozen(value.f)).toBe(true)
    expect(() => {
      ;(value.b.c[0] as { d: number }).d = 3
    }).toThrow(TypeError)
  })

  it('leaves objects it reaches only through the prototype chain alone', () => {
    const shared = { setting: 1 }
    const value = Object.create({ inherited: shared }) as Record<string, unknown>
    value.own = { x: 1 }
    freezeDeep(value)
    expect(Object.isFrozen(value.own)).toBe(true)
    expect(Object.isFrozen(shared)).toBe(false)
  })
})
