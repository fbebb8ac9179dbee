import {
  createHmac,
  createPublicKey,
  createSecretKey,
  generateKeyPairSync,
  KeyObject,
  randomBytes,
  sign,
} from 'node:crypto'
import { CompactSign, compactVerify } from 'jose'
import { describe, expect, it } from 'vitest'
import {
  PSS_ALGORITHMS,
  SIGNATURE_ALGORITHMS,
  type SignatureAlgorithm,
} from '../../src/jose/algorithms.js'
import { decodeCompactJws } from '../../src/jose/compact-jws.js'
import { defaultAlgorithmForKey, signJws, verifyJwsSignature } from '../../src/jose/signature.js'

interface KeyPair {
  publicKey: KeyObject
  privateKey: KeyObject
}

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
const otherRsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
const weakRsa = generateKeyPairSync('rsa', { modulusLength: 1024 })
const pss = generateKeyPairSync('rsa-pss', { modulusLength: 2048 })
// @types/node 20 types the minimum salt length as a string; node:crypto wants a number.
const saltBytes = (bytes: number): string => bytes as unknown as string
const pssSha256 = generateKeyPairSync('rsa-pss', {
  modulusLength: 2048,
  hashAlgorithm: 'sha256',
  mgf1HashAlgorithm: 'sha256',
  saltLength: saltBytes(32),
})
const pssSha384 = generateKeyPairSync('rsa-pss', {
  modulusLength: 2048,
  hashAlgorithm: 'sha384',
  mgf1HashAlgorithm: 'sha384',
  saltLength: saltBytes(48),
})
const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' })
const otherP256 = generateKeyPairSync('ec', { namedCurve: 'P-256' })
const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' })
const p521 = generateKeyPairSync('ec', { namedCurve: 'P-521' })
const secp256k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' })
const ed25519 = generateKeyPairSync('ed25519')
const otherEd25519 = generateKeyPairSync('ed25519')
const ed448 = generateKeyPairSync('ed448')
const x25519 = generateKeyPairSync('x25519')
const secret = createSecretKey(randomBytes(32))

const KEYS: Readonly<Record<SignatureAlgorithm, KeyPair>> = {
  RS256: rsa,
  RS384: rsa,
  RS512: rsa,
  PS256: rsa,
  PS384: rsa,
  PS512: rsa,
  ES256: p256,
  ES384: p384,
  ES512: p521,
  EdDSA: ed25519,
}

const PAYLOAD = { iss: 'client-1', sub: 'client-1', aud: 'https://as.example.com/token', exp: 1 }

function b64url(value: string | Buffer): string {
  return Buffer.from(value).toString('base64url')
}

function token(alg: SignatureAlgorithm, payload: Record<string, unknown> = PAYLOAD): string {
  return signJws({ alg, typ: 'JWT' }, payload, KEYS[alg].privateKey)
}

/** The token with its signature segment replaced. */
function withSignature(jws: string, signature: string): string {
  return `${jws.slice(0, jws.lastIndexOf('.'))}.${signature}`
}

/**
 * The same RSA public key as an RSA-PSS key (RFC 4055 id-RSASSA-PSS, no parameters): only the
 * algorithm identifier of the SPKI changes, so any difference in the result is the key type's.
 */
function asRsaPssPublicKey(key: KeyObject): KeyObject {
  const der = key.export({ format: 'der', type: 'spki' })
  // SEQUENCE { SEQUENCE { rsaEncryption, NULL } (15 bytes), BIT STRING }, 2048-bit key.
  const rsaAlgorithm = Buffer.from('300d06092a864886f70d0101010500', 'hex')
  expect(der.subarray(4, 19)).toEqual(rsaAlgorithm)
  const pssAlgorithm = Buffer.from('300b06092a864886f70d01010a', 'hex')
  const body = Buffer.concat([pssAlgorithm, der.subarray(19)])
  const length = Buffer.from([0x30, 0x82, body.length >> 8, body.length & 0xff])
  return createPublicKey({ key: Buffer.concat([length, body]), format: 'der', type: 'spki' })
}

