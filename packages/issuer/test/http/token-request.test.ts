import { AsyncLocalStorage } from 'node:async_hooks'
import express, { type ErrorRequestHandler } from 'express'
import request from 'supertest'
import { describe, expect, it } from 'vitest'
import { TokenError } from '../../src/errors.js'
import { checkContentType, readBody } from '../../src/http/body-reader.js'
import { parseTokenParams } from '../../src/http/params.js'
import { beginTokenRequest, stateOf } from '../../src/http/request-state.js'

/** An app running only the request-parsing steps; it echoes what they produced. */
function createParsingApp(allowJson = false, before?: express.RequestHandler): express.Express {
  const app = express()
  if (before !== undefined) app.use(before)
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const errors: ErrorRequestHandler = (err: unknown, _req, res, _next) => {
    if (TokenError.is(err)) res.status(err.status).json({ code: err.code, reason: err.reason })
    else res.status(599).json({ unexpected: String(err) })
  }
  const echo: express.RequestHandler = (req, res) => {
    const params = stateOf(req)?.params
    res.json({
      values: Object.fromEntries(params?.values ?? []),
      resource: params?.resource,
      audience: params?.audience,
      prototypeClean: ({} as Record<string, unknown>).polluted === undefined,
    })
  }
  app.post(
    '/token',
    beginTokenRequest('token'),
    checkContentType(allowJson),
    readBody(4096),
    parseTokenParams(),
    echo,
    errors,
  )
  return app
}

const app = createParsingApp()
const jsonApp = createParsingApp(true)

describe('beginTokenRequest', () => {
  it.each([
    'client_secret=x',
    'client_id=x',
    'client%5Fsecret=x',
    'a=1&client_id=',
    'client_assertion=e30.e30.c2ln',
    'client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer',
  ])('refuses credentials in the query string (%s)', async (query) => {
    const res = await request(app).post(`/token?${query}`).type('form').send('grant_type=x')
    expect(res.status).toBe(400)
    expect(res.body).toEqual({ code: 'invalid_request', reason: 'credentials_in_query' })
    expect(res.headers['cache-control']).toBe('no-store')
  })

  it('allows other query parameters (RFC 6749 §3.2)', async () => {
    const res = await request(app).post('/token?tenant=a').type('form').send('grant_type=x')
    expect(res.status).toBe(200)
  })

  it('sets Cache-Control: no-store and Pragma: no-cache before anything else', async () => {
    const res = await request(app).post('/token').type('form').send('a=1')
    expect(res.headers).toMatchObject({ 'cache-control': 'no-store', pragma: 'no-cache' })
  })
})

describe('checkContentType', () => {
  it.each([
    'application/x-www-form-urlencoded',
    'application/x-www-form-urlencoded; charset=UTF-8',
    'Application/X-WWW-Form-Urlencoded;charset="utf-8"',
  ])('accepts %j', async (type) => {
    const res = await request(app).post('/token').set('Content-Type', type).send('a=1')
    expect(res.status).toBe(200)
    expect((res.body as { values: unknown }).values).toEqual({ a: '1' })
  })

  it.each<[string, string | undefined, string]>([
    ['no Content-Type', undefined, 'unsupported_content_type'],
    ['text/plain', 'text/plain', 'unsupported_content_type'],
    ['multipart', 'multipart/form-data; boundary=x', 'unsupported_content_type'],
    ['JSON when it is off', 'application/json', 'unsupported_content_type'],
    ['a form prefix trick', 'application/x-www-form-urlencodedx', 'unsupported_content_type'],
    ['Latin-1', 'application/x-www-form-urlencoded; charset=iso-8859-1', 'unsupported_charset'],
  ])('refuses %s with 400 invalid_request', async (_label, type, reason) => {
    const req = request(app).post('/token')
    if (type !== undefined) void req.set('Content-Type', type)
    const res = await req.send(Buffer.from('a=1'))
    expect(res.status).toBe(400)
    expect(res.body).toEqual({ code: 'invalid_request', reason })
  })

  it('accepts JSON when allowed', async () => {
    const res = await request(jsonApp).post('/token').send({ a: '1' })
    expect(res.status).toBe(200)
  })

  it('refuses text/plain with 400 invalid_request when JSON is allowed too', async () => {
    const res = await request(jsonApp).post('/token').set('Content-Type', 'text/plain').send('a=1')
    expect(res.status).toBe(400)
    expect(res.body).toEqual({ code: 'invalid_request', reason: 'unsupported_content_type' })
  })
})

