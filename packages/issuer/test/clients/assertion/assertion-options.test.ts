import { describe, expect, it } from 'vitest'
import {
  PRIVATE_KEY_JWT_DEFAULTS,
  resolvePrivateKeyJwtOptions,
} from '../../../src/clients/assertion/assertion-options.js'

const WHERE = 'tokenEndpoint'

describe('resolvePrivateKeyJwtOptions', () => {
  it('applies the strict defaults when the option is left out', () => {
    const config = resolvePrivateKeyJwtOptions(undefined, WHERE)
    expect(config).toMatchObject({
      assertionAudience: 'issuer',
      signingAlgorithms: ['ES256', 'EdDSA', 'PS256', 'RS256'],
      maxAssertionLifetimeSeconds: 300,
      clockToleranceSeconds: 15,
    })
    expect(config.signingAlgorithms).toBe(PRIVATE_KEY_JWT_DEFAULTS.signingAlgorithms)
    expect(typeof config.replayStore.claim).toBe('function')
    config.keySets.close()
  })

  it('keeps given values and copies the algorithm list', () => {
    const algorithms = ['ES384', 'RS256'] as const
    const replayStore = { claim: () => Promise.resolve(true) }
    const config = resolvePrivateKeyJwtOptions(
      {
        assertionAudience: 'legacy',
        signingAlgorithms: algorithms,
        maxAssertionLifetimeSeconds: 60,
        clockToleranceSeconds: 0,
        replayStore,
      },
      WHERE,
    )
    expect(config.assertionAudience).toBe('legacy')
    expect(config.signingAlgorithms).toEqual(['ES384', 'RS256'])
    expect(config.signingAlgorithms).not.toBe(algorithms)
    expect(Object.isFrozen(config.signingAlgorithms)).toBe(true)
    expect(config.replayStore).toBe(replayStore)
    config.keySets.close()
  })

  it.each([
    [
      { assertionAudience: 'token-endpoint' },
      /option "privateKeyJwt.assertionAudience" must be 'issuer', 'issuer-string' or 'legacy'/,
    ],
    [
      { signingAlgorithms: [] },
      /option "privateKeyJwt.signingAlgorithms" must be a non-empty array/,
    ],
    [{ signingAlgorithms: ['HS256'] }, /option "privateKeyJwt.signingAlgorithms" must be/],
    [{ signingAlgorithms: ['none'] }, /option "privateKeyJwt.signingAlgorithms" must be/],
    [
      { signingAlgorithms: ['ES256', 'ES256'] },
      /option "privateKeyJwt.signingAlgorithms" must be .*distinct/,
    ],
    [{ signingAlgorithms: 'ES256' }, /option "privateKeyJwt.signingAlgorithms" must be/],
    [
      { maxAssertionLifetimeSeconds: 3601 },
      /option "privateKeyJwt.maxAssertionLifetimeSeconds" must be an integer from 1 to 3600/,
    ],
    [
      { clockToleranceSeconds: -1 },
      /option "privateKeyJwt.clockToleranceSeconds" must be an integer from 0 to 300/,
    ],
    [{ replayStore: {} }, /option "privateKeyJwt.replayStore" must be a ReplayStore/],
    [{ replayStore: null }, /option "privateKeyJwt.replayStore" must be a ReplayStore/],
    [
      { replayStor: {} },
      /unknown option "privateKeyJwt.replayStor" \(did you mean "privateKeyJwt.replayStore"\?\)/,
    ],
    [{ jwksUri: { timeoutMs: 0 } }, /option "privateKeyJwt.jwksUri.timeoutMs"/],
    ['strict', /option "privateKeyJwt" must be/],
  ])('throws a TypeError naming the option for %j', (value, message) => {
    expect(() => resolvePrivateKeyJwtOptions(value, WHERE)).toThrow(message)
  })
})
