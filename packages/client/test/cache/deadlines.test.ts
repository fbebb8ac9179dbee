import { afterEach, describe, expect, it, vi } from 'vitest'
import { jwtExpiry, tokenDeadlines } from '../../src/cache/deadlines.js'
import { fakeJwt } from '../helpers.js'

afterEach(() => {
  vi.restoreAllMocks()
})

describe('tokenDeadlines', () => {
  it.each([
    // lifetime s, jitter (random), refreshAt s, hardExpiry s
    [300, 0, 240, 295],
    [300, 1, 234, 295],
    [1000, 0, 800, 995],
    [3600, 0, 3300, 3595], // 20 % would be 720 s: capped at 300 s
    [86_400, 0, 86_100, 86_395],
    [86_400, 1, 86_070, 86_395],
    [10, 0, 5, 5], // margin at least 5 s
  ])(
    'for a %i s token with jitter %d: refreshAt %i s, hardExpiry %i s',
    (life, random, refresh, hard) => {
      vi.spyOn(Math, 'random').mockReturnValue(random)
      const sentAt = 1_000_000
      expect(tokenDeadlines(sentAt, sentAt + life * 1000)).toEqual({
        refreshAt: sentAt + refresh * 1000,
        hardExpiry: sentAt + hard * 1000,
      })
    },
  )
})

describe('jwtExpiry', () => {
  it('reads the exp of a JWT in milliseconds', () => {
    expect(jwtExpiry(fakeJwt({ exp: 2_000_000_000 }))).toBe(2_000_000_000_000)
  })

  it.each([
    ['an opaque token', 'opaque-token'],
    ['a JWT without exp', fakeJwt({ sub: 'x' })],
    ['a JWT with a string exp', fakeJwt({ exp: '2000000000' })],
    ['a JWT whose payload is not an object', fakeJwt([1] as never)],
    ['a JWT whose payload is not JSON', 'a.bm90IGpzb24.c'],
  ])('answers undefined for %s', (_name, token) => {
    expect(jwtExpiry(token)).toBeUndefined()
  })
})
