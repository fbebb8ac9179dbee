import { describe, expect, it } from 'vitest'
import { isObjectRecord, isPlainObject } from '../src/objects.js'

class Options {
  issuer = 'x'
}

describe('isPlainObject', () => {
  it.each([{}, { a: 1 }, Object.create(null) as object, JSON.parse('{"a":1}') as object])(
    'accepts plain data %#',
    (value) => {
      expect(isPlainObject(value)).toBe(true)
    },
  )

  it.each([null, undefined, [], 'a', 1, new Options(), new Map(), new Date(), () => {}])(
    'refuses %j',
    (value) => {
      expect(isPlainObject(value)).toBe(false)
    },
  )
})

describe('isObjectRecord', () => {
  it('accepts any non-array object, class instances included', () => {
    expect(isObjectRecord({})).toBe(true)
    expect(isObjectRecord(new Options())).toBe(true)
  })

  it.each([null, undefined, [], 'a', 1])('refuses %j', (value) => {
    expect(isObjectRecord(value)).toBe(false)
  })
})
