import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createTimeCheck } from '../../src/verify/time-checks.js'

const NOW = 1_800_000_000

beforeEach(() => {
  vi.useFakeTimers()
  vi.setSystemTime(NOW * 1000)
})

afterEach(() => {
  vi.useRealTimers()
})

describe('createTimeCheck', () => {
  const check = createTimeCheck(5, undefined)

  it('accepts a token inside its lifetime', () => {
    expect(check(NOW + 60, NOW - 10, NOW - 10)).toBeUndefined()
  })

  it('refuses an expired token once exp plus the tolerance has passed (RFC 7519 §4.1.4)', () => {
    expect(check(NOW - 4, undefined, undefined)).toBeUndefined()
    expect(check(NOW - 5, undefined, undefined)).toBe('token_expired')
  })

  it('refuses a token before nbf minus the tolerance (RFC 7519 §4.1.5)', () => {
    expect(check(NOW + 60, NOW + 5, undefined)).toBeUndefined()
    expect(check(NOW + 60, NOW + 6, undefined)).toBe('token_not_active')
  })

  it('refuses an iat in the future beyond the tolerance (RFC 8725 §3.10)', () => {
    expect(check(NOW + 60, undefined, NOW + 6)).toBe('iat_in_future')
  })

  it('refuses a token older than maxTokenAge after its iat', () => {
    const aged = createTimeCheck(0, 30)
    expect(aged(NOW + 60, undefined, NOW - 29)).toBeUndefined()
    expect(aged(NOW + 60, undefined, NOW - 30)).toBe('token_too_old')
  })
})
