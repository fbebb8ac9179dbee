import { describe, expect, it } from 'vitest'
import { logValue } from '../../src/index.js'

describe('logValue', () => {
  it('quotes a string and escapes control characters, so it cannot start a new log line', () => {
    expect(logValue('a\nb\u001b[31m')).toBe('"a\\nb\\u001b[31m"')
  })

  it('escapes the Unicode line and paragraph separators too', () => {
    expect(logValue('a\u2028b\u2029c')).toBe('"a\\u2028b\\u2029c"')
  })

  it('writes an array of strings as JSON', () => {
    expect(logValue(['https://a.example', 'https://b.example'])).toBe(
      '["https://a.example","https://b.example"]',
    )
  })

  it('cuts a long value at 200 characters with an ellipsis', () => {
    const text = logValue('x'.repeat(1000))
    expect(text).toHaveLength(201)
    expect(text.endsWith('…')).toBe(true)
  })

  it('names undefined', () => {
    expect(logValue(undefined)).toBe('undefined')
  })
})
