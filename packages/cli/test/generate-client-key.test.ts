import { createPrivateKey, createPublicKey } from 'node:crypto'
import { jwkThumbprint } from '@ccflow/core'
import { describe, expect, it } from 'vitest'
import {
  CLIENT_KEY_ALGORITHMS,
  DEFAULT_CLIENT_KEY_ALGORITHM,
  generateClientKey,
} from '../src/generate-client-key.js'
import { CliFailure } from '../src/cli-failure.js'

describe('generateClientKey', () => {
  it.each([
    ['ES256', { kty: 'EC', crv: 'P-256' }],
    ['EdDSA', { kty: 'OKP', crv: 'Ed25519' }],
    ['PS256', { kty: 'RSA' }],
    ['RS256', { kty: 'RSA' }],
  ] as const)(
    'makes a %s key pair whose public JWK is the private key’s public half',
    (alg, kind) => {
      const { privateJwk, publicJwks } = generateClientKey(alg)
      expect(privateJwk).toMatchObject({ ...kind, alg, use: 'sig' })
      expect(privateJwk.d).toBeTypeOf('string')
      expect(publicJwks.keys).toHaveLength(1)
      const [publicJwk] = publicJwks.keys
      expect(publicJwk).toMatchObject({ ...kind, alg, use: 'sig', kid: privateJwk.kid })
      const derived = createPublicKey(createPrivateKey({ key: privateJwk, format: 'jwk' }))
      expect(derived.export({ format: 'jwk' })).toEqual(
        createPublicKey({ key: publicJwk, format: 'jwk' }).export({ format: 'jwk' }),
      )
    },
  )

  it('makes RSA keys of 2048 bits, as generateSigningKey does', () => {
    const { privateJwk } = generateClientKey('RS256')
    const key = createPrivateKey({ key: privateJwk, format: 'jwk' })
    expect(key.asymmetricKeyDetails?.modulusLength).toBe(2048)
  })

  it('puts only public members in the public JWK', () => {
    for (const alg of CLIENT_KEY_ALGORITHMS) {
      const [publicJwk] = generateClientKey(alg).publicJwks.keys
      expect(Object.keys(publicJwk).sort()).toEqual(
        alg === 'ES256'
          ? ['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']
          : alg === 'EdDSA'
            ? ['alg', 'crv', 'kid', 'kty', 'use', 'x']
            : ['alg', 'e', 'kid', 'kty', 'n', 'use'],
      )
    }
  })

  it('names the key by its RFC 7638 thumbprint when no kid is given', () => {
    const { privateJwk, publicJwks } = generateClientKey('ES256')
    expect(privateJwk.kid).toBe(jwkThumbprint(publicJwks.keys[0]))
  })

  it('uses the kid it is given', () => {
    expect(generateClientKey('EdDSA', 'billing-2026').privateJwk.kid).toBe('billing-2026')
  })

  it.each(['', 'has space', 'x'.repeat(129), 'a/b'])('refuses the kid %j', (kid) => {
    expect(() => generateClientKey('ES256', kid)).toThrow(CliFailure)
  })

  it('defaults to ES256', () => {
    expect(DEFAULT_CLIENT_KEY_ALGORITHM).toBe('ES256')
  })
})
