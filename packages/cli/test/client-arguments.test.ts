import { InvalidArgumentError } from 'commander'
import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  parseAudience,
  parseClientId,
  parseDuration,
  parseExpiresAt,
  parseActor,
  parseName,
  parseScope,
  parseSecretId,
  parseTtl,
} from '../src/client-arguments.js'

describe('parseClientId', () => {
  it('takes 1-255 printable ASCII characters, quotes and semicolons included (RFC 6749 A.1)', () => {
    expect(parseClientId(`x'; DROP TABLE ccflow_clients; --`)).toBe(
      `x'; DROP TABLE ccflow_clients; --`,
    )
  })

  it.each(['', 'é', 'a\nb', 'x'.repeat(256)])('refuses %j', (value) => {
    expect(() => parseClientId(value)).toThrow(InvalidArgumentError)
  })
})

describe('parseScope', () => {
  it('takes scope tokens separated by single spaces (RFC 6749 §3.3), and "" for none', () => {
    expect(parseScope('a:read b:write')).toBe('a:read b:write')
    expect(parseScope('')).toBe('')
  })

  it.each(['a  b', ' a', 'a ', 'a"b', 'a\\b', 'a\tb'])(
    'refuses the malformed scope %j',
    (value) => {
      expect(() => parseScope(value)).toThrow(/scope tokens separated by single spaces/)
    },
  )

  it('refuses a token given twice', () => {
    expect(() => parseScope('a b a')).toThrow('expected each scope token once')
  })
})

describe('parseAudience', () => {
  it('collects absolute URIs in order (RFC 8707 §2)', () => {
    expect(parseAudience('urn:example:api', parseAudience('https://a.example', undefined))).toEqual(
      ['https://a.example', 'urn:example:api'],
    )
  })

  it.each(['api', '/relative', 'https://a.example/#top', 'https://a.example/ x', ''])(
    'refuses %j',
    (value) => {
      expect(() => parseAudience(value, undefined)).toThrow(/absolute URI without a fragment/)
    },
  )

  it('refuses an audience given twice', () => {
    expect(() => parseAudience('https://a.example', ['https://a.example'])).toThrow(
      'this audience is given twice',
    )
  })
})

describe('parseSecretId', () => {
  it('takes [A-Za-z0-9-]{1,32}', () => {
    expect(parseSecretId('k-2')).toBe('k-2')
  })

  it.each(['', 'k_1', "k1'", 'k'.repeat(33)])('refuses %j', (value) => {
    expect(() => parseSecretId(value)).toThrow(InvalidArgumentError)
  })
})

describe('parseExpiresAt', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('reads ISO 8601 times with their offset, dates (midnight UTC) and epoch seconds', () => {
    vi.useFakeTimers({ now: Date.UTC(2026, 0, 1) })
    const march = Date.UTC(2027, 2, 1) / 1000
    expect(parseExpiresAt('2027-03-01T00:00:00Z')).toBe(march)
    expect(parseExpiresAt('2027-03-01T01:00:00.500+01:00')).toBe(march)
    expect(parseExpiresAt('2027-03-01')).toBe(march)
    expect(parseExpiresAt(String(march))).toBe(march)
  })

  it.each(['2027-03-01T00:00:00', 'tomorrow', '1798761600000', '2027-13-45', '-5'])(
    'refuses %j (no offset, not a time, or milliseconds)',
    (value) => {
      vi.useFakeTimers({ now: Date.UTC(2026, 0, 1) })
      expect(() => parseExpiresAt(value)).toThrow(/ISO 8601 time with its offset/)
    },
  )

  it('refuses a time that has passed', () => {
    vi.useFakeTimers({ now: Date.UTC(2026, 0, 1) })
    expect(() => parseExpiresAt('2025-12-31')).toThrow('this time has already passed')
  })
})

describe('parseDuration', () => {
  it('reads a whole number with a unit', () => {
    expect(parseDuration('3600s')).toBe(3600)
    expect(parseDuration('30m')).toBe(1800)
    expect(parseDuration('12h')).toBe(43_200)
    expect(parseDuration('90d')).toBe(7_776_000)
  })

  it.each(['0d', '90', '1.5h', '1w', '3661d', 'd'])('refuses %j', (value) => {
    expect(() => parseDuration(value)).toThrow(/whole number with a unit/)
  })
})

describe('parseTtl', () => {
  it('reads whole seconds up to a year', () => {
    expect(parseTtl('300')).toBe(300)
    expect(parseTtl('31536000')).toBe(31_536_000)
  })

  it.each(['0', '-1', '1e3', '31536001', '05'])('refuses %j', (value) => {
    expect(() => parseTtl(value)).toThrow('expected whole seconds from 1 to 31536000')
  })
})

describe('parseName', () => {
  it('takes printable text, spaces and non-ASCII letters included', () => {
    expect(parseName('Équipe facturation')).toBe('Équipe facturation')
    expect(parseName('x'.repeat(255))).toHaveLength(255)
  })

  it.each(['', 'a\nb', 'a\u0007', 'x'.repeat(256)])('refuses %j', (value) => {
    expect(() => parseName(value)).toThrow('expected 1-255 characters without control characters')
  })
})

describe('parseActor', () => {
  it('takes up to 200 characters, as the audit trail does', () => {
    expect(parseActor('alice@example.com')).toBe('alice@example.com')
    expect(() => parseActor('x'.repeat(201))).toThrow(
      'expected 1-200 characters without control characters',
    )
  })
})
