import { describe, expect, it } from 'vitest'
import { brand, isBranded, markBranded } from '../../src/errors/brand.js'

describe('brand', () => {
  it('is the registered symbol ccflow.<name>, the same on every call', () => {
    expect(brand('test.ThingError')).toBe(Symbol.for('ccflow.test.ThingError'))
    expect(brand('test.ThingError')).toBe(brand('test.ThingError'))
  })

  it('differs between names', () => {
    expect(brand('issuer.TokenError')).not.toBe(brand('guard.BearerError'))
  })
})

describe('markBranded', () => {
  it('adds the brand as a non-enumerable, read-only property', () => {
    const symbol = brand('test.ThingError')
    const error = new Error('x')
    markBranded(error, symbol)
    expect(Object.getOwnPropertyDescriptor(error, symbol)).toEqual({
      value: true,
      writable: false,
      enumerable: false,
      configurable: false,
    })
  })
})

describe('isBranded', () => {
  const symbol = brand('test.ThingError')

  it('recognizes a value marked with the symbol', () => {
    const error = new Error('x')
    markBranded(error, symbol)
    expect(isBranded(error, symbol)).toBe(true)
  })

  it('refuses a value marked with another brand', () => {
    const error = new Error('x')
    markBranded(error, brand('test.OtherError'))
    expect(isBranded(error, symbol)).toBe(false)
  })

  it.each([
    ['a look-alike object', { code: 'invalid_token', status: 401, expose: true }],
    ['an Error with a code', Object.assign(new Error('x'), { code: 'invalid_token' })],
    ['an object whose brand is not exactly true', { [symbol]: 'yes' }],
    ['null', null],
    ['undefined', undefined],
    ['a string', 'ccflow.test.ThingError'],
  ])('refuses %s', (_label, value) => {
    expect(isBranded(value, symbol)).toBe(false)
  })
})