describe('signJws', () => {
  it.each(SIGNATURE_ALGORITHMS)('signs %s so that verifyJwsSignature accepts it', (alg) => {
    expect(verifyJwsSignature(token(alg), alg, KEYS[alg].publicKey)).toBe(true)
  })

  it.each(PSS_ALGORITHMS)('signs %s with an RSA-PSS key', (alg) => {
    const jws = signJws({ alg }, PAYLOAD, pss.privateKey)
    expect(verifyJwsSignature(jws, alg, pss.publicKey)).toBe(true)
  })

  it('signs with an RSA-PSS key whose parameters allow the algorithm', () => {
    const jws = signJws({ alg: 'PS256' }, PAYLOAD, pssSha256.privateKey)
    expect(verifyJwsSignature(jws, 'PS256', pssSha256.publicKey)).toBe(true)
  })

  it('serialises header and payload as base64url JSON, in a token decodeCompactJws accepts', () => {
    const header = { alg: 'ES256', typ: 'JWT', kid: 'k-ü' }
    const jws = signJws(header, PAYLOAD, p256.privateKey)
    const [h, p, s] = jws.split('.')
    expect(h).toBe(b64url(JSON.stringify(header)))
    expect(p).toBe(b64url(JSON.stringify(PAYLOAD)))
    expect(Buffer.from(s as string, 'base64url')).toHaveLength(64)
    const policy = { algorithms: new Set(['ES256']), types: undefined }
    expect(decodeCompactJws(jws, policy)).toEqual({ header, payload: PAYLOAD })
  })

  it.each([
    ['missing', {}],
    ['not a string', { alg: 256 }],
    ['none', { alg: 'none' }],
    ['HMAC', { alg: 'HS256' }],
    ['unknown', { alg: 'ES256K' }],
    ['an Object.prototype member name', { alg: 'constructor' }],
    ['Ed25519 (the RFC 9864 name, not handled)', { alg: 'Ed25519' }],
  ])('throws a TypeError when header.alg is %s', (_name, header) => {
    expect(() => signJws(header, PAYLOAD, rsa.privateKey)).toThrow(
      new TypeError(
        'signJws: header.alg must be one of RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA',
      ),
    )
  })

  it.each([
    ['RS256', 'an EC key', p256.privateKey],
    ['ES256', 'an RSA key', rsa.privateKey],
    ['ES256', 'an EC key on P-384', p384.privateKey],
    ['ES512', 'an EC key on secp256k1', secp256k1.privateKey],
    ['EdDSA', 'an Ed448 key', ed448.privateKey],
    ['EdDSA', 'an EC key', p256.privateKey],
    ['RS256', 'an Ed25519 key', ed25519.privateKey],
    ['RS256', 'an RSA-PSS key', pss.privateKey],
    ['RS256', 'an RSA key under 2048 bits', weakRsa.privateKey],
    ['PS256', 'an RSA key under 2048 bits', weakRsa.privateKey],
    ['PS256', 'an EC key', p256.privateKey],
    ['PS384', 'an RSA-PSS key restricted to SHA-256', pssSha256.privateKey],
    ['PS256', 'an RSA-PSS key restricted to SHA-384', pssSha384.privateKey],
    ['RS256', 'a public key', rsa.publicKey],
    ['RS256', 'a secret key', secret],
  ] as const)('throws a TypeError for %s with %s', (alg, _name, key) => {
    expect(() => signJws({ alg }, PAYLOAD, key)).toThrow(TypeError)
    expect(() => signJws({ alg }, PAYLOAD, key)).toThrow(
      new RegExp(`^signJws: header\\.alg ${alg} needs a private key that fits it; got `),
    )
  })

  it('describes the key it refuses without its material', () => {
    expect(() => signJws({ alg: 'RS256' }, PAYLOAD, rsa.publicKey)).toThrow(
      'signJws: header.alg RS256 needs a private key that fits it; got a public rsa key (2048 bits)',
    )
    expect(() => signJws({ alg: 'ES256' }, PAYLOAD, p384.privateKey)).toThrow(
      'got a private ec key (secp384r1)',
    )
    expect(() => signJws({ alg: 'PS384' }, PAYLOAD, pssSha256.privateKey)).toThrow(
      'got a private rsa-pss key (2048 bits, restricted to sha256)',
    )
    expect(() => signJws({ alg: 'EdDSA' }, PAYLOAD, ed448.privateKey)).toThrow(
      'got a private ed448 key',
    )
    expect(() => signJws({ alg: 'RS256' }, PAYLOAD, secret)).toThrow('got a secret key')
    const pem = rsa.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string
    expect(() => signJws({ alg: 'RS256' }, PAYLOAD, pem as unknown as KeyObject)).toThrow(
      /; got string \(not a KeyObject\)$/,
    )
    expect(() => signJws({ alg: 'RS256' }, PAYLOAD, null as unknown as KeyObject)).toThrow(
      /; got null \(not a KeyObject\)$/,
    )
  })

  it('throws a TypeError when the header or the payload is not an object', () => {
    const key = rsa.privateKey
    const header = { alg: 'RS256' }
    expect(() => signJws(null as unknown as Record<string, unknown>, PAYLOAD, key)).toThrow(
      new TypeError('signJws: header must be an object'),
    )
    expect(() => signJws(header, ['claims'] as unknown as Record<string, unknown>, key)).toThrow(
      new TypeError('signJws: payload must be an object'),
    )
  })
})

