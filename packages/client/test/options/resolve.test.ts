import { generateKeyPairSync } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  resolveGetToken,
  resolveOptions,
  resolveResource,
  resolveScope,
  TOKEN_CLIENT_DEFAULTS,
} from '../../src/options/resolve.js'
import type { TokenClientOptions } from '../../src/options/types.js'
import { SECRET } from '../helpers.js'

const base: TokenClientOptions = {
  tokenEndpoint: 'https://auth.example/token',
  clientId: 'billing',
  clientSecret: SECRET,
}
const ecKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey

describe('resolveOptions', () => {
  it('fills in the documented defaults', () => {
    const config = resolveOptions(base)
    expect(config).toMatchObject({
      ...TOKEN_CLIENT_DEFAULTS,
      clientId: 'billing',
      endpointId: 'https://auth.example/token',
      assertionAudience: 'https://auth.example/token',
      scope: [],
      resource: [],
      params: [],
      store: undefined,
      emit: expect.any(Function) as unknown,
      dispatcher: undefined,
    })
    expect(config.auth.method).toBe('client_secret_basic')
    expect(TOKEN_CLIENT_DEFAULTS).toEqual({
      deadlineMs: 10_000,
      maxRetries: 2,
      maxRetryAfterSeconds: 60,
      maxResponseBytes: 65_536,
      maxEntries: 1000,
    })
    expect(Object.isFrozen(config)).toBe(true)
  })

  it('discovers the endpoint from an issuer, which is then the assertion audience', () => {
    const config = resolveOptions({
      ...base,
      tokenEndpoint: undefined,
      issuer: 'https://auth.example',
    })
    expect(config.endpoint).toMatchObject({ kind: 'discovery', issuer: 'https://auth.example' })
    expect(config.endpointId).toBe('issuer:https://auth.example')
    expect(config.assertionAudience).toBe('https://auth.example')
  })

  it('uses tokenEndpoint as is when both are given, with the issuer as assertion audience', () => {
    const config = resolveOptions({ ...base, issuer: 'https://auth.example' })
    expect(config.endpoint.kind).toBe('static')
    expect(config.assertionAudience).toBe('https://auth.example')
    expect(resolveOptions({ ...base, assertionAudience: 'x' }).assertionAudience).toBe('x')
  })

  it('chooses private_key_jwt for a key, with the algorithm of the key', () => {
    const config = resolveOptions({
      ...base,
      clientSecret: undefined,
      privateKey: ecKey,
      keyId: 'k',
    })
    expect(config.auth.method).toBe('private_key_jwt')
  })

  it('sorts params by name', () => {
    expect(resolveOptions({ ...base, params: { b: '2', a: '1' } }).params).toEqual([
      ['a', '1'],
      ['b', '2'],
    ])
  })

  it.each([
    [
      { ...base, tokenEndpint: 'x' },
      'unknown option "tokenEndpint" (did you mean "tokenEndpoint"?)',
    ],
    [{ clientId: 'c', clientSecret: 's' }, 'option "issuer" or "tokenEndpoint" is required'],
    [{ ...base, tokenEndpoint: 'http://auth.example/token' }, 'must use https'],
    [{ ...base, tokenEndpoint: 'https://u:p@auth.example/token' }, 'must not contain credentials'],
    [{ ...base, tokenEndpoint: 'https://auth.example/token#x' }, 'must not contain a fragment'],
    [
      { ...base, tokenEndpoint: undefined, issuer: 'https://auth.example/?a=1' },
      'must not contain a query',
    ],
    [{ ...base, clientId: '' }, 'option "clientId" must be a non-empty string'],
    [{ ...base, clientSecret: undefined }, 'option "clientSecret" is required'],
    [{ ...base, privateKey: ecKey }, '"clientSecret" and "privateKey" cannot both be given'],
    [{ ...base, authMethod: 'private_key_jwt' }, `'private_key_jwt' needs "privateKey"`],
    [
      { ...base, clientSecret: undefined, privateKey: ecKey, authMethod: 'client_secret_post' },
      `'client_secret_post' needs "clientSecret"`,
    ],
    [{ ...base, authMethod: 'basic' }, 'option "authMethod" must be'],
    [{ ...base, keyId: 'k' }, 'option "keyId" applies to "privateKey" only'],
    [
      { ...base, clientSecret: undefined, privateKey: ecKey, algorithm: 'HS256' },
      'option "algorithm" must be',
    ],
    [{ ...base, clientSecret: undefined, privateKey: ecKey, keyId: '' }, 'option "keyId"'],
    [{ ...base, assertionAudience: '' }, 'option "assertionAudience"'],
    [
      { ...base, params: { grant_type: 'password' } },
      'option "params.grant_type" is set by the client',
    ],
    [{ ...base, params: { audience: 1 } }, 'option "params.audience" must be a string'],
    [{ ...base, params: [] }, 'option "params" must be an object'],
    [{ ...base, deadlineMs: 0 }, 'option "deadlineMs" must be an integer'],
    [{ ...base, maxRetries: 11 }, 'option "maxRetries"'],
    [{ ...base, maxRetryAfterSeconds: -1 }, 'option "maxRetryAfterSeconds"'],
    [{ ...base, maxResponseBytes: 10 }, 'option "maxResponseBytes"'],
    [{ ...base, maxEntries: 0 }, 'option "maxEntries"'],
    [{ ...base, store: { get() {} } }, 'option "store" must be a token store'],
    [{ ...base, store: null }, 'option "store" must be a token store'],
    [{ ...base, onEvent: 'log' }, 'option "onEvent" must be a function'],
    [{ ...base, fetch: {} }, 'option "fetch" must be a function'],
    [{ ...base, dispatcher: {} }, 'option "dispatcher" must be an undici Dispatcher'],
    [{ ...base, dispatcher: null }, 'option "dispatcher" must be an undici Dispatcher'],
    [{ ...base, scope: 'a  b' }, 'option "scope" must be a space-delimited scope string'],
    [{ ...base, resource: 'not a url' }, 'option "resource" must be an absolute URL'],
  ])('refuses %j with a TypeError naming the option', (options, message) => {
    expect(() => resolveOptions(options as TokenClientOptions)).toThrow(TypeError)
    expect(() => resolveOptions(options as TokenClientOptions)).toThrow(message)
  })

  it('refuses options that are not an object', () => {
    expect(() => resolveOptions(null as unknown as TokenClientOptions)).toThrow(
      'createTokenClient: options must be an object',
    )
  })
})

