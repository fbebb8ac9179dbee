import { afterEach, describe, expect, it, vi } from 'vitest'
import { backoffDelay } from '../../src/http/backoff.js'

afterEach(() => {
  vi.restoreAllMocks()
})

describe('backoffDelay', () => {
  it.each([
    [1, 200],
    [2, 400],
    [3, 800],
    [5, 3200],
    [6, 5000],
    [10, 5000],
  ])('waits up to min(5 s, 200 ms · 2^(n-1)) before retry %i: %i ms', (retry, cap) => {
    vi.spyOn(Math, 'random').mockReturnValue(0.999_999)
    expect(backoffDelay(retry)).toBe(cap - 1)
    vi.spyOn(Math, 'random').mockReturnValue(0)
    expect(backoffDelay(retry)).toBe(0)
  })
})
