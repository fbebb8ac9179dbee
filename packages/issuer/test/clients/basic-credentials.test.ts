import { describe, expect, it } from 'vitest'
import {
  checkBasicHeader,
  decodeClientCredentials,
  type ClientCredentials,
} from '../../src/clients/basic-credentials.js'
import { basic, formEncode } from '../helpers.js'

describe('checkBasicHeader', () => {
  it.each<[string, string, string]>([
    ['plain values', basic('reporter', 's3cret'), basic('reporter', 's3cret')],
    [
      'a lower-case scheme',
      `basic ${Buffer.from('id:pw').toString('base64')}`,
      `basic ${Buffer.from('id:pw').toString('base64')}`,
    ],
    ['Base64 without padding', 'Basic aWQ6cHdk', 'Basic aWQ6cHdk'],
    ['several spaces after the scheme (RFC 7235 1*SP)', 'Basic   aWQ6cHdk', 'Basic aWQ6cHdk'],
  ])('passes %s on in the form passport-http parses', (_label, header, expected) => {
    expect(checkBasicHeader(header)).toBe(expected)
  })

  it.each<[string, string]>([
    ['another scheme', 'Bearer abc.def.ghi'],
    ['the scheme alone', 'Basic'],
    ['an empty token', 'Basic '],
    ['characters outside Base64', 'Basic !!!!'],
    ['Base64 with a space inside', 'Basic aWQ6 cHc='],
    ['an impossible Base64 length', 'Basic aWQ6c'],
    ['an oversized header', `Basic ${'A'.repeat(20_000)}`],
  ])('refuses %s', (_label, header) => {
    expect(checkBasicHeader(header)).toBeUndefined()
  })
})

describe('decodeClientCredentials', () => {
  it.each<[string, string, string, ClientCredentials]>([
    ['plain values', 'reporter', 's3cret', { clientId: 'reporter', secret: 's3cret' }],
    [
      'a percent-encoded ":" in the client id',
      'svc%3Areports',
      'pw',
      { clientId: 'svc:reports', secret: 'pw' },
    ],
    ['a percent-encoded ":" in the secret', 'id', 'a%3Ab%3Ac', { clientId: 'id', secret: 'a:b:c' }],
    ["'+' as a space", 'my+client', 'pass+word', { clientId: 'my client', secret: 'pass word' }],
    ["'%2B' as a plus", 'id', 'a%2Bb', { clientId: 'id', secret: 'a+b' }],
    ["'%25' as a percent", 'id', '100%25', { clientId: 'id', secret: '100%' }],
    ['percent-encoded UTF-8', 'id', formEncode('wörd€'), { clientId: 'id', secret: 'wörd€' }],
    ['raw UTF-8 (RFC 7617 charset)', 'id', 'wörd', { clientId: 'id', secret: 'wörd' }],
  ])('decodes %s (RFC 6749 Appendix B)', (_label, userid, password, expected) => {
    expect(decodeClientCredentials(userid, password)).toEqual(expected)
  })

  it.each<[string, string, string]>([
    ['an empty client id', '', 'pw'],
    ['an empty secret', 'id', ''],
    ['a bad percent escape', 'id', '100%zz'],
    ['a truncated percent escape', 'id', 'abc%'],
    ['percent-encoded bytes that are not UTF-8', 'id', '%FF%FE'],
    ['an oversized secret', 'id', 'x'.repeat(1025)],
    ['an oversized client id', 'x'.repeat(1025), 'pw'],
    ['a client id outside VSCHAR', 'a%0Ab', 'pw'],
    ['a secret that was not UTF-8 (U+FFFD from passport-http)', 'id', 'a\uFFFDb'],
  ])('refuses %s', (_label, userid, password) => {
    expect(decodeClientCredentials(userid, password)).toBeUndefined()
  })
})