describe('verifyJwsSignature', () => {
  it.each(SIGNATURE_ALGORITHMS)('verifies a %s token that jose signed', async (alg) => {
    const jws = await new CompactSign(Buffer.from(JSON.stringify(PAYLOAD)))
      .setProtectedHeader({ alg })
      .sign(KEYS[alg].privateKey)
    expect(verifyJwsSignature(jws, alg, KEYS[alg].publicKey)).toBe(true)
  })

  it.each(SIGNATURE_ALGORITHMS)('signs %s tokens that jose compactVerify accepts', async (alg) => {
    const { payload, protectedHeader } = await compactVerify(token(alg), KEYS[alg].publicKey, {
      algorithms: [alg],
    })
    expect(protectedHeader).toEqual({ alg, typ: 'JWT' })
    expect(JSON.parse(Buffer.from(payload).toString())).toEqual(PAYLOAD)
  })

  it.each(SIGNATURE_ALGORITHMS)('rejects a %s token whose payload was changed', (alg) => {
    const [h, , s] = token(alg).split('.')
    const forged = `${h}.${b64url(JSON.stringify({ ...PAYLOAD, sub: 'admin' }))}.${s}`
    expect(verifyJwsSignature(forged, alg, KEYS[alg].publicKey)).toBe(false)
  })

  it.each(SIGNATURE_ALGORITHMS)('rejects a %s token whose signature was changed', (alg) => {
    const jws = token(alg)
    const signature = Buffer.from(jws.slice(jws.lastIndexOf('.') + 1), 'base64url')
    signature[10] = (signature[10] as number) ^ 0x01
    const tampered = withSignature(jws, signature.toString('base64url'))
    expect(verifyJwsSignature(tampered, alg, KEYS[alg].publicKey)).toBe(false)
  })

  it.each([
    ['RS256', otherRsa.publicKey],
    ['PS256', otherRsa.publicKey],
    ['ES256', otherP256.publicKey],
    ['EdDSA', otherEd25519.publicKey],
  ] as const)('rejects a %s token checked with another key of the same type', (alg, key) => {
    expect(verifyJwsSignature(token(alg), alg, key)).toBe(false)
  })

  it.each([
    ['an RSA key for ES256', 'RS256', 'ES256', rsa.publicKey],
    ['an EC key for RS256', 'ES256', 'RS256', p256.publicKey],
    ['an EC key on P-384 for ES256', 'ES256', 'ES256', p384.publicKey],
    ['an EC key on P-256 for ES384', 'ES256', 'ES384', p256.publicKey],
    ['an Ed25519 key for RS256', 'EdDSA', 'RS256', ed25519.publicKey],
    ['an Ed448 key for EdDSA', 'EdDSA', 'EdDSA', ed448.publicKey],
    ['an X25519 key for EdDSA', 'EdDSA', 'EdDSA', x25519.publicKey],
    ['a secret key for RS256', 'RS256', 'RS256', secret],
    ['a private key instead of the public one', 'RS256', 'RS256', rsa.privateKey],
  ] as const)('answers false, without throwing, for %s', (_name, signedWith, alg, key) => {
    expect(verifyJwsSignature(token(signedWith), alg, key)).toBe(false)
  })

  it('answers false for an RS256 signature checked with the same modulus as an RSA-PSS key', () => {
    const jws = token('RS256')
    const pssKey = asRsaPssPublicKey(rsa.publicKey)
    expect(pssKey.asymmetricKeyType).toBe('rsa-pss')
    expect(verifyJwsSignature(jws, 'RS256', rsa.publicKey)).toBe(true)
    expect(verifyJwsSignature(jws, 'RS256', pssKey)).toBe(false)
    // The key is sound for PSS: the refusal above is the algorithm rule, not a broken key.
    expect(verifyJwsSignature(token('PS256'), 'PS256', pssKey)).toBe(true)
  })

  it('answers false for an RSA-PSS key whose parameters do not allow the algorithm', () => {
    const jws = signJws({ alg: 'PS256' }, PAYLOAD, pssSha256.privateKey)
    expect(verifyJwsSignature(jws, 'PS384', pssSha256.publicKey)).toBe(false)
    expect(verifyJwsSignature(jws, 'PS256', pssSha384.publicKey)).toBe(false)
  })

  it('answers false for an RSA key under 2048 bits, even with a valid signature', () => {
    const input = `${b64url('{"alg":"RS256"}')}.${b64url(JSON.stringify(PAYLOAD))}`
    const signature = sign('sha256', Buffer.from(input), weakRsa.privateKey)
    const jws = `${input}.${signature.toString('base64url')}`
    expect(verifyJwsSignature(jws, 'RS256', weakRsa.publicKey)).toBe(false)
  })

  it('answers false for alg none, whatever the key', () => {
    const unsecured = `${b64url('{"alg":"none"}')}.${b64url(JSON.stringify(PAYLOAD))}.`
    for (const key of [rsa.publicKey, p256.publicKey, ed25519.publicKey, secret]) {
      expect(verifyJwsSignature(unsecured, 'none', key)).toBe(false)
    }
  })

  it('answers false for HS256 keyed with the bytes of an RSA public key PEM (key confusion)', () => {
    const pem = rsa.publicKey.export({ format: 'pem', type: 'spki' }) as string
    const input = `${b64url('{"alg":"HS256"}')}.${b64url(JSON.stringify(PAYLOAD))}`
    const mac = createHmac('sha256', pem).update(input).digest('base64url')
    const forged = `${input}.${mac}`
    expect(verifyJwsSignature(forged, 'HS256', createSecretKey(Buffer.from(pem)))).toBe(false)
    expect(verifyJwsSignature(forged, 'HS256', rsa.publicKey)).toBe(false)
    expect(verifyJwsSignature(forged, 'RS256', rsa.publicKey)).toBe(false)
  })

  it('answers false for an unknown algorithm, an Object.prototype name included', () => {
    for (const alg of ['ES256K', 'RSA-OAEP', 'constructor', 'toString', '']) {
      expect(verifyJwsSignature(token('RS256'), alg, rsa.publicKey)).toBe(false)
    }
  })

  it('answers false for a signature that is not the canonical base64url of its bytes', () => {
    const jws = token('RS256')
    const signature = jws.slice(jws.lastIndexOf('.') + 1)
    // 256 bytes: 342 characters, the last holding 2 data bits and 4 pad bits.
    expect(signature.length % 4).toBe(2)
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
    const last = alphabet.indexOf(signature.charAt(signature.length - 1))
    const strayBits = signature.slice(0, -1) + alphabet.charAt(last | 1)
    const base64 = Buffer.from(signature, 'base64url').toString('base64')
    for (const variant of [strayBits, `${signature}==`, base64, `${signature} `, `!${signature}`]) {
      expect(Buffer.from(variant, 'base64url')).toEqual(Buffer.from(signature, 'base64url'))
      expect(verifyJwsSignature(withSignature(jws, variant), 'RS256', rsa.publicKey)).toBe(false)
    }
  })

  it('answers false for a DER-encoded ECDSA signature (RFC 7518 §3.4 wants r || s)', () => {
    const jws = token('ES256')
    const input = jws.slice(0, jws.lastIndexOf('.'))
    const der = sign('sha256', Buffer.from(input), p256.privateKey).toString('base64url')
    expect(verifyJwsSignature(withSignature(jws, der), 'ES256', p256.publicKey)).toBe(false)
  })

  it('answers false unless the token has exactly three segments', () => {
    const jws = token('ES256')
    const [h, p, s] = jws.split('.') as [string, string, string]
    for (const shape of [`${h}.${s}`, `${h}${p}.${s}`, `x.${jws}`, `${h}.${p}..${s}`, s, '']) {
      expect(verifyJwsSignature(shape, 'ES256', p256.publicKey)).toBe(false)
    }
  })

  it('answers false, never throws, for arguments of the wrong type', () => {
    const jws = token('RS256')
    const cases: [unknown, unknown, unknown][] = [
      [undefined, 'RS256', rsa.publicKey],
      [42, 'RS256', rsa.publicKey],
      [jws, undefined, rsa.publicKey],
      [jws, 'RS256', undefined],
      [jws, 'RS256', rsa.publicKey.export({ format: 'pem', type: 'spki' })],
      [jws, 'RS256', rsa.publicKey.export({ format: 'jwk' })],
      [jws, 'RS256', {}],
    ]
    for (const [t, alg, key] of cases) {
      expect(verifyJwsSignature(t as string, alg as string, key as KeyObject)).toBe(false)
    }
  })

  it('answers false when node:crypto throws, as for a KeyObject look-alike', () => {
    // It passes instanceof and every property check, but node:crypto finds no key in it.
    const fake = Object.create(KeyObject.prototype, {
      type: { value: 'public' },
      asymmetricKeyType: { value: 'ed25519' },
      asymmetricKeyDetails: { value: {} },
    }) as KeyObject
    expect(verifyJwsSignature(token('EdDSA'), 'EdDSA', fake)).toBe(false)
  })
})

