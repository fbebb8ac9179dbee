import { generateKeyPairSync } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { importClientJwks, inlineClientKey } from '../../../src/clients/assertion/inline-keys.js'
import { validateClient } from '../../../src/clients/client-store.js'

const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' })
const ed = generateKeyPairSync('ed25519')
const EC_JWK = { ...ec.publicKey.export({ format: 'jwk' }), kid: 'ec-1' }
const ED_JWK = { ...ed.publicKey.export({ format: 'jwk' }), kid: 'ed-1' }

describe('inlineClientKey', () => {
  it('finds the key by kid and alg, and without kid the only key that fits alg', () => {
    const client = validateClient({
      client_id: 'billing',
      scope: 'a',
      audiences: ['urn:a'],
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [EC_JWK, ED_JWK] },
    })
    const jwks = client.jwks!
    expect(inlineClientKey(jwks, 'ec-1', 'ES256')?.asymmetricKeyType).toBe('ec')
    expect(inlineClientKey(jwks, 'ed-1', 'EdDSA')?.asymmetricKeyType).toBe('ed25519')
    expect(inlineClientKey(jwks, undefined, 'EdDSA')?.asymmetricKeyType).toBe('ed25519')
    // The kid of another key type, an unknown kid, an alg no key fits: nothing.
    expect(inlineClientKey(jwks, 'ec-1', 'EdDSA')).toBeUndefined()
    expect(inlineClientKey(jwks, 'nope', 'ES256')).toBeUndefined()
    expect(inlineClientKey(jwks, undefined, 'RS256')).toBeUndefined()
  })

  it('refuses to guess without kid when two keys fit the alg', () => {
    const other = {
      ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' }),
      kid: 'ec-2',
    }
    const jwks = { keys: [EC_JWK, other] }
    expect(inlineClientKey(jwks, undefined, 'ES256')).toBeUndefined()
    expect(inlineClientKey(jwks, 'ec-2', 'ES256')).toBeDefined()
  })

  it('imports, under the same rule, a set that was not checked through a record', () => {
    expect(inlineClientKey({ keys: [EC_JWK] }, 'ec-1', 'ES256')).toBeDefined()
    const leaked = { ...ec.privateKey.export({ format: 'jwk' }), kid: 'ec-1' }
    expect(() => inlineClientKey({ keys: [leaked] }, 'ec-1', 'ES256')).toThrow(
      /keys\[0\] holds private key members/,
    )
  })
})

describe('importClientJwks', () => {
  it('names the key and why it is refused', () => {
    expect(() => importClientJwks({ keys: [EC_JWK, { kty: 'RSA', n: 'x' }] }, 'jwks')).toThrow(
      new TypeError('jwks.keys[1] is not a valid JWK'),
    )
    expect(() =>
      importClientJwks({ keys: [{ kty: 'OKP', crv: 'X25519', x: 'x' }] }, 'jwks'),
    ).toThrow(/jwks\.keys\[0\] is not an RSA, EC/)
  })
})
