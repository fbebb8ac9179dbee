import { createHash } from 'node:crypto'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { DEFAULT_CACHE_MAX, TokenCache, tokenCacheKey } from '../../src/verify/token-cache.js'
import type { CachedToken } from '../../src/verify/token-cache.js'

const entry = (n: number): CachedToken => ({
  auth: {
    token: `t${n}`,
    header: { alg: 'RS256' },
    claims: { iss: 'i', aud: 'a', exp: 1 },
    scopes: [],
    clientId: undefined,
  },
  exp: 1,
  nbf: undefined,
  iat: undefined,
})

afterEach(() => {
  vi.useRealTimers()
})

describe('tokenCacheKey', () => {
  it('is the base64 SHA-256 of the whole token', () => {
    expect(tokenCacheKey('a.b.c')).toBe(createHash('sha256').update('a.b.c').digest('base64'))
    expect(tokenCacheKey('a.b.c')).not.toBe(tokenCacheKey('a.b.d'))
  })
})

describe('TokenCache', () => {
  it('defaults to 1000 entries', () => {
    expect(DEFAULT_CACHE_MAX).toBe(1000)
  })

  it('returns what was stored', () => {
    const cache = new TokenCache()
    cache.set('k', entry(1), 60_000)
    expect(cache.get('k')).toEqual(entry(1))
    cache.delete('k')
    expect(cache.get('k')).toBeUndefined()
  })

  it('drops the least recently used entry beyond max', () => {
    const cache = new TokenCache(2)
    cache.set('a', entry(1), 60_000)
    cache.set('b', entry(2), 60_000)
    cache.get('a')
    cache.set('c', entry(3), 60_000)
    expect(cache.get('b')).toBeUndefined()
    expect(cache.get('a')).toEqual(entry(1))
    expect(cache.size).toBe(2)
  })

  it('forgets an entry when its TTL has passed', () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(1_000_000)
    const cache = new TokenCache()
    cache.set('k', entry(1), 5_000)
    vi.setSystemTime(1_004_999)
    expect(cache.get('k')).toEqual(entry(1))
    vi.setSystemTime(1_005_001)
    expect(cache.get('k')).toBeUndefined()
  })

  it('stores nothing for a TTL under a millisecond', () => {
    const cache = new TokenCache()
    cache.set('k', entry(1), 0)
    cache.set('j', entry(1), -5)
    expect(cache.size).toBe(0)
  })
})
