import { describe, expect, it } from 'vitest'
import { countAuthorizationHeaders } from '../src/http/authorization.js'

describe('countAuthorizationHeaders', () => {
  it('counts every Authorization line, whatever its case', () => {
    const raw = ['Host', 'x', 'authorization', 'Basic a', 'AUTHORIZATION', 'Bearer b']
    expect(countAuthorizationHeaders(raw)).toBe(2)
  })

  it('reads only header names, never values', () => {
    expect(countAuthorizationHeaders(['X-Note', 'authorization', 'Authorization', 'a'])).toBe(1)
  })

  it('is 0 without the header', () => {
    expect(countAuthorizationHeaders([])).toBe(0)
    expect(countAuthorizationHeaders(['Authorization-Extra', 'a'])).toBe(0)
  })
})
