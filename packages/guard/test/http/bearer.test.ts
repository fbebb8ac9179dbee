import type { Request } from 'express'
import { describe, expect, it } from 'vitest'
import {
  checkHeaderTokenSyntax,
  NO_TOKEN,
  OTHER_SCHEME,
  readBearerToken,
} from '../../src/http/bearer.js'
import type { TokenLocations } from '../../src/http/bearer.js'
import { BearerError } from '../../src/errors.js'

const OFF: TokenLocations = { body: false, query: false }
const ON: TokenLocations = { body: true, query: true }
const FORM = 'application/x-www-form-urlencoded'

interface FakeRequest {
  authorization?: string | string[]
  url?: string
  body?: unknown
  contentType?: string
}

function fakeRequest({ authorization, url = '/api', body, contentType }: FakeRequest): Request {
  const values = authorization === undefined ? [] : [authorization].flat()
  const headers: Record<string, string> = {}
  const rawHeaders: string[] = ['Host', 'x']
  if (values[0] !== undefined) headers.authorization = values[0]
  for (const value of values) rawHeaders.push('Authorization', value)
  if (contentType !== undefined) {
    headers['content-type'] = contentType
    rawHeaders.push('Content-Type', contentType)
  }
  return { headers, rawHeaders, url, body } as unknown as Request
}

function reasonOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (error) {
    expect(BearerError.is(error)).toBe(true)
    return (error as BearerError).reason
  }
  return undefined
}

