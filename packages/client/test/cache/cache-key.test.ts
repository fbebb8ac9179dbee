import { describe, expect, it } from 'vitest'
import { type CacheKeyParts, cacheKey } from '../../src/cache/cache-key.js'

const parts: CacheKeyParts = {
  endpoint: 'https://auth.example/token',
  clientId: 'billing',
  authMethod: 'client_secret_basic',
  credential: 'hash-of-secret',
  scope: ['a', 'b'],
  resource: ['https://api.example'],
  params: [['audience', 'x']],
}

describe('cacheKey', () => {
  it('is a base64url SHA-256, the same for the same parts', () => {
    expect(cacheKey(parts)).toMatch(/^[\w-]{43}$/)
    expect(cacheKey({ ...parts })).toBe(cacheKey(parts))
  })

  it.each([
    ['endpoint', { endpoint: 'issuer:https://auth.example' }],
    ['client', { clientId: 'other' }],
    ['auth method', { authMethod: 'client_secret_post' }],
    ['credential', { credential: 'another-hash' }],
    ['scope', { scope: ['a'] }],
    ['resource', { resource: [] }],
    ['params', { params: [['audience', 'y']] }],
  ] as const)('differs when the %s differs', (_name, change) => {
    expect(cacheKey({ ...parts, ...change })).not.toBe(cacheKey(parts))
  })

  it('cannot be confused by values that hold separators', () => {
    expect(cacheKey({ ...parts, scope: ['a b'] })).not.toBe(
      cacheKey({ ...parts, scope: ['a', 'b'] }),
    )
  })
})
