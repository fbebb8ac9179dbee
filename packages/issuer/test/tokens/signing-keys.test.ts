import { createPublicKey, createSecretKey, generateKeyPairSync, type KeyObject } from 'node:crypto'
import { calculateJwkThumbprint } from 'jose'
import { describe, expect, it } from 'vitest'
import {
  generateSigningKey,
  importSigningKeys,
  signingKeyStates,
  type SigningKeyInput,
} from '../../src/tokens/signing-keys.js'

// One key of each kind for the whole file: RSA generation is slow.
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey
const rsa2 = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
const SECRET = 'an HS256 test secret of 32+ bytes!!'

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']

function expectTypeError(keys: readonly unknown[], message: RegExp): void {
  expect(() => importSigningKeys(keys as SigningKeyInput[])).toThrow(TypeError)
  expect(() => importSigningKeys(keys as SigningKeyInput[])).toThrow(message)
}

describe('importSigningKeys', () => {
  describe('key formats', () => {
    it.each<[string, () => string | object | KeyObject, 'RS256' | 'ES256']>([
      ['an RSA PKCS#8 PEM', () => rsa.export({ type: 'pkcs8', format: 'pem' }), 'RS256'],
      ['an RSA PKCS#1 PEM', () => rsa.export({ type: 'pkcs1', format: 'pem' }), 'RS256'],
      ['an RSA private JWK', () => rsa.export({ format: 'jwk' }), 'RS256'],
      ['an RSA KeyObject', () => rsa, 'RS256'],
      ['an EC PKCS#8 PEM', () => ec.export({ type: 'pkcs8', format: 'pem' }), 'ES256'],
      ['an EC SEC1 PEM', () => ec.export({ type: 'sec1', format: 'pem' }), 'ES256'],
      ['an EC private JWK', () => ec.export({ format: 'jwk' }), 'ES256'],
      ['an EC KeyObject', () => ec, 'ES256'],
    ])('imports %s', (_label, material, alg) => {
      const keySet = importSigningKeys([{ kid: 'k1', alg, privateKey: material() as string }])
      expect(keySet.active).toMatchObject({ kid: 'k1', alg })
      expect(keySet.active.key.type).toBe('private')
      const expected = createPublicKey(alg === 'RS256' ? rsa : ec).export({ format: 'jwk' })
      expect(keySet.jwks.keys[0]).toMatchObject(expected)
    })

    it('imports a private JWK that carries a matching kid, alg and use', () => {
      const jwk = { ...ec.export({ format: 'jwk' }), kid: 'k1', alg: 'ES256', use: 'sig' }
      expect(importSigningKeys([{ kid: 'k1', alg: 'ES256', privateKey: jwk }]).active.kid).toBe(
        'k1',
      )
    })

    it.each<[string, string | Buffer | KeyObject]>([
      ['a string', SECRET],
      ['a Buffer', Buffer.alloc(32, 1)],
      ['a secret KeyObject', createSecretKey(Buffer.alloc(64, 2))],
    ])('imports an HS256 secret given as %s', (_label, secret) => {
      const keySet = importSigningKeys([{ kid: 'h1', alg: 'HS256', secret }])
      expect(keySet.active.alg).toBe('HS256')
      expect(keySet.active.key.type).toBe('secret')
    })

    it('copies an HS256 Buffer so later changes to it do not change the key', () => {
      const buffer = Buffer.alloc(32, 1)
      const keySet = importSigningKeys([{ kid: 'h1', alg: 'HS256', secret: buffer }])
      buffer.fill(0)
      expect(keySet.active.key.export()).toEqual(Buffer.alloc(32, 1))
    })

    it('imports an RSA-PSS key for PS256 and publishes it as an RSA key', () => {
      const pss = generateKeyPairSync('rsa-pss', {
        modulusLength: 2048,
        hashAlgorithm: 'sha256',
        mgf1HashAlgorithm: 'sha256',
      }).privateKey
      const keySet = importSigningKeys([{ kid: 'p1', alg: 'PS256', privateKey: pss }])
      const rsaJwk = createPublicKey(keySet.active.key).export({ format: 'jwk' })
      expect(keySet.jwks.keys[0]).toMatchObject({ kty: 'RSA', n: rsaJwk.n, e: 'AQAB' })
      expect(keySet.active.key.asymmetricKeyType).toBe('rsa')
    })
  })

  describe('algorithm and key checks', () => {
    const rsa1024 = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey
    const ed = generateKeyPairSync('ed25519').privateKey

    it.each<[string, Record<string, unknown>, RegExp]>([
      ['RS256 with a 1024-bit RSA key', { alg: 'RS256', privateKey: rsa1024 }, /2048 bits/],
      ['PS256 with a 1024-bit RSA key', { alg: 'PS256', privateKey: rsa1024 }, /2048 bits/],
      ['RS256 with an EC key', { alg: 'RS256', privateKey: ec }, /RSA key for RS256/],
      ['ES256 with an RSA key', { alg: 'ES256', privateKey: rsa }, /EC P-256/],
      ['ES256 with a P-384 key', { alg: 'ES256', privateKey: p384 }, /EC P-256/],
      ['ES256 with an Ed25519 key', { alg: 'ES256', privateKey: ed }, /EC P-256/],
      ['HS256 with a 31-byte secret', { alg: 'HS256', secret: 'x'.repeat(31) }, /32 bytes/],
      [
        'HS256 with a short KeyObject',
        { alg: 'HS256', secret: createSecretKey(Buffer.alloc(16)) },
        /32 bytes/,
      ],
      ['HS256 with a private key', { alg: 'HS256', secret: rsa }, /secret KeyObject/],
      ['HS256 with a number', { alg: 'HS256', secret: 12 }, /string, a Buffer/],
      [
        'RS256 with a secret KeyObject',
        { alg: 'RS256', privateKey: createSecretKey(Buffer.alloc(32)) },
        /private key/,
      ],
      ['an unsupported alg', { alg: 'none', privateKey: rsa }, /alg must be/],
      ['an unsupported alg (RS512)', { alg: 'RS512', privateKey: rsa }, /alg must be/],
    ])('refuses %s', (_label, fields, message) => {
      expectTypeError([{ kid: 'k1', ...fields }], message)
    })

    it('refuses RS256 with an RSA-PSS key', () => {
      const pss = generateKeyPairSync('rsa-pss', { modulusLength: 2048 }).privateKey
      expectTypeError([{ kid: 'k1', alg: 'RS256', privateKey: pss }], /RSA key for RS256/)
    })

    it('refuses an RSA-PSS key restricted to SHA-512 for PS256', () => {
      const pss = generateKeyPairSync('rsa-pss', {
        modulusLength: 2048,
        hashAlgorithm: 'sha512',
        mgf1HashAlgorithm: 'sha512',
      }).privateKey
      expectTypeError([{ kid: 'k1', alg: 'PS256', privateKey: pss }], /do not allow PS256/)
    })
  })

  describe('unusable key material', () => {
    const publicPem = createPublicKey(rsa).export({ type: 'spki', format: 'pem' })
    const publicJwk = createPublicKey(rsa).export({ format: 'jwk' })
    const encrypted = rsa.export({
      type: 'pkcs8',
      format: 'pem',
      cipher: 'aes-256-cbc',
      passphrase: 'test passphrase',
    })

    it.each<[string, unknown, RegExp]>([
      ['a public PEM', publicPem, /public key/],
      ['a public JWK', publicJwk, /without the private member "d"/],
      ['a public KeyObject', createPublicKey(rsa), /must be a private key/],
      ['an encrypted PKCS#8 PEM', encrypted, /encrypted/],
      [
        'an encrypted PKCS#1 PEM',
        rsa.export({ type: 'pkcs1', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'x' }),
        /encrypted/,
      ],
      [
        'a PEM with a broken body',
        '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n',
        /could not be read/,
      ],
      [
        'a string that is not PEM',
        'my-secret-key',
        /PEM private key, a private JWK or a KeyObject/,
      ],
      ['a number', 42, /PEM private key/],
      ['a missing key', undefined, /PEM private key/],
      ['a JWK with a broken d', { ...publicJwk, d: '***' }, /could not be read/],
    ])('refuses %s with a TypeError', (_label, privateKey, message) => {
      expectTypeError([{ kid: 'k1', alg: 'RS256', privateKey }], message)
    })

    it('does not put the key material in the error message', () => {
      const pem = rsa.export({ type: 'pkcs8', format: 'pem' }) as string
      const broken = pem.replace(/[A-Za-z]{10}/, '!!!!!!!!!!')
      expect(() => importSigningKeys([{ kid: 'k1', alg: 'RS256', privateKey: broken }])).toThrow(
        expect.objectContaining({
          message: expect.not.stringContaining(broken.slice(40, 80)) as string,
        }),
      )
    })

    it.each<[string, Record<string, unknown>, RegExp]>([
      ['a kid', { kid: 'other' }, /kid differs/],
      ['an alg', { alg: 'ES384' }, /alg differs/],
      ['a use', { use: 'enc' }, /use must be 'sig'/],
    ])('refuses a JWK whose own %s disagrees with the configuration', (_label, extra, message) => {
      const jwk = { ...ec.export({ format: 'jwk' }), ...extra }
      expectTypeError([{ kid: 'k1', alg: 'ES256', privateKey: jwk }], message)
    })
  })

  describe('configuration shape', () => {
    it.each<[string, unknown, RegExp]>([
      ['an empty list', [], /non-empty array/],
      ['a single key not in an array', { kid: 'k1' }, /put a single key in \[ \]/],
      ['a non-object entry', ['pem'], /keys\[0\] must be an object/],
    ])('refuses %s', (_label, keys, message) => {
      expect(() => importSigningKeys(keys as SigningKeyInput[])).toThrow(message)
    })

    it('names an unknown field and the key it is in', () => {
      expectTypeError(
        [
          { kid: 'k1', alg: 'ES256', privateKey: ec },
          { kid: 'k2', alg: 'ES256', privateKey: ec, use: 'sig' },
        ],
        /keys\[1\]: unknown key "use"/,
      )
    })

    it('refuses privateKey on an HS256 key and secret on an RS256 key', () => {
      expectTypeError([{ kid: 'h', alg: 'HS256', privateKey: SECRET }], /unknown key "privateKey"/)
      expectTypeError([{ kid: 'r', alg: 'RS256', secret: SECRET }], /unknown key "secret"/)
    })

    it.each(['', 'has space', 'a/b', 'x'.repeat(129), 'kïd', 42, undefined])(
      'refuses the kid %j',
      (kid) => {
        expectTypeError([{ kid, alg: 'ES256', privateKey: ec }], /kid must be/)
      },
    )

    it('refuses duplicate kids, HS256 keys included', () => {
      expectTypeError(
        [
          { kid: 'k1', alg: 'ES256', privateKey: ec },
          { kid: 'k1', alg: 'HS256', secret: SECRET, status: 'retired' },
        ],
        /keys\[1\]\.kid repeats "k1"/,
      )
    })

    it('refuses an unknown status', () => {
      expectTypeError([{ kid: 'k1', alg: 'ES256', privateKey: ec, status: 'old' }], /status/)
    })
  })

  describe('a private JWK that names its own kid and alg (the shape `ccflow keygen` writes)', () => {
    const rsaJwk = (): Record<string, unknown> => ({
      ...rsa.export({ format: 'jwk' }),
      kid: 'r1',
      alg: 'RS256',
      use: 'sig',
    })
    const ecJwk = (): Record<string, unknown> => ({
      ...ec.export({ format: 'jwk' }),
      kid: 'e1',
      alg: 'ES256',
    })

    it('imports RSA and EC JWKs given directly, without a privateKey wrapper', () => {
      const keySet = importSigningKeys([rsaJwk(), ecJwk()] as SigningKeyInput[])
      expect(keySet.active).toMatchObject({ kid: 'r1', alg: 'RS256' })
      expect(keySet.jwks.keys.map((jwk) => [jwk.kid, jwk.alg, jwk.kty])).toEqual([
        ['r1', 'RS256', 'RSA'],
        ['e1', 'ES256', 'EC'],
      ])
    })

    it('takes a JWK Set, { keys: [...] }, as it is parsed from a file', () => {
      const file = JSON.stringify({ keys: [ecJwk(), rsaJwk()] })
      const keySet = importSigningKeys(JSON.parse(file) as { keys: SigningKeyInput[] })
      expect(keySet.active.kid).toBe('e1')
      expect(keySet.jwks.keys).toHaveLength(2)
    })

    it('reads status on a JWK for a rotation', () => {
      const keySet = importSigningKeys([
        { ...ecJwk(), status: 'next' },
        { ...rsaJwk(), status: 'active' },
      ] as SigningKeyInput[])
      expect(keySet.active.kid).toBe('r1')
    })

    it('takes the privateJwk of generateSigningKey as it is', () => {
      const key = generateSigningKey('ES256', { kid: 'g1' })
      expect(importSigningKeys([key.privateJwk]).jwks.keys).toEqual([key.publicJwk])
    })

    it.each<[string, Record<string, unknown>, RegExp]>([
      ['no kid', { kid: undefined }, /^keys\[0\]: a JWK signing key needs "kid" and "alg"/],
      ['no alg', { alg: undefined }, /^keys\[0\]: a JWK signing key needs "kid" and "alg"/],
      ['alg HS256', { alg: 'HS256' }, /^keys\[0\]\.alg of a JWK signing key must be 'RS256'/],
      [
        'no "d" (a public key)',
        { d: undefined },
        /^keys\[0\] is a JWK without the private member "d"$/,
      ],
      ['an alg that does not fit the key', { alg: 'ES256' }, /^keys\[0\] must be an EC P-256 key/],
      ['a privateKey as well', { privateKey: 'x' }, /give either a private JWK .* not both/],
      [
        'a misspelt member',
        { stauts: 'next' },
        /unknown JWK member "stauts" \(did you mean "status"\?\)/,
      ],
      ['key_ops without sign', { key_ops: ['verify'] }, /^keys\[0\]\.key_ops must include 'sign'$/],
      ['use "enc"', { use: 'enc' }, /^keys\[0\]\.use must be 'sig'$/],
    ])('refuses a JWK with %s', (_label, change, message) => {
      const jwk = Object.fromEntries(
        Object.entries({ ...rsaJwk(), ...change }).filter(([, v]) => v !== undefined),
      )
      expectTypeError([jwk], message)
    })

    it.each<[string, unknown, RegExp]>([
      ['an empty JWK Set', { keys: [] }, /^keys must be a non-empty array .* or a JWK Set/],
      ['a JWK Set with another member', { keys: [], key: [] }, /unknown member "key"/],
      ['a JWK Set whose keys is not an array', { keys: {} }, /^keys must be a non-empty array/],
    ])('refuses %s', (_label, keys, message) => {
      expect(() => importSigningKeys(keys as { keys: SigningKeyInput[] })).toThrow(message)
    })
  })

  describe('the active key', () => {
    it('makes the first key without a status active when none is marked', () => {
      const keySet = importSigningKeys([
        { kid: 'next', alg: 'ES256', privateKey: ec, status: 'next' },
        { kid: 'current', alg: 'RS256', privateKey: rsa },
        { kid: 'other', alg: 'RS256', privateKey: rsa2 },
      ])
      expect(keySet.active).toMatchObject({ kid: 'current', alg: 'RS256' })
    })

    it('prefers a key marked active over an earlier key without a status', () => {
      const keySet = importSigningKeys([
        { kid: 'plain', alg: 'RS256', privateKey: rsa },
        { kid: 'marked', alg: 'ES256', privateKey: ec, status: 'active' },
      ])
      expect(keySet.active.kid).toBe('marked')
    })

    it('refuses two active keys', () => {
      expectTypeError(
        [
          { kid: 'a', alg: 'ES256', privateKey: ec, status: 'active' },
          { kid: 'b', alg: 'RS256', privateKey: rsa, status: 'active' },
        ],
        /exactly one key may be active/,
      )
    })

    it('refuses a list of only next and retired keys', () => {
      expectTypeError(
        [
          { kid: 'a', alg: 'ES256', privateKey: ec, status: 'next' },
          { kid: 'b', alg: 'RS256', privateKey: rsa, status: 'retired' },
        ],
        /no active key/,
      )
    })
  })

  describe('the JWKS', () => {
    const keySet = importSigningKeys([
      { kid: 'current', alg: 'RS256', privateKey: rsa, status: 'active' },
      { kid: 'upcoming', alg: 'ES256', privateKey: ec, status: 'next' },
      { kid: 'old', alg: 'PS256', privateKey: rsa2, status: 'retired' },
      { kid: 'shared', alg: 'HS256', secret: SECRET, status: 'retired' },
    ])

    it('publishes the active, next and retired asymmetric keys with kid, alg and use', () => {
      expect(keySet.jwks.keys.map(({ kid, alg, use }) => ({ kid, alg, use }))).toEqual([
        { kid: 'current', alg: 'RS256', use: 'sig' },
        { kid: 'upcoming', alg: 'ES256', use: 'sig' },
        { kid: 'old', alg: 'PS256', use: 'sig' },
      ])
    })

    it('publishes only public members', () => {
      const [rsaJwk, ecJwk] = keySet.jwks.keys
      expect(Object.keys(rsaJwk!).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use'])
      expect(Object.keys(ecJwk!).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y'])
      for (const jwk of keySet.jwks.keys) {
        for (const member of PRIVATE_MEMBERS) expect(jwk).not.toHaveProperty(member)
      }
      for (const member of PRIVATE_MEMBERS) expect(keySet.jwksJson).not.toContain(`"${member}"`)
    })

    it('never publishes an HS256 secret', () => {
      expect(keySet.jwksJson).not.toContain('shared')
      expect(keySet.jwksJson).not.toContain(Buffer.from(SECRET).toString('base64url'))
      const hsOnly = importSigningKeys([{ kid: 'h', alg: 'HS256', secret: SECRET }])
      expect(hsOnly.jwks).toEqual({ keys: [] })
    })

    it('precomputes the JSON form', () => {
      expect(JSON.parse(keySet.jwksJson)).toEqual(keySet.jwks)
    })

    it('is frozen', () => {
      expect(Object.isFrozen(keySet)).toBe(true)
      expect(Object.isFrozen(keySet.jwks.keys)).toBe(true)
      expect(Object.isFrozen(keySet.jwks.keys[0])).toBe(true)
    })
  })
})

describe('generateSigningKey', () => {
  it('makes a 2048-bit RS256 key by default', () => {
    const key = generateSigningKey()
    expect(key.alg).toBe('RS256')
    expect(key.privateKey.asymmetricKeyDetails?.modulusLength).toBe(2048)
  })

  it('makes a P-256 key for ES256', () => {
    const key = generateSigningKey('ES256')
    expect(key.privateKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1')
  })

  it('names the key by its RFC 7638 thumbprint unless a kid is given', async () => {
    const key = generateSigningKey('ES256')
    expect(key.kid).toBe(
      await calculateJwkThumbprint(key.publicJwk as Parameters<typeof calculateJwkThumbprint>[0]),
    )
    expect(generateSigningKey('ES256', { kid: 'dev-1' }).kid).toBe('dev-1')
  })

  it.each(['RS256', 'PS256', 'ES256'] as const)(
    'returns a %s private JWK that importSigningKeys accepts and a public JWK without private members',
    (alg) => {
      const key = generateSigningKey(alg, { kid: `k-${alg}` })
      expect(key.privateJwk).toMatchObject({ kid: `k-${alg}`, alg, use: 'sig' })
      expect(key.privateJwk.d).toBeTypeOf('string')
      for (const member of PRIVATE_MEMBERS) expect(key.publicJwk).not.toHaveProperty(member)
      const fromJwk = importSigningKeys([{ kid: key.kid, alg, privateKey: key.privateJwk }])
      const fromKeyObject = importSigningKeys([{ kid: key.kid, alg, privateKey: key.privateKey }])
      expect(fromJwk.jwks.keys[0]).toEqual(key.publicJwk)
      expect(fromKeyObject.jwks.keys[0]).toEqual(key.publicJwk)
    },
  )

  it('returns a value importSigningKeys takes as it is', () => {
    const key = generateSigningKey('ES256')
    const keySet = importSigningKeys([key])
    expect(keySet.active).toEqual({ kid: key.kid, alg: 'ES256', key: key.privateKey })
    expect(keySet.jwks.keys).toEqual([key.publicJwk])
  })

  it('names the key by its thumbprint when kid is set to undefined', () => {
    expect(generateSigningKey('ES256', { kid: undefined }).kid).toMatch(/^[A-Za-z0-9_-]{43}$/)
  })

  it('refuses HS256 and an unsafe kid', () => {
    expect(() => generateSigningKey('HS256' as 'ES256')).toThrow(TypeError)
    expect(() => generateSigningKey('ES256', { kid: 'a b' })).toThrow(TypeError)
  })

  it('refuses an unknown option, suggesting the one it resembles', () => {
    expect(() => generateSigningKey('ES256', { kidd: 'k1' } as never)).toThrow(
      /^generateSigningKey: unknown option "kidd" \(did you mean "kid"\?\)$/,
    )
    expect(() => generateSigningKey('ES256', 'k1' as never)).toThrow(
      /^generateSigningKey: options must be an object$/,
    )
  })
})

describe('signingKeyStates', () => {
  it('counts the keys of an imported set by state, a key without a status as other', () => {
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((kid) => generateSigningKey('ES256', { kid }))
    const set = importSigningKeys([a!, { ...b!, status: 'next' }, { ...c!, status: 'retired' }, d!])
    expect(signingKeyStates(set)).toEqual({ active: 1, next: 1, retired: 1, other: 1 })
  })

  it('counts nothing for a set it did not import', () => {
    const set = importSigningKeys([generateSigningKey('ES256', { kid: 'x' })])
    expect(signingKeyStates({ ...set })).toEqual({ active: 0, next: 0, retired: 0, other: 0 })
  })
})