describe('readBearerToken', () => {
  it('reads the token after a case-insensitive scheme and one or more spaces', () => {
    expect(
      readBearerToken(fakeRequest({ authorization: 'Bearer abc.def-_~+/==' }), OFF, 'api'),
    ).toBe('abc.def-_~+/==')
    expect(readBearerToken(fakeRequest({ authorization: 'bEaReR   abc' }), OFF, 'api')).toBe('abc')
  })

  it('reports no token and another scheme apart', () => {
    expect(readBearerToken(fakeRequest({}), OFF, 'api')).toBe(NO_TOKEN)
    expect(readBearerToken(fakeRequest({ authorization: 'Basic dTpw' }), OFF, 'api')).toBe(
      OTHER_SCHEME,
    )
    expect(readBearerToken(fakeRequest({ authorization: 'Bearerx abc' }), OFF, 'api')).toBe(
      OTHER_SCHEME,
    )
    expect(
      readBearerToken(fakeRequest({ authorization: 'Digest username="a", realm="b"' }), OFF, 'api'),
    ).toBe(OTHER_SCHEME)
  })

  it.each([
    ['Bearer', 'malformed_authorization'],
    ['Bearer ', 'malformed_authorization'],
    ['Bearer a b', 'malformed_authorization'],
    ['Bearer\tabc', 'malformed_authorization'],
    ['Bearer =abc', 'malformed_authorization'],
    ['Bearer ab=c', 'malformed_authorization'],
    ['Bearer a\u2028b', 'malformed_authorization'],
    ['Bearer a, Bearer b', 'multiple_authorization_headers'],
    ['Basic dTpw, Bearer b', 'multiple_authorization_headers'],
  ])('rejects %j with 400 %s', (authorization, reason) => {
    expect(reasonOf(() => readBearerToken(fakeRequest({ authorization }), OFF, 'api'))).toBe(reason)
  })

  it('rejects repeated Authorization headers seen in rawHeaders', () => {
    const req = fakeRequest({ authorization: ['Bearer a', 'Bearer b'] })
    expect(reasonOf(() => readBearerToken(req, OFF, 'api'))).toBe('multiple_authorization_headers')
  })

  it('reads a form-body token only when enabled', () => {
    const req = fakeRequest({ body: { access_token: 'abc' }, contentType: FORM })
    expect(readBearerToken(req, ON, 'api')).toBe('abc')
    expect(reasonOf(() => readBearerToken(req, OFF, 'api'))).toBe('body_token_disabled')
  })

  it('ignores access_token in a body that is not form-encoded', () => {
    const req = fakeRequest({ body: { access_token: 'abc' }, contentType: 'application/json' })
    expect(readBearerToken(req, ON, 'api')).toBe(NO_TOKEN)
  })

  it('rejects a malformed body parameter', () => {
    const req = fakeRequest({ body: { access_token: ['a', 'b'] }, contentType: FORM })
    expect(reasonOf(() => readBearerToken(req, ON, 'api'))).toBe('malformed_token_parameter')
  })

  it('reads a query token only when enabled, also percent-encoded', () => {
    expect(readBearerToken(fakeRequest({ url: '/api?x=1&access_token=abc' }), ON, 'api')).toBe(
      'abc',
    )
    expect(readBearerToken(fakeRequest({ url: '/api?access%5Ftoken=abc' }), ON, 'api')).toBe('abc')
    expect(
      reasonOf(() => readBearerToken(fakeRequest({ url: '/api?ACCESS_TOKEN=abc' }), OFF, 'api')),
    ).toBe('query_token_disabled')
    expect(readBearerToken(fakeRequest({ url: '/api?my_access_token=abc' }), OFF, 'api')).toBe(
      NO_TOKEN,
    )
  })

  it.each(['/api?access_token=a%20b', '/api?access_token=a%0Ab', '/api?access_token=%3D'])(
    'rejects a query token outside the b64token grammar (%s)',
    (url) => {
      expect(reasonOf(() => readBearerToken(fakeRequest({ url }), ON, 'api'))).toBe(
        'malformed_token_parameter',
      )
    },
  )

  it('rejects a repeated query parameter', () => {
    const req = fakeRequest({ url: '/api?access_token=a&access_token=b' })
    expect(reasonOf(() => readBearerToken(req, ON, 'api'))).toBe('malformed_token_parameter')
  })

  it.each([
    '/api?access_token[]=x&access_token=abc',
    '/api?access_token=abc&access_token[x]=y',
    '/api?access_token%5B%5D=x&access_token=abc',
    '/api?access_token[]=abc',
    '/api?%61ccess_token=abc&access_token=def',
  ])('rejects %s, which req.query parses into an array or object', (url) => {
    expect(reasonOf(() => readBearerToken(fakeRequest({ url }), ON, 'api'))).toBe(
      'malformed_token_parameter',
    )
  })

  it.each([
    '/api?access_token[]=abc',
    '/api?%61ccess_%74oken=abc',
    '/api?a=1&access_token%5b0%5d=x',
  ])('sees a token attempt in %s when query tokens are off', (url) => {
    const req = fakeRequest({ authorization: 'Bearer abc', url })
    expect(reasonOf(() => readBearerToken(req, OFF, 'api'))).toBe('query_token_disabled')
  })

  it('reads a query parameter name that is percent-encoded anywhere', () => {
    expect(readBearerToken(fakeRequest({ url: '/api?%61ccess_token=abc' }), ON, 'api')).toBe('abc')
    expect(readBearerToken(fakeRequest({ url: '/api?access_tokens=abc' }), ON, 'api')).toBe(
      NO_TOKEN,
    )

    const beside = fakeRequest({ url: '/api?access_tokens=x&access_token=abc&access_token_hint=y' })
    expect(readBearerToken(beside, ON, 'api')).toBe('abc')
  })

  it('rejects tokens in more than one location', () => {
    const req = fakeRequest({ authorization: 'Bearer a', url: '/api?access_token=b' })
    expect(reasonOf(() => readBearerToken(req, ON, 'api'))).toBe('multiple_token_locations')
  })

  it('puts the realm in the challenge of its errors', () => {
    try {
      readBearerToken(fakeRequest({ authorization: 'Bearer' }), OFF, 'orders')
    } catch (error) {
      expect((error as BearerError).headers['WWW-Authenticate']).toMatch(/^Bearer realm="orders", /)
      return
    }
    expect.unreachable()
  })
})

describe('checkHeaderTokenSyntax', () => {
  it('is left to the caller with checkSyntax false, and then refuses what readBearerToken would', () => {
    const req = fakeRequest({ authorization: 'Bearer abc!def' })
    expect(readBearerToken(req, OFF, 'api', false)).toBe('abc!def')
    expect(reasonOf(() => readBearerToken(req, OFF, 'api'))).toBe('malformed_authorization')
    expect(reasonOf(() => checkHeaderTokenSyntax('abc!def', 'api'))).toBe('malformed_authorization')
    expect(reasonOf(() => checkHeaderTokenSyntax('abc,def', 'api'))).toBe(
      'multiple_authorization_headers',
    )
    expect(() => checkHeaderTokenSyntax('abc.def-_~+/==', 'api')).not.toThrow()
  })
})
