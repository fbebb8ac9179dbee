import { generateKeyPairSync } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  ASYMMETRIC_ALGORITHMS,
  EC_ALGORITHM_BY_JWK_CURVE,
  EC_ALGORITHM_BY_NODE_CURVE,
  EDDSA_ALGORITHM,
  HMAC_ALGORITHMS,
  SIGNATURE_ALGORITHMS,
  VERIFIABLE_ALGORITHMS,
} from '../src/jose/algorithms.js'

describe('algorithm tables', () => {
  it('never hold "none" (RFC 8725 §3.1)', () => {
    expect([...VERIFIABLE_ALGORITHMS].some((alg) => alg.toLowerCase() === 'none')).toBe(false)
  })

  it('keep HMAC out of the asymmetric list (no algorithm confusion, RFC 8725 §2.1)', () => {
    for (const alg of HMAC_ALGORITHMS) {
      expect(ASYMMETRIC_ALGORITHMS as readonly string[]).not.toContain(alg)
      expect(VERIFIABLE_ALGORITHMS.has(alg)).toBe(true)
    }
  })

  it('bind each curve to one ECDSA algorithm in both naming schemes (RFC 7518 §3.4)', () => {
    for (const [jwkCurve, nodeCurve] of [
      ['P-256', 'prime256v1'],
      ['P-384', 'secp384r1'],
      ['P-521', 'secp521r1'],
    ] as const) {
      const { publicKey } = generateKeyPairSync('ec', { namedCurve: jwkCurve })
      expect(publicKey.asymmetricKeyDetails?.namedCurve).toBe(nodeCurve)
      expect(publicKey.export({ format: 'jwk' }).crv).toBe(jwkCurve)
      expect(EC_ALGORITHM_BY_JWK_CURVE[jwkCurve]).toBe(EC_ALGORITHM_BY_NODE_CURVE[nodeCurve])
    }
  })

  it('list EdDSA among the signature algorithms only, never where jsonwebtoken verifies', () => {
    expect(EDDSA_ALGORITHM).toBe('EdDSA')
    expect(SIGNATURE_ALGORITHMS).toEqual([...ASYMMETRIC_ALGORITHMS, 'EdDSA'])
    expect(ASYMMETRIC_ALGORITHMS as readonly string[]).not.toContain('EdDSA')
    expect(VERIFIABLE_ALGORITHMS.has('EdDSA')).toBe(false)
    for (const alg of HMAC_ALGORITHMS) {
      expect(SIGNATURE_ALGORITHMS as readonly string[]).not.toContain(alg)
    }
  })
})