describe('defaultAlgorithmForKey', () => {
  it.each([
    ['an EC P-256 key', p256, 'ES256'],
    ['an EC P-384 key', p384, 'ES384'],
    ['an EC P-521 key', p521, 'ES512'],
    ['an Ed25519 key', ed25519, 'EdDSA'],
    ['an RSA key', rsa, 'RS256'],
    ['an RSA-PSS key', pss, 'PS256'],
    ['an RSA-PSS key restricted to SHA-256', pssSha256, 'PS256'],
  ] as const)('picks %s its algorithm, %s, for the public and the private key', (_n, pair, alg) => {
    expect(defaultAlgorithmForKey(pair.publicKey)).toBe(alg)
    expect(defaultAlgorithmForKey(pair.privateKey)).toBe(alg)
  })

  it.each([p256, p384, p521, ed25519, rsa, pss, pssSha256])(
    'picks an algorithm that signJws and verifyJwsSignature accept with the key (%#)',
    ({ publicKey, privateKey }) => {
      const jws = signJws({ alg: defaultAlgorithmForKey(privateKey) }, PAYLOAD, privateKey)
      expect(verifyJwsSignature(jws, defaultAlgorithmForKey(publicKey), publicKey)).toBe(true)
    },
  )

  it.each([
    ['an Ed448 key', ed448.privateKey],
    ['an X25519 key', x25519.publicKey],
    ['an EC key on secp256k1', secp256k1.publicKey],
    ['an RSA key under 2048 bits', weakRsa.publicKey],
    ['an RSA-PSS key restricted to SHA-384', pssSha384.publicKey],
    ['a secret key', secret],
    ['a PEM string', rsa.publicKey.export({ format: 'pem', type: 'spki' })],
  ])('throws a TypeError for %s', (_name, key) => {
    expect(() => defaultAlgorithmForKey(key as KeyObject)).toThrow(TypeError)
    expect(() => defaultAlgorithmForKey(key as KeyObject)).toThrow(
      /^defaultAlgorithmForKey: ccflow signs with EC P-256, P-384 or P-521, Ed25519 and RSA keys of at least 2048 bits; got (a |string \(not a KeyObject\))/,
    )
  })
})
