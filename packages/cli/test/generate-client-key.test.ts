import { createPrivateKey, createPublicKey } from 'node:crypto'
import type { Jwk } from '@ccflow/core'
import { describe, expect, it } from 'vitest'
import {
  CLIENT_KEY_ALGORITHMS,
  DEFAULT_CLIENT_KEY_ALGORITHM,
  generateClientKey,
  jwkThumbprint,
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

describe('jwkThumbprint', () => {
  it('matches the RSA example of RFC 7638 §3.1', () => {
    const jwk: Jwk = {
      kty: 'RSA',
      n:
        '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECP' +
        'ebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2Q' +
        'vzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQF' +
        'h6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
      e: 'AQAB',
      alg: 'RS256',
      kid: '2011-04-29',
    }
    expect(jwkThumbprint(jwk)).toBe('NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs')
  })

  it('matches the Ed25519 example of RFC 8037 Appendix A.3', () => {
    const jwk: Jwk = {
      kty: 'OKP',
      crv: 'Ed25519',
      x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo',
    }
    expect(jwkThumbprint(jwk)).toBe('kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k')
  })
})