describe('parseTokenParams', () => {
  it('refuses any repeated parameter', async () => {
    const res = await request(app).post('/token').type('form').send('grant_type=a&grant_type=a')
    expect(res.body).toEqual({ code: 'invalid_request', reason: 'duplicate_parameter' })
  })

  it('refuses a repeated unknown parameter too', async () => {
    const res = await request(app).post('/token').type('form').send('foo=1&foo=2')
    expect(res.body).toEqual({ code: 'invalid_request', reason: 'duplicate_parameter' })
  })

  it('keeps repeated resource and audience values in order', async () => {
    const res = await request(app)
      .post('/token')
      .type('form')
      .send('resource=r1&audience=a1&resource=r2&audience=a2')
    expect(res.body).toMatchObject({ resource: ['r1', 'r2'], audience: ['a1', 'a2'] })
  })

  it('drops empty values, so "scope=" is absent and "scope=&scope=x" is no repeat', async () => {
    const res = await request(app).post('/token').type('form').send('scope=&scope=x&resource=')
    expect(res.body).toMatchObject({ values: { scope: 'x' }, resource: [] })
  })

  it('keeps "__proto__" as a plain parameter without touching any prototype', async () => {
    const res = await request(app)
      .post('/token')
      .type('form')
      .send('__proto__=x&constructor=y&polluted=z')
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({
      values: { ['__proto__']: 'x', constructor: 'y', polluted: 'z' },
      prototypeClean: true,
    })
  })

  it('refuses a malformed percent escape', async () => {
    const res = await request(app).post('/token').type('form').send('scope=%E0%A4%A')
    expect(res.body).toEqual({ code: 'invalid_request', reason: 'malformed_body' })
  })

  it('refuses more than 64 parameters', async () => {
    const body = Array.from({ length: 65 }, (_, i) => `p${i}=1`).join('&')
    const res = await request(app).post('/token').type('form').send(body)
    expect(res.body).toEqual({ code: 'invalid_request', reason: 'too_many_parameters' })
  })

  it.each<[string, string, string]>([
    ['malformed JSON', '{"a":', 'malformed_body'],
    ['a JSON array', '["a"]', 'malformed_body'],
    ['a JSON string', '"a=1"', 'malformed_body'],
    ['a number value', '{"expires_in":5}', 'invalid_parameter_type'],
    ['a null value', '{"scope":null}', 'invalid_parameter_type'],
    ['a nested object', '{"scope":{"a":1}}', 'invalid_parameter_type'],
    ['an array for a single-valued parameter', '{"scope":["a","b"]}', 'duplicate_parameter'],
    [
      'a one-element array for a single-valued parameter',
      '{"scope":["a"]}',
      'invalid_parameter_type',
    ],
    ['a number inside resource', '{"resource":["https://a.example",1]}', 'invalid_parameter_type'],
  ])('refuses a JSON body with %s', async (_label, body, reason) => {
    const res = await request(jsonApp)
      .post('/token')
      .set('Content-Type', 'application/json')
      .send(body)
    expect(res.status).toBe(400)
    expect(res.body).toEqual({ code: 'invalid_request', reason })
  })

  it('accepts resource as a JSON string or array', async () => {
    const res = await request(jsonApp)
      .post('/token')
      .send({ resource: ['r1', 'r2'], audience: 'a1', scope: 'x' })
    expect(res.body).toMatchObject({
      values: { scope: 'x' },
      resource: ['r1', 'r2'],
      audience: ['a1'],
    })
  })

  it('refuses nested parameters from an app-level extended urlencoded parser', async () => {
    const parsed = createParsingApp(false, express.urlencoded({ extended: true }))
    const res = await request(parsed).post('/token').type('form').send('scope[a]=b')
    expect(res.body).toEqual({ code: 'invalid_request', reason: 'invalid_parameter_type' })
  })

  it('refuses a JSON object with more than 64 members', async () => {
    const body = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`p${i}`, '1']))
    const res = await request(jsonApp).post('/token').send(body)
    expect(res.status).toBe(400)
    expect(res.body).toEqual({ code: 'invalid_request', reason: 'too_many_parameters' })
  })

  it('refuses bytes that are not UTF-8 as a malformed body', async () => {
    const req = request(app).post('/token').set('Content-Type', 'application/x-www-form-urlencoded')
    req.write(Buffer.from([0x61, 0x3d, 0xff, 0xfe]))
    const res = await req
    expect(res.status).toBe(400)
    expect(res.body).toEqual({ code: 'invalid_request', reason: 'malformed_body' })
  })

  it('finds no parameters in a body the app parsed into something other than an object', async () => {
    const parsed = createParsingApp(true, express.json({ strict: true }))
    const res = await request(parsed).post('/token').send(['grant_type', 'client_credentials'])
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({ values: {}, resource: [], audience: [] })
  })

  it('treats a request without a body as having no parameters', async () => {
    const res = await request(app)
      .post('/token')
      .set('Content-Type', 'application/x-www-form-urlencoded')
    expect(res.status).toBe(200)
    expect((res.body as { values: unknown }).values).toEqual({})
  })
})

describe('readBody', () => {
  it('drops a leading UTF-8 byte order mark', async () => {
    // write(), not send(): superagent would serialize a Buffer for a form Content-Type.
    const req = request(app).post('/token').set('Content-Type', 'application/x-www-form-urlencoded')
    req.write(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('a=1&b=2')]))
    const res = await req
    expect(res.status).toBe(200)
    expect((res.body as { values: unknown }).values).toEqual({ a: '1', b: '2' })
  })

  it('reads a body sent in several chunks', async () => {
    const req = request(app)
      .post('/token')
      .set('Content-Type', 'application/x-www-form-urlencoded')
      .set('Transfer-Encoding', 'chunked')
    req.write(`a=${'x'.repeat(2000)}`)
    req.write('&b=2')
    const res = await req
    expect(res.status).toBe(200)
    expect((res.body as { values: Record<string, string> }).values.b).toBe('2')
  })

  it("runs the rest of the route in the request's AsyncLocalStorage context", async () => {
    const storage = new AsyncLocalStorage<string>()
    const contextApp = express()
    contextApp.post(
      '/token',
      (_req, _res, next) => {
        storage.run('request-context', next)
      },
      beginTokenRequest('token'),
      checkContentType(false),
      readBody(4096),
      (req, res) => {
        res.json({ store: storage.getStore() ?? null, body: req.body as unknown })
      },
    )
    const res = await request(contextApp).post('/token').type('form').send('a=1')
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ store: 'request-context', body: 'a=1' })
  })
})
