import { afterEach, describe, expect, expectTypeOf, it, vi } from 'vitest'
import {
  defineAliases,
  checkBoolean,
  checkFunction,
  checkInteger,
  checkKnownKeys,
  checkNumber,
  checkObject,
  checkOneOf,
  checkString,
  checkUrl,
  deprecationCode,
  didYouMean,
  nearestName,
  type OptionTable,
  optionError,
  renameDeprecated,
} from '../src/index.js'

const at = { where: 'factory', path: 'a.b' }

describe('optionError', () => {
  it('is a TypeError in the one format: <factory>: option "<path>" <problem>', () => {
    const error = optionError('tokenEndpoint', 'jwks.timeoutMs', 'must be an integer ≥ 1')
    expect(error).toBeInstanceOf(TypeError)
    expect(error.message).toBe('tokenEndpoint: option "jwks.timeoutMs" must be an integer ≥ 1')
  })
})

describe('checkObject', () => {
  it('returns a plain object as it is', () => {
    const options = { a: 1 }
    expect(checkObject(options, 'factory')).toBe(options)
  })

  it.each([null, [], new Map(), 'x', undefined])('refuses %j as the options', (value) => {
    expect(() => checkObject(value, 'factory')).toThrow(/^factory: options must be an object$/)
  })

  it('names a nested option', () => {
    expect(() => checkObject(1, 'factory', 'paths')).toThrow(
      /^factory: option "paths" must be an object$/,
    )
  })
})

describe('checkKnownKeys', () => {
  const table = { audience: true, issuer: true, timeoutMs: true, timeout: true } as const

  it('accepts known keys', () => {
    expect(() => checkKnownKeys({ audience: 'x', issuer: 'y' }, table, 'f')).not.toThrow()
  })

  it('refuses an unknown key, suggesting a near miss', () => {
    expect(() => checkKnownKeys({ audiance: 'x' }, table, 'requireToken')).toThrow(
      /^requireToken: unknown option "audiance" \(did you mean "audience"\?\)$/,
    )
  })

  it('suggests by a common prefix when the edit distance is larger', () => {
    expect(() => checkKnownKeys({ timeoutMillis: 1 }, { timeoutMs: true }, 'f')).toThrow(
      /\(did you mean "timeoutMs"\?\)/,
    )
  })

  it('suggests nothing for a key unlike any known one', () => {
    expect(() => checkKnownKeys({ zzz: 1 }, table, 'f')).toThrow(/^f: unknown option "zzz"$/)
  })

  it('prefixes nested paths, in the key and in the suggestion', () => {
    expect(() => checkKnownKeys({ tokn: '/t' }, { token: true }, 'f', 'paths.')).toThrow(
      /^f: unknown option "paths\.tokn" \(did you mean "paths\.token"\?\)$/,
    )
  })

  it('never suggests a hidden (deprecated) name', () => {
    expect(() =>
      checkKnownKeys({ timeot: 1 }, table, 'f', '', { hidden: { timeout: 'timeoutMs' } }),
    ).toThrow(/did you mean "timeoutMs"/)
  })

  it('lets a hint explain a key it recognises', () => {
    expect(() =>
      checkKnownKeys({ passErrors: true }, table, 'f', '', {
        hint: (key) => (key === 'passErrors' ? 'it is an option of requireToken' : undefined),
      }),
    ).toThrow(/^f: unknown option "passErrors" \(it is an option of requireToken\)$/)
  })
})

describe('nearestName', () => {
  it.each([
    ['audiance', 'audience'],
    ['Issuer', 'issuer'],
    ['hookTimeout', 'hookTimeoutMs'],
    ['jwksMaxAge', 'jwksMaxAgeSeconds'],
  ])('finds %s → %s', (name, expected) => {
    expect(nearestName(name, ['audience', 'issuer', 'hookTimeoutMs', 'jwksMaxAgeSeconds'])).toBe(
      expected,
    )
  })

  it('allows one edit only for a name of four characters or fewer', () => {
    expect(nearestName('scop', ['scope'])).toBe('scope')
    expect(nearestName('sco', ['scope'])).toBeUndefined()
    expect(nearestName('kyes', ['keys'])).toBeUndefined()
  })

  it('answers undefined when two candidates share the prefix equally', () => {
    expect(nearestName('cacheZZZZZ', ['cacheMaxAgeSeconds', 'cacheTtlMs'])).toBeUndefined()
  })
})

