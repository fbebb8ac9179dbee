import { createPublicKey, generateKeyPairSync } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { algorithmsForKey, importStaticKeys } from '../../src/keys/static-keys.js'
import { ecKeyPair, HMAC_SECRET, hmacKey, rsaKeyPair } from '../helpers.js'

const rsa = rsaKeyPair()
const ec = ecKeyPair()
// A self-signed X.509 certificate (public data only; its private key was discarded).
const CERTIFICATE = `-----BEGIN CERTIFICATE-----
MIIC+TCCAeGgAwIBAgIUF6YFDPIv+Lt5o8PVdnDcYZACi4wwDQYJKoZIhvcNAQEL
BQAwDDEKMAgGA1UEAwwBdDAeFw0yNjExMjYxMTM1MzJaFw0yNjExMjcxMTM1MzJa
MAwxCjAIBgNVBAMMAXQwggEiMA0GCSqGSIb3DQEBAQUAA4IBDwAwggEKAoIBAQCO
B4b7UUoMazv23En7l3nuq4MBYqItbAW/srFTOD85JqcrH1OqIiUKYivRMEYvyYk5
JcD+qY8nuGCYJZ9Ywge9ceXdHV8CyP4joaKw2F5uhrFcSSPUdCngZ59ww6ikkHnE
rq3B9JvapCC60MCnuRSaWddgy2+PiJuDHsL6muU/4RlQwzSJ4Ps+qXTphkTHZ3+n
uS1AdtzugtYi+xzPMhvwjkYm1CD+eJhfBTDoUu6NX2AXFX6I30+8ngTC+nkPPrZK
jKudG+Bo4QERgZkIs3Si1F36FURO8pAVuHQctNb7yTKOYztOdsdKhgDsoY0RF5gq
stTwfArjLGleNXhqupdNAgMBAAGjUzBRMB0GA1UdDgQWBBQqZRi4N9EJIa+hIIe8
nJ5Akvj6cTAfBgNVHSMEGDAWgBQqZRi4N9EJIa+hIIe8nJ5Akvj6cTAPBgNVHRMB
Af8EBTADAQH/MA0GCSqGSIb3DQEBCwUAA4IBAQAv5z9VqIpsIl/4Dpr7+KVaMGj9
oUaGnEAdGZ76q80gzcuqtVfGrcEG/xta+iCTkXa6HLboGz9fU/eB2MzdtAI+9ssT
j3ARcEw6z50KKFW++JjBJiOXV4fOgKtyF9TaUjKWqrR4MkhIIwrjxiwm4DPUW05Q
u2v6T4oZblMw0CkVH/M4odXC4xwKcYzHFlfvgob9qfkyo6CeMAoTIBocruU7rp87
rPBY5SGQMkkww++5Zv3q5yiceqMkKJCU/eroiZ5gtw4xTiWHzBRH360CIqQX3kzM
2ukO//xWiFGmtRisSSmudo944fUAhDRkiZhHkdkNMw0DfR6Yo02yEGlczCTE
-----END CERTIFICATE-----
`
const RSA_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512']

