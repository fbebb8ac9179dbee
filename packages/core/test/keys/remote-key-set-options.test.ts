import { describe, expect, it } from 'vitest'
import { REMOTE_KEY_SET_OPTIONS, resolveOptions } from '../../src/keys/remote-key-set-options.js'

const context = { where: 'requireToken', prefix: 'jwks.' }

describe('resolveOptions', () => {
  it('resolves every option set to undefined as when it is absent', () => {
    const jwksUri = 'https://auth.example.com/jwks.json'
    const names = ['issuer', 'discover', 'onEvent', 'unavailableError', 'algorithms', 'fetch']
    const everyUndefined = Object.fromEntries(
      [...names, 'minCacheMaxAgeSeconds', 'lazy', ...Object.keys(REMOTE_KEY_SET_OPTIONS)].map(
        (name) => [name, undefined],
      ),
    )
    expect(resolveOptions({ ...everyUndefined, jwksUri }, context)).toStrictEqual(
      resolveOptions({ jwksUri }, context),
    )
  })

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
    expect(config).toMatchObject({ minCacheMaxAge: 30, lazy: false, fetch: undefined })
    expect([...config.algorithms]).toEqual([
      'RS256',
      'RS384',
      'RS512',
      'PS256',
      'PS384',
      'PS512',
      'ES256',
      'ES384',
      'ES512',
    ])
  })

  it('takes algorithms, fetch, minCacheMaxAgeSeconds and lazy from a wrapping factory', () => {
    const fetch = (): Promise<Response> => Promise.resolve(new Response('{}'))
    const config = resolveOptions(
      {
        jwksUri: 'https://client.example.com/jwks.json',
        algorithms: ['EdDSA', 'ES256'],
        fetch,
        minCacheMaxAgeSeconds: 60,
        lazy: true,
      },
      { where: 'createClientKeySets', prefix: '' },
    )
    expect([...config.algorithms]).toEqual(['EdDSA', 'ES256'])
    expect(config).toMatchObject({ fetch, minCacheMaxAge: 60, lazy: true })
  })

  const ALL = 'RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA'
  it.each([
    ['an empty array', [], `must be a non-empty array of ${ALL}`],
    ['a string', 'RS256', `must be a non-empty array of ${ALL}`],
    ['HS256', ['RS256', 'HS256'], `holds "HS256"; it must be a non-empty array of ${ALL}`],
    ['none', ['none'], `holds "none"; it must be a non-empty array of ${ALL}`],
    ['a number', [256], `holds a number; it must be a non-empty array of ${ALL}`],
  ])('refuses algorithms given as %s', (_name, algorithms, problem) => {
    expect(() =>
      resolveOptions({ jwksUri: 'https://a.example/j', algorithms: algorithms as never }, context),
    ).toThrow(new TypeError(`requireToken: option "algorithms" ${problem}`))
  })

  it('refuses a fetch that is not a function, a lazy that is not a boolean and a minimum max-age out of range', () => {
    const jwksUri = 'https://auth.example.com/j'
    expect(() => resolveOptions({ jwksUri, fetch: 'global' as never }, context)).toThrow(
      /^requireToken: option "fetch" must be a function$/,
    )
    expect(() => resolveOptions({ jwksUri, lazy: 1 as never }, context)).toThrow(
      /^requireToken: option "lazy" must be a boolean$/,
    )
    expect(() => resolveOptions({ jwksUri, minCacheMaxAgeSeconds: 0 }, context)).toThrow(
      /^requireToken: option "minCacheMaxAgeSeconds" must be a number from 1 to 86400$/,
    )
  })

  it("keeps the wrapping factory's options out of the guard's jwks table", () => {
    for (const name of ['algorithms', 'fetch', 'minCacheMaxAgeSeconds', 'lazy']) {
      expect(REMOTE_KEY_SET_OPTIONS).not.toHaveProperty(name)
    }
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