describe('checkInteger', () => {
  it('returns the fallback for undefined and the value when it is in range', () => {
    expect(checkInteger(undefined, at, { min: 1 }, 7)).toBe(7)
    expect(checkInteger(3, at, { min: 1, max: 3 }, 7)).toBe(3)
  })

  it.each([0, 4, 1.5, '2', Number.NaN, Infinity])('refuses %j', (value) => {
    expect(() => checkInteger(value, at, { min: 1, max: 3 }, 7)).toThrow(
      /^factory: option "a\.b" must be an integer from 1 to 3$/,
    )
  })

  it('says "≥ min" when there is no maximum', () => {
    expect(() => checkInteger(0, at, { min: 1 }, 7)).toThrow(
      /^factory: option "a\.b" must be an integer ≥ 1$/,
    )
  })
})

describe('checkNumber', () => {
  it('accepts a fraction in range', () => {
    expect(checkNumber(0.5, at, { min: 0, max: 1 }, 1)).toBe(0.5)
  })

  it.each([-1, Number.NaN, Infinity, '1'])('refuses %j', (value) => {
    expect(() => checkNumber(value, at, { min: 0 }, 1)).toThrow(
      /^factory: option "a\.b" must be a number ≥ 0$/,
    )
  })
})

describe('checkBoolean', () => {
  it('returns the fallback for undefined', () => {
    expect(checkBoolean(undefined, at, true)).toBe(true)
  })

  it('refuses a non-boolean', () => {
    expect(() => checkBoolean('false', at, true)).toThrow(
      /^factory: option "a\.b" must be a boolean$/,
    )
  })
})

describe('checkString', () => {
  it('says "is required" when a required string is missing', () => {
    expect(() => checkString(undefined, at, undefined)).toThrow(
      /^factory: option "a\.b" is required: a non-empty string$/,
    )
  })

  it('applies the rule and names what it expects', () => {
    const rule = { test: (v: string) => v.startsWith('/'), expected: 'a path' }
    expect(checkString('/x', at, undefined, rule)).toBe('/x')
    expect(() => checkString('x', at, undefined, rule)).toThrow(/option "a\.b" must be a path$/)
  })
})

describe('checkFunction', () => {
  it('answers undefined for an optional function not given', () => {
    expect(checkFunction(undefined, at)).toBeUndefined()
  })

  it('refuses a non-function, and a missing required one', () => {
    expect(() => checkFunction(1 as never, at)).toThrow(/option "a\.b" must be a function$/)
    expect(() =>
      checkFunction(undefined, at, { expected: 'a function (args) => Promise' }),
    ).toThrow(/option "a\.b" is required and must be a function \(args\) => Promise$/)
  })
})

describe('checkOneOf', () => {
  it('lists the choices', () => {
    expect(checkOneOf('b', at, ['a', 'b'], 'a')).toBe('b')
    expect(() => checkOneOf('unrelated', at, ['a', 'b', true], 'a')).toThrow(
      /^factory: option "a\.b" must be 'a', 'b' or true$/,
    )
  })

  it('suggests the nearest choice for a misspelt one', () => {
    expect(() => checkOneOf('isuer', at, ['issuer', 'issuer-string', 'legacy'], 'issuer')).toThrow(
      /^factory: option "a\.b" must be 'issuer', 'issuer-string' or 'legacy' \(did you mean 'issuer'\?\)$/,
    )
  })
})

describe('didYouMean', () => {
  it('hints the nearest candidate in the quotes of the message, or nothing', () => {
    expect(didYouMean('audiance', ['audience', 'issuer'])).toBe(' (did you mean "audience"?)')
    expect(didYouMean('es256', ['ES256', 'RS256'], "'")).toBe(" (did you mean 'ES256'?)")
    expect(didYouMean('unrelated', ['audience'])).toBe('')
    expect(didYouMean(42, ['audience'])).toBe('')
  })

  it('never suggests a value that differs only in its digits, another version', () => {
    expect(didYouMean('draft-9', ['draft-6', 'draft-7', 'draft-8'], "'")).toBe('')
    expect(didYouMean('DRAFT-7', ['draft-6', 'draft-7'], "'")).toBe(" (did you mean 'draft-7'?)")
  })
})