describe('importStaticKeys', () => {
  it('imports an SPKI PEM, a PKCS#1 PEM, a JWK and a KeyObject as the same public key', () => {
    const spki = rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string
    const pkcs1 = rsa.publicKey.export({ type: 'pkcs1', format: 'pem' }) as string
    const jwk = rsa.publicKey.export({ format: 'jwk' })
    const keys = importStaticKeys([spki, pkcs1, jwk, rsa.publicKey])
    expect(keys).toHaveLength(4)
    for (const { key, algorithms } of keys) {
      expect(key.equals(rsa.publicKey)).toBe(true)
      expect([...algorithms]).toEqual(RSA_ALGS)
    }
  })

  it('imports the public key of an X.509 certificate PEM', () => {
    const [imported] = importStaticKeys([CERTIFICATE])
    expect(imported?.key.asymmetricKeyType).toBe('rsa')
    expect([...(imported?.algorithms ?? [])]).toEqual(RSA_ALGS)
  })

  it('keeps only the public half of a private key', () => {
    const [imported] = importStaticKeys([rsa.privateKey])
    expect(imported?.key.type).toBe('public')
  })

  it('reads kid and alg from a wrapper or a JWK', () => {
    const jwk = { ...ec.publicKey.export({ format: 'jwk' }), kid: 'e1', alg: 'ES256' }
    const [wrapped, fromJwk] = importStaticKeys([
      { key: rsa.publicKey, kid: 'r1', alg: 'PS256' },
      jwk,
    ])
    expect(wrapped?.kid).toBe('r1')
    expect([...(wrapped?.algorithms ?? [])]).toEqual(['PS256'])
    expect(fromJwk?.kid).toBe('e1')
    expect([...(fromJwk?.algorithms ?? [])]).toEqual(['ES256'])
  })

  it('treats kid and alg set to undefined on a wrapper as not given', () => {
    const [key] = importStaticKeys([{ key: rsa.publicKey, kid: undefined, alg: undefined }])
    expect(key?.kid).toBeUndefined()
    expect([...(key?.algorithms ?? [])]).toEqual([
      'RS256',
      'RS384',
      'RS512',
      'PS256',
      'PS384',
      'PS512',
    ])
  })

  it('restricts a wrapped JWK to its own alg (RFC 7517 §4.4)', () => {
    const jwk = { ...rsa.publicKey.export({ format: 'jwk' }), alg: 'PS256', kid: 'r1' }
    const [wrapped] = importStaticKeys([{ key: jwk }])
    expect(wrapped?.kid).toBe('r1')
    expect([...(wrapped?.algorithms ?? [])]).toEqual(['PS256'])
    expect(() => importStaticKeys([{ key: jwk, alg: 'RS256' }])).toThrow(
      /keys\[0\]\.alg and keys\[0\]\.key\.alg disagree/,
    )
  })

  it('refuses a JWK whose key_ops do not allow verify (RFC 7517 §4.3)', () => {
    const jwk = rsa.publicKey.export({ format: 'jwk' })
    expect(() => importStaticKeys([{ ...jwk, key_ops: ['encrypt'] }])).toThrow(/key_ops/)
    expect(() =>
      importStaticKeys([{ key: { ...jwk, key_ops: 'verify' as unknown as string[] } }]),
    ).toThrow(/key_ops/)
    expect(importStaticKeys([{ ...jwk, key_ops: ['verify'] }])).toHaveLength(1)
  })

  it('imports an HMAC secret as a string, bytes, KeyObject or oct JWK', () => {
    const keys = importStaticKeys([
      { secret: HMAC_SECRET },
      { secret: Buffer.from(HMAC_SECRET) },
      { secret: hmacKey() },
      { kty: 'oct', k: Buffer.from(HMAC_SECRET).toString('base64url') },
    ])
    for (const { key, algorithms } of keys) {
      expect(key.type).toBe('secret')
      expect([...algorithms]).toEqual(['HS256'])
    }
  })

  it.each([
    ['an SPKI PEM', (): unknown => rsa.publicKey.export({ type: 'spki', format: 'pem' })],
    ['a PKCS#1 PEM', (): unknown => rsa.publicKey.export({ type: 'pkcs1', format: 'pem' })],
    ['a certificate PEM', (): unknown => CERTIFICATE],
    ['a certificate PEM in a Buffer', (): unknown => Buffer.from(CERTIFICATE)],
    ['a DER SPKI', (): unknown => rsa.publicKey.export({ type: 'spki', format: 'der' })],
    ['a DER PKCS#1', (): unknown => rsa.publicKey.export({ type: 'pkcs1', format: 'der' })],
    ['a JWK as JSON text', (): unknown => JSON.stringify(rsa.publicKey.export({ format: 'jwk' }))],
    [
      'an EC JWK as JSON text',
      (): unknown => JSON.stringify(ec.publicKey.export({ format: 'jwk' })),
    ],
  ])('refuses %s as an HMAC secret (algorithm confusion, RFC 8725 §2.1)', (_name, material) => {
    expect(() => importStaticKeys([{ secret: material() as string }])).toThrow(
      /keys\[0\]\.secret is a public key/,
    )
    const bytes = Buffer.from(material() as string)
    expect(() => importStaticKeys([{ kty: 'oct', k: bytes.toString('base64url') }])).toThrow(
      /is a public key/,
    )
  })

  it.each([
    [[{ secret: 'x'.repeat(31) }], /keys\[0\]\.secret must be at least 32 bytes/],
    [[rsa.publicKey, rsaKeyPair(1024).publicKey], /keys\[1\] is an RSA key of 1024 bits/],
    [[generateKeyPairSync('ed25519').publicKey], /unsupported ed25519 key/],
    [
      [generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey],
      /unsupported EC key on curve secp256k1/,
    ],
    [[{ key: rsa.publicKey, alg: 'ES256' }], /alg "ES256" cannot be used with an RSA key/],
    [[{ secret: HMAC_SECRET, alg: 'RS256' }], /alg "RS256" cannot be used with an HMAC secret/],
    [['not a pem'], /keys\[0\] is not a valid PEM/],
    [[{ kty: 'RSA', n: 'x' }], /keys\[0\] is not a valid JWK/],
    [[{ ...rsa.publicKey.export({ format: 'jwk' }), use: 'enc' }], /cannot verify/],
    [[42], /must be a PEM string, a JWK, a KeyObject or \{ secret \}/],
    [[{ key: rsa.publicKey, kid: '' }], /keys\[0\]\.kid must be a non-empty string/],
    [[], /non-empty array/],
  ])('throws a TypeError naming the bad key (%#)', (keys, message) => {
    expect(() => importStaticKeys(keys as never)).toThrow(message)
  })
})

