import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  DEFAULT_CACHE_MAX,
  TOKEN_INDEX_LENGTH,
  TokenCache,
  tokenIndex,
} from '../../src/verify/token-cache.js'
import type { CachedToken } from '../../src/verify/token-cache.js'

const entry = (n: number, token = `t${n}`): CachedToken => ({
  auth: {
    token,
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

describe('tokenIndex', () => {
  it('is the last 43 characters of a longer token, 256 bits of its signature', () => {
    const token = `${'h'.repeat(30)}.${'p'.repeat(30)}.${'s'.repeat(42)}Z`
    expect(TOKEN_INDEX_LENGTH).toBe(43)
    expect(tokenIndex(token)).toBe(`${'s'.repeat(42)}Z`)
  })

  it('is the whole token when it is that short or shorter', () => {
    expect(tokenIndex('a.b.c')).toBe('a.b.c')
    expect(tokenIndex('x'.repeat(43))).toBe('x'.repeat(43))
  })
})

describe('TokenCache', () => {
  it('defaults to 1000 entries', () => {
    expect(DEFAULT_CACHE_MAX).toBe(1000)
  })

  it('returns what was stored', () => {
    const cache = new TokenCache()
    cache.set(entry(1, 'k'), 60_000)
    expect(cache.get('k')).toEqual(entry(1, 'k'))
    cache.delete('k')
    expect(cache.get('k')).toBeUndefined()
  })

  it('drops the least recently used entry beyond max', () => {
    const cache = new TokenCache(2)
    cache.set(entry(1, 'a'), 60_000)
    cache.set(entry(2, 'b'), 60_000)
    cache.get('a')
    cache.set(entry(3, 'c'), 60_000)
    expect(cache.get('b')).toBeUndefined()
    expect(cache.get('a')).toEqual(entry(1, 'a'))
    expect(cache.size).toBe(2)
  })

  it('forgets an entry when its TTL has passed', () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(1_000_000)
    const cache = new TokenCache()
    cache.set(entry(1, 'k'), 5_000)
    vi.setSystemTime(1_004_999)
    expect(cache.get('k')).toEqual(entry(1, 'k'))
    vi.setSystemTime(1_005_001)
    expect(cache.get('k')).toBeUndefined()
  })

  it('stores nothing for a TTL under a millisecond', () => {
    const cache = new TokenCache()
    cache.set(entry(1, 'k'), 0)
    cache.set(entry(1, 'j'), -5)
    expect(cache.size).toBe(0)
  })

  it('answers only for exactly the stored token, not for another one with the same tail', () => {
    const cache = new TokenCache()
    const tail = 's'.repeat(43)
    cache.set(entry(1, `genuine.${tail}`), 60_000)
    expect(cache.get(`forged.${tail}`)).toBeUndefined()
    expect(cache.get(`genuine.${tail}`)?.auth.token).toBe(`genuine.${tail}`)
  })

  it('keeps the entry when asked to delete another token with the same tail', () => {
    const cache = new TokenCache()
    const tail = 's'.repeat(43)
    cache.set(entry(1, `genuine.${tail}`), 60_000)
    cache.delete(`forged.${tail}`)
    expect(cache.get(`genuine.${tail}`)).toBeDefined()
    cache.delete(`genuine.${tail}`)
    expect(cache.get(`genuine.${tail}`)).toBeUndefined()
  })
})
