import { describe, expect, it } from 'vitest'
import { formDecode, parseForm } from '../../src/http/form.js'

describe('formDecode', () => {
  it.each([
    ['plain', 'plain'],
    ['a+b', 'a b'],
    ['a%2Bb', 'a+b'],
    ['%3A%25', ':%'],
    ['w%C3%B6rd', 'wörd'],
    ['%E2%82%AC', '€'],
    ['', ''],
  ])('decodes %j as %j', (input, output) => {
    expect(formDecode(input)).toBe(output)
  })

  it.each(['%', '%2', '%zz', 'a%G1', '%FF', '%C3', '%ED%A0%80'])('refuses %j', (input) => {
    expect(formDecode(input)).toBeUndefined()
  })
})

describe('parseForm', () => {
  it('keeps pairs in order, with repeats', () => {
    expect(parseForm('a=1&b=2&a=3', 10)).toEqual({
      ok: true,
      pairs: [
        ['a', '1'],
        ['b', '2'],
        ['a', '3'],
      ],
    })
  })

  it('skips empty segments and reads a bare name as an empty value', () => {
    expect(parseForm('&a=1&&b&', 10)).toEqual({
      ok: true,
      pairs: [
        ['a', '1'],
        ['b', ''],
      ],
    })
  })

  it('decodes names and values, and splits on the first "="', () => {
    expect(parseForm('client%5Fid=a%3Db=c', 10)).toEqual({
      ok: true,
      pairs: [['client_id', 'a=b=c']],
    })
  })

  it('keeps "__proto__" as an ordinary name', () => {
    expect(parseForm('__proto__=x', 10)).toEqual({ ok: true, pairs: [['__proto__', 'x']] })
  })

  it('refuses a malformed escape', () => {
    expect(parseForm('a=%zz', 10)).toEqual({ ok: false, reason: 'malformed_body' })
  })

  it('refuses more pairs than the limit', () => {
    expect(parseForm('a=1&b=2&c=3', 2)).toEqual({ ok: false, reason: 'too_many_parameters' })
  })

  it('parses an empty body to no pairs', () => {
    expect(parseForm('', 2)).toEqual({ ok: true, pairs: [] })
  })
})
