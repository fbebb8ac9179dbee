import type { JsonWebKey } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { jwkThumbprint } from '../../src/jose/thumbprint.js'

describe('jwkThumbprint', () => {
  it('matches the RSA example of RFC 7638 §3.1', () => {
    const jwk: JsonWebKey = {
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
    const jwk: JsonWebKey = {
      kty: 'OKP',
      crv: 'Ed25519',
      x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo',
    }
    expect(jwkThumbprint(jwk)).toBe('kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k')
  })

  it.each(['oct', 'constructor', undefined])('refuses the key type %j', (kty) => {
    expect(() => jwkThumbprint({ kty } as JsonWebKey)).toThrow(
      'jwkThumbprint: the key type must be EC, OKP or RSA',
    )
  })
})