describe('checkUrl', () => {
  it('parses an absolute URL and applies the caller rule', () => {
    expect(checkUrl('https://x.example/', at).host).toBe('x.example')
    expect(() =>
      checkUrl('http://x.example/', at, (url) =>
        url.protocol === 'https:' ? undefined : 'must use https',
      ),
    ).toThrow(/^factory: option "a\.b" must use https$/)
  })

  it.each(['', '/relative', 3])('refuses %j', (value) => {
    expect(() => checkUrl(value, at)).toThrow(/^factory: option "a\.b" must be/)
  })
})

describe('renameDeprecated', () => {
  afterEach(() => {
    vi.restoreAllMocks()
  })

  it('returns the options themselves when no deprecated name is used', () => {
    const options = { timeoutMs: 1 }
    expect(renameDeprecated(options, { timeout: 'timeoutMs' }, 'f')).toBe(options)
  })

  it('maps the old name to the new one and warns once per process', () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined)
    const aliases = { oldThing: 'newThingMs' }
    expect(renameDeprecated({ oldThing: 5, other: 1 }, aliases, 'f')).toEqual({
      newThingMs: 5,
      other: 1,
    })
    renameDeprecated({ oldThing: 6 }, aliases, 'g')
    expect(warn).toHaveBeenCalledTimes(1)
    expect(warn).toHaveBeenCalledWith(
      'f: option "oldThing" is deprecated and will be removed in the next major version; use "newThingMs" (same value)',
      { type: 'DeprecationWarning', code: 'CCFLOW_DEP_OLD_THING' },
    )
  })

  it('refuses the old and the new name together', () => {
    expect(() => renameDeprecated({ a: 1, aMs: 2 }, { a: 'aMs' }, 'f', 'jwks.')).toThrow(
      /^f: options "jwks\.a" and "jwks\.aMs" are the same option; keep only "jwks\.aMs"$/,
    )
  })

  it('treats an old or new name set to undefined as not given: no warning, no conflict', () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined)
    const aliases = { undefinedOld: 'undefinedNewMs' }
    const alone = { undefinedOld: undefined }
    expect(renameDeprecated(alone, aliases, 'f')).toBe(alone)
    const withNew = { undefinedOld: undefined, undefinedNewMs: 2 }
    expect(renameDeprecated(withNew, aliases, 'f')).toBe(withNew)
    expect(renameDeprecated({ undefinedOld: 3, undefinedNewMs: undefined }, aliases, 'f')).toEqual({
      undefinedNewMs: 3,
    })
    expect(warn).toHaveBeenCalledTimes(1)
  })
})

describe('deprecationCode', () => {
  it('upper-snake-cases the old path', () => {
    expect(deprecationCode('jwks.cacheMaxAge')).toBe('CCFLOW_DEP_JWKS_CACHE_MAX_AGE')
    expect(deprecationCode('accessTokenTtl')).toBe('CCFLOW_DEP_ACCESS_TOKEN_TTL')
  })
})

interface ExampleOptions {
  issuer: string
  timeoutMs?: number
}

describe('OptionTable', () => {
  it('requires every option name, and only option names, at compile time', () => {
    const table = { issuer: true, timeoutMs: true } satisfies OptionTable<ExampleOptions>
    // @ts-expect-error a new option missing from the table does not compile
    const missing = { issuer: true } satisfies OptionTable<ExampleOptions>
    // @ts-expect-error a name that is no option does not compile
    const extra = { issuer: true, timeoutMs: true, x: true } satisfies OptionTable<ExampleOptions>
    expectTypeOf(table).toEqualTypeOf<{ issuer: true; timeoutMs: true }>()
    expect([table, missing, extra]).toHaveLength(3)
  })
})

describe('defineAliases', () => {
  interface Options {
    timeoutMs?: number
    timeout?: number
  }

  it('returns a frozen copy of the table', () => {
    const table = { timeout: 'timeoutMs' } as const
    const aliases = defineAliases<Options>(table)
    expect(aliases).toEqual({ timeout: 'timeoutMs' })
    expect(aliases).not.toBe(table)
    expect(Object.isFrozen(aliases)).toBe(true)
  })

  it('refuses, at compile time, a name that is not an option on either side', () => {
    // @ts-expect-error: "timeoutMillis" is not an option of Options
    defineAliases<Options>({ timeout: 'timeoutMillis' })
    // @ts-expect-error: "timout" is not an option of Options
    defineAliases<Options>({ timout: 'timeoutMs' })
    expectTypeOf(defineAliases<Options>)
      .parameter(0)
      .toHaveProperty('timeout')
  })
})
