import { createSecretKey, generateKeyPairSync, KeyObject } from 'node:crypto'
import { jwkThumbprint } from '@ccflow/core'
import { describe, expect, it } from 'vitest'
import { importPrivateKey } from '../../src/auth/private-key.js'

const at = { where: 'createTokenClient', path: 'privateKey' }
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
const thumbprint = jwkThumbprint(publicKey.export({ format: 'jwk' }))

describe('importPrivateKey', () => {
  it('imports a KeyObject, a private JWK (with its kid) and a PEM string alike', () => {
    const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'k1' }
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }) as string
    expect(importPrivateKey(privateKey, at)).toEqual({
      key: privateKey,
      kid: undefined,
      thumbprint,
    })
    const fromJwk = importPrivateKey(jwk, at)
    expect([fromJwk.kid, fromJwk.thumbprint, fromJwk.key.type]).toEqual([
      'k1',
      thumbprint,
      'private',
    ])
    const fromPem = importPrivateKey(pem, at)
    expect(fromPem.key).toBeInstanceOf(KeyObject)
    expect(fromPem.thumbprint).toBe(thumbprint)
  })

  it.each([
    ['a public KeyObject', publicKey, 'must be a private key'],
    [
      'a public PEM',
      publicKey.export({ format: 'pem', type: 'spki' }),
      'must be a PEM private key',
    ],
    [
      'an encrypted PEM',
      '-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----',
      'unencrypted',
    ],
    [
      'a broken PEM',
      '-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----',
      'could not be read',
    ],
    ['a public JWK', publicKey.export({ format: 'jwk' }), 'must be a private EC, OKP or RSA JWK'],
    ['an oct JWK', { kty: 'oct', k: 'c2VjcmV0', d: 'x' }, 'must be a private EC, OKP or RSA JWK'],
    [
      'a JWK with a numeric kid',
      { ...privateKey.export({ format: 'jwk' }), kid: 1 },
      '"kid" is a string',
    ],
    ['a number', 42, 'must be a KeyObject, a private JWK or a PEM string'],
    ['a secret KeyObject', createSecretKey(Buffer.alloc(32)), 'must be a private key'],
  ])('refuses %s without showing key material', (_name, input, problem) => {
    let error: unknown
    try {
      importPrivateKey(input, at)
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(TypeError)
    expect((error as Error).message).toContain('createTokenClient: option "privateKey"')
    expect((error as Error).message).toContain(problem)
    expect((error as Error).message).not.toMatch(/AAAA|base64|"d"\s*:/)
  })

  it('refuses a key without a JWK form (Diffie-Hellman)', () => {
    const dh = generateKeyPairSync('dh' as 'x448', { group: 'modp14' } as never).privateKey
    expect(() => importPrivateKey(dh, at)).toThrow(
      'createTokenClient: option "privateKey" must be an EC, Ed25519 or RSA key',
    )
  })
})