describe('resolveScope', () => {
  const at = { where: 'w', path: 'scope' }

  it('turns a string or a list into a sorted set', () => {
    expect(resolveScope('b a b', at)).toEqual(['a', 'b'])
    expect(resolveScope(['b', 'a', 'a'], at)).toEqual(['a', 'b'])
    expect(resolveScope('', at)).toEqual([])
    expect(resolveScope([], at)).toEqual([])
    expect(resolveScope(undefined, at)).toEqual([])
  })

  it.each([[' a'], ['a"b'], [['a b']], [[1]], [42]])('refuses %j', (value) => {
    expect(() => resolveScope(value as string, at)).toThrow('w: option "scope"')
  })
})

describe('resolveResource', () => {
  const at = { where: 'w', path: 'resource' }

  it('turns a URI or a list into a sorted set', () => {
    expect(resolveResource('https://a.example', at)).toEqual(['https://a.example'])
    expect(
      resolveResource(['https://b.example', 'https://a.example', 'https://b.example'], at),
    ).toEqual(['https://a.example', 'https://b.example'])
  })

  it.each([
    ['https://a.example#frag', 'must not contain a fragment'],
    ['https://a.example#', 'must not contain a fragment'],
    [`https://a.example/${'x'.repeat(2048)}`, 'at most 2048'],
    [[''], 'must be a non-empty URL string'],
    [42, 'must be a URI string or an array'],
  ])('refuses %j', (value, message) => {
    expect(() => resolveResource(value as string, at)).toThrow(message)
  })
})

describe('resolveGetToken', () => {
  const config = resolveOptions({ ...base, scope: 'a', resource: 'https://api.example' })

  it("takes the client's scope and resource unless the call names its own", () => {
    expect(resolveGetToken(undefined, config)).toEqual({
      scope: ['a'],
      resource: ['https://api.example'],
      minTtlMs: 0,
      signal: undefined,
    })
    expect(resolveGetToken({ scope: '', resource: [], minTtl: 30 }, config)).toEqual({
      scope: [],
      resource: [],
      minTtlMs: 30_000,
      signal: undefined,
    })
  })

  it.each([
    [{ scop: 'a' }, 'getToken: unknown option "scop" (did you mean "scope"?)'],
    [{ minTtl: -1 }, 'getToken: option "minTtl" must be an integer'],
    [{ minTtl: 86_401 }, 'getToken: option "minTtl"'],
    [{ signal: {} }, 'getToken: option "signal" must be an AbortSignal'],
    [{ resource: 'x' }, 'getToken: option "resource"'],
  ])('refuses %j', (options, message) => {
    expect(() => resolveGetToken(options as never, config)).toThrow(message)
  })
})
