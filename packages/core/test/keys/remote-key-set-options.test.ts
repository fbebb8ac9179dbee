import { describe, expect, it } from 'vitest'
import { resolveOptions } from '../../src/keys/remote-key-set-options.js'

const context = { where: 'requireToken', prefix: 'jwks.' }

describe('resolveOptions', () => {
  it('applies the defaults and converts seconds to milliseconds', () => {
    const config = resolveOptions({ jwksUri: 'https://auth.example.com/jwks.json' }, context)
    expect(config).toMatchObject({
      timeoutMs: 3000,
      cacheMaxAge: 600,
      cooldownMs: 30_000,
      staleForMs: 3_600_000,
      maxResponseBytes: 262_144,
    })
    expect(config.jwksUrl?.href).toBe('https://auth.example.com/jwks.json')
  })

  it("names the caller's factory and the prefixed path in its messages", () => {
    expect(() =>
      resolveOptions({ jwksUri: 'https://auth.example.com/j', staleForSeconds: -1 }, context),
    ).toThrow(/^requireToken: option "jwks\.staleForSeconds" must be a number from 0 to 604800$/)
  })

  it('takes the issuer URL from discovery when discover is set', () => {
    const config = resolveOptions({ discover: true, issuer: 'https://auth.example.com' }, context)
    expect(config.jwksUrl).toBeUndefined()
    expect(config.issuerUrl.href).toBe('https://auth.example.com/')
  })
})
