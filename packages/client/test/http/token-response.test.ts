import { describe, expect, it } from 'vitest'
import {
  isJsonContentType,
  parseErrorBody,
  parseJsonObject,
  parseTokenResponse,
} from '../../src/http/token-response.js'

const JSON_TYPE = 'application/json; charset=utf-8'
const parse = (body: unknown, type: string | null = JSON_TYPE) =>
  parseTokenResponse(JSON.stringify(body), type, 200)

describe('parseTokenResponse', () => {
  it('reads access_token, token_type (any case), expires_in and scope', () => {
    expect(
      parse({ access_token: 'abc', token_type: 'bearer', expires_in: 300, scope: 'a b' }),
    ).toEqual({
      value: 'abc',
      type: 'Bearer',
      expiresIn: 300,
      scope: 'a b',
    })
    expect(parse({ access_token: 'abc', token_type: 'DPOP' })).toMatchObject({
      type: 'DPoP',
      expiresIn: undefined,
      scope: undefined,
    })
  })

  it('accepts expires_in as a string of digits, and null expires_in and scope as absent', () => {
    expect(parse({ access_token: 'a', token_type: 'Bearer', expires_in: '3600' }).expiresIn).toBe(
      3600,
    )
    expect(
      parse({ access_token: 'a', token_type: 'Bearer', expires_in: null, scope: null }),
    ).toMatchObject({
      expiresIn: undefined,
      scope: undefined,
    })
  })

  it.each([
    [
      'not JSON content',
      { access_token: 'a', token_type: 'Bearer' },
      'text/html',
      'is not application/json',
    ],
    [
      'no content type',
      { access_token: 'a', token_type: 'Bearer' },
      null,
      'is not application/json',
    ],
    ['an array', [1], JSON_TYPE, 'is not a JSON object'],
    ['no access_token', { token_type: 'Bearer' }, JSON_TYPE, 'has no valid access_token'],
    [
      'an access_token with a space',
      { access_token: 'a b', token_type: 'Bearer' },
      JSON_TYPE,
      'has no valid access_token',
    ],
    [
      'an empty access_token',
      { access_token: '', token_type: 'Bearer' },
      JSON_TYPE,
      'has no valid access_token',
    ],
    ['token_type mac', { access_token: 'a', token_type: 'mac' }, JSON_TYPE, 'token_type'],
    ['no token_type', { access_token: 'a' }, JSON_TYPE, 'token_type'],
    [
      'expires_in 0',
      { access_token: 'a', token_type: 'Bearer', expires_in: 0 },
      JSON_TYPE,
      'expires_in',
    ],
    [
      'expires_in "00"',
      { access_token: 'a', token_type: 'Bearer', expires_in: '00' },
      JSON_TYPE,
      'expires_in',
    ],
    [
      'expires_in -5',
      { access_token: 'a', token_type: 'Bearer', expires_in: -5 },
      JSON_TYPE,
      'expires_in',
    ],
    [
      'expires_in "soon"',
      { access_token: 'a', token_type: 'Bearer', expires_in: 'soon' },
      JSON_TYPE,
      'expires_in',
    ],
    ['a numeric scope', { access_token: 'a', token_type: 'Bearer', scope: 1 }, JSON_TYPE, 'scope'],
  ])('refuses %s as invalid_response, without echoing values', (_name, body, type, problem) => {
    let error: unknown
    try {
      parse(body, type)
    } catch (caught) {
      error = caught
    }
    expect(error).toMatchObject({
      code: 'transport_error',
      reason: 'invalid_response',
      status: 200,
    })
    expect((error as Error).message).toContain(problem)
  })

  it('refuses text that is not JSON', () => {
    expect(() => parseTokenResponse('{', JSON_TYPE, 200)).toThrow('is not a JSON object')
  })
})

describe('isJsonContentType', () => {
  it.each([
    ['application/json', true],
    ['Application/JSON;charset=UTF-8', true],
    ['application/problem+json', true],
    ['text/json', false],
    ['application/jsonx', false],
    [null, false],
  ])('%j → %s', (value, expected) => {
    expect(isJsonContentType(value)).toBe(expected)
  })
})

describe('parseJsonObject', () => {
  it('answers objects only', () => {
    expect(parseJsonObject('{"a":1}')).toEqual({ a: 1 })
    expect(parseJsonObject('[1]')).toBeUndefined()
    expect(parseJsonObject('nope')).toBeUndefined()
  })
})

describe('parseErrorBody', () => {
  it('reads error and error_description', () => {
    expect(
      parseErrorBody('{"error":"invalid_client","error_description":"no"}', JSON_TYPE),
    ).toEqual({
      error: 'invalid_client',
      description: 'no',
    })
    expect(parseErrorBody('{"error":"invalid_client","error_description":5}', JSON_TYPE)).toEqual({
      error: 'invalid_client',
      description: undefined,
    })
  })

  it.each([
    ['{"error":"x"}', 'text/plain'],
    ['{"error":""}', JSON_TYPE],
    ['{"error":1}', JSON_TYPE],
    ['[]', JSON_TYPE],
  ])('answers undefined for %s (%s)', (text, type) => {
    expect(parseErrorBody(text, type)).toBeUndefined()
  })
})
