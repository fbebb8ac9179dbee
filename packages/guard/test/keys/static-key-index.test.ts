import { describe, expect, it } from 'vitest'
import { createStaticKeyIndex } from '../../src/keys/static-key-index.js'
import type { StaticKey } from '../../src/keys/static-keys.js'
import { ecKeyPair, rsaKeyPair } from '../helpers.js'

const rsa = rsaKeyPair().publicKey
const ec = ecKeyPair().publicKey
const rsaOld = rsaKeyPair().publicKey

const keys: StaticKey[] = [
  { key: rsa, kid: 'rsa-1', algorithms: new Set(['RS256', 'PS256']) },
  { key: rsaOld, kid: 'rsa-1', algorithms: new Set(['RS256']) },
  { key: ec, kid: undefined, algorithms: new Set(['ES256']) },
]

describe('createStaticKeyIndex', () => {
  const candidates = createStaticKeyIndex(keys)

  it('checks a token naming a configured kid against the keys of that kid only', () => {
    expect(candidates({ alg: 'RS256', kid: 'rsa-1' })).toEqual([rsa, rsaOld])
    expect(candidates({ alg: 'ES256', kid: 'rsa-1' })).toEqual([])
  })

  it('narrows the candidates to the keys that may verify the alg (no algorithm confusion)', () => {
    expect(candidates({ alg: 'PS256', kid: 'rsa-1' })).toEqual([rsa])
  })

  it('falls back to the keys configured without a kid for an unknown kid', () => {
    expect(candidates({ alg: 'ES256', kid: 'other' })).toEqual([ec])
    expect(candidates({ alg: 'RS256', kid: 'other' })).toEqual([])
  })

  it('tries every key that fits the alg when the token names no kid', () => {
    expect(candidates({ alg: 'RS256' })).toEqual([rsa, rsaOld])
  })
})