describe('importStaticKeys (key kinds)', () => {
  it('limits an RSA-PSS key to PS256, PS384 and PS512 (RFC 7518 §3.5)', () => {
    const pss = generateKeyPairSync('rsa-pss', { modulusLength: 2048 }).publicKey
    const [imported] = importStaticKeys([pss])
    expect([...(imported?.algorithms ?? [])]).toEqual(['PS256', 'PS384', 'PS512'])
    expect(() => importStaticKeys([{ key: pss, alg: 'RS256' }])).toThrow(
      /alg "RS256" cannot be used with an RSA key of 2048 bits/,
    )
  })

  it('refuses an RSA-PSS key under 2048 bits', () => {
    const weak = generateKeyPairSync('rsa-pss', { modulusLength: 1024 }).publicKey
    expect(() => importStaticKeys([weak])).toThrow(/keys\[0\] is an RSA key of 1024 bits/)
  })

  it('takes a bare secret KeyObject as an HMAC secret', () => {
    const [imported] = importStaticKeys([hmacKey()])
    expect(imported?.key.type).toBe('secret')
    expect([...(imported?.algorithms ?? [])]).toEqual(['HS256'])
  })

  it('checks a bare secret KeyObject like any other secret', () => {
    expect(() => importStaticKeys([hmacKey('short')])).toThrow(/at least 32 bytes/)
  })

  it.each<[string, unknown, RegExp]>([
    ['a public KeyObject', rsa.publicKey, /keys\[0\]\.secret must be a secret KeyObject/],
    ['a number', 42, /keys\[0\]\.secret must be a string, Uint8Array or KeyObject/],
    ['null', null, /keys\[0\]\.secret must be a string, Uint8Array or KeyObject/],
  ])('refuses { secret } holding %s', (_label, secret, message) => {
    expect(() => importStaticKeys([{ secret: secret as string }])).toThrow(message)
  })

  it('refuses an oct JWK without "k"', () => {
    expect(() => importStaticKeys([{ kty: 'oct' }])).toThrow(/keys\[0\] is an oct JWK without "k"/)
    expect(() => importStaticKeys([{ kty: 'oct', k: 7 } as never])).toThrow(/oct JWK without "k"/)
  })
})

describe('algorithmsForKey', () => {
  it('maps EC curves to their one algorithm', () => {
    expect(algorithmsForKey(ec.publicKey)).toEqual(['ES256'])
    expect(algorithmsForKey(ecKeyPair('P-384').publicKey)).toEqual(['ES384'])
    expect(algorithmsForKey(ecKeyPair('P-521').publicKey)).toEqual(['ES512'])
  })

  it('allows HS384 and HS512 only for secrets long enough (RFC 7518 §3.2)', () => {
    expect(algorithmsForKey(hmacKey('y'.repeat(48)))).toEqual(['HS256', 'HS384'])
    expect(algorithmsForKey(hmacKey('y'.repeat(64)))).toEqual(['HS256', 'HS384', 'HS512'])
  })

  it('gives nothing for a private key or a weak key', () => {
    expect(algorithmsForKey(rsa.privateKey)).toEqual([])
    expect(algorithmsForKey(createPublicKey(rsaKeyPair(1024).privateKey))).toEqual([])
  })
})
