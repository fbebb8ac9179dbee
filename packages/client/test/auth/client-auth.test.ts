import { createPublicKey, generateKeyPairSync } from 'node:crypto'
import { verifyJwsSignature } from '@ccflow/core'
import { describe, expect, it, vi } from 'vitest'
import {
  assertionAlgorithm,
  basicAuthorization,
  CLIENT_ASSERTION_TYPE,
  privateKeyJwtAuth,
  secretAuth,
} from '../../src/auth/client-auth.js'
import { importPrivateKey } from '../../src/auth/private-key.js'
import { jwtHeader, jwtPayload, SECRET } from '../helpers.js'

const at = { where: 'test', path: 'privateKey' }

describe('basicAuthorization', () => {
  it('form-encodes id and secret before base64 (RFC 6749 Appendix B example)', () => {
    // Appendix B: " %&+£€" is encoded as "+%25%26%2B%C2%A3%E2%82%AC".
    const header = basicAuthorization('a b', ' %&+£€')
    expect(Buffer.from(header.slice(6), 'base64').toString()).toBe('a+b:+%25%26%2B%C2%A3%E2%82%AC')
  })

  it('encodes ":" so that the server splits at the right colon', () => {
    const header = basicAuthorization('id:x', 's:y')
    expect(Buffer.from(header.slice(6), 'base64').toString()).toBe('id%3Ax:s%3Ay')
  })
})

describe('secretAuth', () => {
  it('puts the credentials in the Authorization header for client_secret_basic', () => {
    const auth = secretAuth('client_secret_basic', 'billing', SECRET)
    expect(auth.credentials('aud')).toEqual({
      body: [],
      authorization: basicAuthorization('billing', SECRET),
    })
  })

  it('puts the credentials in the body for client_secret_post', () => {
    const auth = secretAuth('client_secret_post', 'billing', SECRET)
    expect(auth.credentials('aud')).toEqual({
      body: [
        ['client_id', 'billing'],
        ['client_secret', SECRET],
      ],
      authorization: undefined,
    })
  })

  it('fingerprints the secret by a hash that holds no part of it', () => {
    const a = secretAuth('client_secret_basic', 'billing', SECRET).fingerprint
    expect(a).toMatch(/^[\w-]{43}$/)
    expect(a).not.toContain(SECRET)
    expect(secretAuth('client_secret_basic', 'billing', `${SECRET}2`).fingerprint).not.toBe(a)
  })
})

describe('privateKeyJwtAuth', () => {
  it('signs a fresh RFC 7523 assertion for every attempt', () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(new Date('2030-01-01T00:00:00Z'))
    try {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
      const key = importPrivateKey(privateKey, at)
      const auth = privateKeyJwtAuth('billing', key, 'ES256', 'k1')
      const first = auth.credentials('https://auth.example')
      const second = auth.credentials('https://auth.example')
      const assertion = first.body.find(([name]) => name === 'client_assertion')?.[1] as string
      expect(first.body.slice(0, 2)).toEqual([
        ['client_id', 'billing'],
        ['client_assertion_type', CLIENT_ASSERTION_TYPE],
      ])
      expect(first.authorization).toBeUndefined()
      expect(jwtHeader(assertion)).toEqual({
        alg: 'ES256',
        kid: 'k1',
        typ: 'client-authentication+jwt',
      })
      const iat = Math.floor(Date.now() / 1000)
      expect(jwtPayload(assertion)).toEqual({
        iss: 'billing',
        sub: 'billing',
        aud: 'https://auth.example',
        iat,
        exp: iat + 60,
        jti: expect.stringMatching(/^[\w-]{22}$/) as unknown,
      })
      expect(verifyJwsSignature(assertion, 'ES256', publicKey)).toBe(true)
      const again = second.body.find(([name]) => name === 'client_assertion')?.[1] as string
      expect(jwtPayload(again).jti).not.toBe(jwtPayload(assertion).jti)
      expect(auth.fingerprint).toBe(key.thumbprint)
    } finally {
      vi.useRealTimers()
    }
  })

  it('leaves kid out when the key has none', () => {
    const { privateKey } = generateKeyPairSync('ed25519')
    const auth = privateKeyJwtAuth('c', importPrivateKey(privateKey, at), 'EdDSA', undefined)
    const assertion = auth.credentials('a').body[2]?.[1] as string
    expect(jwtHeader(assertion)).toEqual({ alg: 'EdDSA', typ: 'client-authentication+jwt' })
  })
})

describe('assertionAlgorithm', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey

  it.each([
    ['EC P-256', generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, 'ES256'],
    ['EC P-384', generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey, 'ES384'],
    ['Ed25519', generateKeyPairSync('ed25519').privateKey, 'EdDSA'],
    ['RSA', rsa, 'RS256'],
  ])('defaults to the algorithm of the key: %s → %s', (_name, key, alg) => {
    expect(assertionAlgorithm(key, undefined, 'test')).toBe(alg)
  })

  it('accepts a configured algorithm that fits the key (PS256 with RSA)', () => {
    expect(assertionAlgorithm(rsa, 'PS256', 'test')).toBe('PS256')
  })

  it('refuses an algorithm that does not fit the key, naming the option', () => {
    expect(() => assertionAlgorithm(rsa, 'ES256', 'test')).toThrow(
      'test: option "algorithm" ES256 does not fit the private key',
    )
  })

  it('refuses a key it cannot sign with, naming privateKey', () => {
    const x25519 = generateKeyPairSync('x25519').privateKey
    expect(() => assertionAlgorithm(x25519, undefined, 'test')).toThrow(
      /^test: option "privateKey"/,
    )
  })

  it('thumbprints the public key (RFC 7638)', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const key = importPrivateKey(privateKey, at)
    expect(key.thumbprint).toBe(
      importPrivateKey(privateKey.export({ format: 'jwk' }), at).thumbprint,
    )
    expect(createPublicKey(key.key).equals(publicKey)).toBe(true)
  })
})
