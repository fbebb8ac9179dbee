import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  decodeCompactJws,
  freezeDeep,
  HEADER_MEMO_MAX,
  hasDuplicateMembers,
  normalizeType,
} from '../../src/jose/compact-jws.js'
import type { HeaderMemo, JwsHeaderPolicy } from '../../src/jose/compact-jws.js'

function b64url(value: string | Buffer): string {
  return Buffer.from(value).toString('base64url')
}

/**
 * Builds a compact JWS by hand with node:crypto (RS256 only, which is all these tests need), so a
 * test can send what a JOSE library would refuse to produce: raw header or payload JSON text
 * (duplicate members), `crit`, `alg: none`. Without a key the signature is empty.
 */
function craftToken(
  header: Record<string, unknown> | string,
  payload: Record<string, unknown> | string,
  key?: KeyObject,
): string {
  const h = b64url(typeof header === 'string' ? header : JSON.stringify(header))
  const p = b64url(typeof payload === 'string' ? payload : JSON.stringify(payload))
  const input = `${h}.${p}`
  if (key === undefined) return `${input}.`
  return `${input}.${sign('sha256', Buffer.from(input), key).toString('base64url')}`
}

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
const policy: JwsHeaderPolicy = {
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

describe('decodeCompactJws', () => {
  it('returns the header and payload of a well-formed token', () => {
    const token = craftToken(HEADER, PAYLOAD, rsa.privateKey)
    expect(decodeCompactJws(token, policy)).toEqual({ header: HEADER, payload: PAYLOAD })
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
    expect(decodeCompactJws(token, policy)).toBe('malformed')
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
    expect(decodeCompactJws(variant, policy)).toBe('bad_signature')
    expect(decodeCompactJws(`${craftToken(HEADER, PAYLOAD)}c2lnbg`, policy)).toHaveProperty(
      'header',
    )
    expect(decodeCompactJws(`${craftToken(HEADER, PAYLOAD)}c2lnbh`, policy)).toBe('bad_signature')
    expect(decodeCompactJws(`${craftToken(HEADER, PAYLOAD)}c2lnbmE`, policy)).toHaveProperty(
      'header',
    )
    expect(decodeCompactJws(`${craftToken(HEADER, PAYLOAD)}c2lnbmF`, policy)).toBe('bad_signature')
  })

  it('rejects an algorithm outside the policy, none included', () => {
    expect(decodeCompactJws(craftToken({ ...HEADER, alg: 'none' }, PAYLOAD), policy)).toBe(
      'unsupported_alg',
    )
    expect(
      decodeCompactJws(craftToken({ ...HEADER, alg: 'HS256' }, PAYLOAD) + 'c2ln', policy),
    ).toBe('unsupported_alg')
  })

  it('rejects any crit header', () => {
    expect(decodeCompactJws(craftToken({ ...HEADER, crit: [] }, PAYLOAD) + 'c2ln', policy)).toBe(
      'crit_header',
    )
  })

  it('rejects a missing or other typ, and skips the check without a type policy', () => {
    const untyped = craftToken({ alg: 'RS256' }, PAYLOAD) + 'c2ln'
    expect(decodeCompactJws(untyped, policy)).toBe('bad_typ')
    expect(
      decodeCompactJws(craftToken({ alg: 'RS256', typ: 'JWT' }, PAYLOAD) + 'c2ln', policy),
    ).toBe('bad_typ')
    expect(decodeCompactJws(untyped, { ...policy, types: undefined })).not.toBe('bad_typ')
  })

  it('accepts a missing typ only with typeOptional, and still checks a typ that is present', () => {
    const optional = { ...policy, typeOptional: true }
    const untyped = craftToken({ alg: 'RS256' }, PAYLOAD) + 'c2ln'
    expect(decodeCompactJws(untyped, optional)).not.toBe('bad_typ')
    expect(
      decodeCompactJws(craftToken({ alg: 'RS256', typ: 'JWT' }, PAYLOAD) + 'c2ln', optional),
    ).toBe('bad_typ')
    expect(decodeCompactJws(craftToken({ alg: 'RS256', typ: 7 }, PAYLOAD) + 'c2ln', optional)).toBe(
      'bad_typ',
    )
  })

  it('rejects duplicate members in header and payload', () => {
    expect(
      decodeCompactJws(
        craftToken('{"alg":"RS256","typ":"at+jwt","typ":"x"}', PAYLOAD) + 'c2ln',
        policy,
      ),
    ).toBe('duplicate_member')
    expect(decodeCompactJws(craftToken(HEADER, '{"exp":1,"exp":2}') + 'c2ln', policy)).toBe(
      'duplicate_member',
    )
  })

  it('rejects an ECDSA signature of the wrong width or with a zero half', () => {
    const unsigned = craftToken({ alg: 'ES256', typ: 'at+jwt' }, PAYLOAD)
    const half = Buffer.alloc(32, 1)
    const zero = Buffer.alloc(32)
    expect(decodeCompactJws(unsigned + Buffer.alloc(63, 1).toString('base64url'), policy)).toBe(
      'bad_signature',
    )
    expect(
      decodeCompactJws(unsigned + Buffer.concat([zero, half]).toString('base64url'), policy),
    ).toBe('bad_signature')
    expect(
      decodeCompactJws(unsigned + Buffer.concat([half, zero]).toString('base64url'), policy),
    ).toBe('bad_signature')
    expect(
      decodeCompactJws(unsigned + Buffer.concat([half, half]).toString('base64url'), policy),
    ).toMatchObject({
      header: { alg: 'ES256' },
    })
  })
  it.each([
    ['ES384', 96],
    ['ES512', 132],
  ])('checks the width of an %s signature (%i bytes, RFC 7518 §3.4)', (alg, bytes) => {
    const wide = { ...policy, algorithms: new Set([alg]) }
    const unsigned = craftToken({ alg, typ: 'at+jwt' }, PAYLOAD)
    const good = Buffer.alloc(bytes, 1).toString('base64url')
    expect(decodeCompactJws(unsigned + good, wide)).toHaveProperty('header.alg', alg)
    expect(decodeCompactJws(unsigned + Buffer.alloc(64, 1).toString('base64url'), wide)).toBe(
      'bad_signature',
    )
  })

  it('accepts an EdDSA signature of exactly 64 bytes and rejects other widths (RFC 8037 §3.1)', () => {
    const eddsa = { ...policy, algorithms: new Set(['EdDSA']) }
    const { privateKey } = generateKeyPairSync('ed25519')
    const input = craftToken({ alg: 'EdDSA', typ: 'at+jwt' }, PAYLOAD).slice(0, -1)
    const signature = sign(null, Buffer.from(input), privateKey).toString('base64url')
    expect(signature).toHaveLength(86)
    expect(decodeCompactJws(`${input}.${signature}`, eddsa)).toHaveProperty('header.alg', 'EdDSA')
    for (const bytes of [63, 65, 96, 114]) {
      const other = Buffer.alloc(bytes, 1).toString('base64url')
      expect(decodeCompactJws(`${input}.${other}`, eddsa)).toBe('bad_signature')
    }
  })

  it('finds no signature width for an alg named like an Object.prototype member', () => {
    const odd = { ...policy, algorithms: new Set(['constructor']) }
    const token = craftToken({ alg: 'constructor', typ: 'at+jwt' }, PAYLOAD) + 'c2ln'
    expect(decodeCompactJws(token, odd)).toHaveProperty('header.alg', 'constructor')
  })
})

describe('decodeCompactJws with a header memo', () => {
  it('decodes a header once and shares it, deeply frozen, between tokens that carry it', () => {
    const memo: HeaderMemo = new Map()
    const header = { ...HEADER, kid: 'k1', ext: { nested: [1] } }
    const first = decodeCompactJws(craftToken(header, PAYLOAD, rsa.privateKey), policy, memo)
    const second = decodeCompactJws(
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
      decodeCompactJws(craftToken({ alg: 'HS256', typ: 'at+jwt' }, PAYLOAD) + 'c2ln', policy, memo),
    ).toBe('unsupported_alg')
    expect(
      decodeCompactJws(craftToken({ ...HEADER, crit: ['b64'] }, PAYLOAD) + 'c2ln', policy, memo),
    ).toBe('crit_header')
    expect(memo.size).toBe(0)
    const good = craftToken(HEADER, PAYLOAD, rsa.privateKey)
    expect(decodeCompactJws(good, policy, memo)).toHaveProperty('header')
    expect(memo.size).toBe(1)
    expect(decodeCompactJws(craftToken(HEADER, '{"exp":1,"exp":2}') + 'c2ln', policy, memo)).toBe(
      'duplicate_member',
    )
    expect(decodeCompactJws(craftToken(HEADER, 'not json') + 'c2ln', policy, memo)).toBe(
      'malformed',
    )
    expect(decodeCompactJws(`${good.slice(0, good.lastIndexOf('.'))}.c2lnbh`, policy, memo)).toBe(
      'bad_signature',
    )
  })

  it('stays bounded under a stream of distinct headers', () => {
    const memo: HeaderMemo = new Map()
    for (let i = 0; i < HEADER_MEMO_MAX * 3 + 1; i++) {
      const token = craftToken({ ...HEADER, kid: `kid-${i}` }, PAYLOAD) + 'c2ln'
      expect(decodeCompactJws(token, policy, memo)).toHaveProperty('header.kid', `kid-${i}`)
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
