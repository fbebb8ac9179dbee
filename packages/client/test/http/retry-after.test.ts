import { describe, expect, it } from 'vitest'
import { parseRetryAfter } from '../../src/http/retry-after.js'

const now = Date.parse('2030-01-01T00:00:00Z')

describe('parseRetryAfter', () => {
  it.each([
    ['120', 120],
    [' 0 ', 0],
    ['Tue, 01 Jan 2030 00:00:30 GMT', 30],
    ['Tue, 01 Jan 2030 00:00:00 GMT', 0],
    ['Mon, 31 Dec 2029 23:00:00 GMT', 0],
  ])('reads %j as %i seconds', (value, seconds) => {
    expect(parseRetryAfter(value, now)).toBe(seconds)
  })

  it.each([
    null,
    '',
    '-1',
    '1.5',
    'soon',
    '2030-01-01T00:00:30Z',
    'Tue, 99 Foo 2030',
    '12345678901',
  ])('ignores %j', (value) => {
    expect(parseRetryAfter(value, now)).toBeUndefined()
  })
})
