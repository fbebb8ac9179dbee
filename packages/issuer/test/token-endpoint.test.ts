import { gzipSync } from 'node:zlib'
import express, { type ErrorRequestHandler } from 'express'
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose'
import passport from 'passport'
import { Strategy } from 'passport-strategy'
import request from 'supertest'
import { describe, expect, it, vi } from 'vitest'
import { forgetWarnings } from '@ccflow/core'
import { staticClientStore, type ClientStore } from '../src/clients/client-store.js'
import { generateClientSecret, hashClientSecret } from '../src/clients/secrets.js'
import { generateSigningKey } from '../src/tokens/signing-keys.js'
import { tokenEndpoint } from '../src/token-endpoint.js'
import {
  ISSUER,
  NO_STORE,
  REPORTS,
  baseKey,
  baseOptions,
  basic,
  clientStore,
  createApp,
  eventSpy,
  form,
  secrets,
} from './helpers.js'

const GRANT = { grant_type: 'client_credentials' }
const reporterAuth = basic('reporter', secrets.reporter.secret)

describe('tokenEndpoint', () => {
  it('returns an Express router', () => {
    const router = tokenEndpoint(baseOptions())
    expect(typeof router).toBe('function')
    expect(typeof router.use).toBe('function')
  })

  it('throws a TypeError naming an unknown option', () => {
    expect(() => tokenEndpoint({ ...baseOptions(), audiance: 'x' } as never)).toThrow(
      'tokenEndpoint: unknown option "audiance"',
    )
  })
})

describe('POST /token', () => {
  const app = createApp({ rateLimit: false })

  it('issues a Bearer token as RFC 6749 §5.1 JSON with no-store headers', async () => {
    const res = await request(app)
      .post('/token')
      .set('Authorization', reporterAuth)
      .type('form')
      .send(form(GRANT))
    expect(res.status).toBe(200)
    expect(res.headers['content-type']).toBe('application/json')
    expect(res.headers).toMatchObject(NO_STORE)
    expect(res.body).toEqual({
      access_token: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/) as unknown,
      token_type: 'Bearer',
      expires_in: 600,
      scope: 'reports:read',
    })
    expect(Object.keys(res.body as object)).toEqual([
      'access_token',
      'token_type',
      'expires_in',
      'scope',
    ])
  })

  it('issues a token that jose verifies against the JWKS the router serves', async () => {
    const res = await request(app)
      .post('/token')
      .set('Authorization', reporterAuth)
      .type('form')
      .send(form({ ...GRANT, scope: 'reports:read orders:read' }))
    const jwks = await request(app).get('/jwks.json')
    const token = (res.body as { access_token: string }).access_token
    const { payload, protectedHeader } = await jwtVerify(
      token,
      createLocalJWKSet(jwks.body as JSONWebKeySet),
      {
        issuer: ISSUER,
        audience: REPORTS,
        typ: 'at+jwt',
        requiredClaims: ['iss', 'sub', 'client_id', 'aud', 'scope', 'iat', 'exp', 'jti'],
      },
    )
    expect(protectedHeader).toMatchObject({ alg: 'ES256', kid: 'test-es256', typ: 'at+jwt' })
    expect(payload).toMatchObject({
      iss: ISSUER,
      sub: 'reporter',
      client_id: 'reporter',
      aud: REPORTS,
      scope: 'reports:read orders:read',
    })
    expect(payload.exp! - payload.iat!).toBe(600)
  })

  it('verifies tokens from before and after a key rotation against the new JWKS', async () => {
    const next = generateSigningKey('RS256', { kid: 'next-rs256' })
    const old = baseKey
    const before = createApp({
      rateLimit: false,
      keys: [old, { kid: next.kid, alg: next.alg, privateKey: next.privateKey, status: 'next' }],
    })
    const after = createApp({
      rateLimit: false,
      keys: [
        { ...old, status: 'retired' },
        { kid: next.kid, alg: next.alg, privateKey: next.privateKey, status: 'active' },
      ],
    })
    const issue = async (target: express.Express): Promise<string> =>
      (
        (
          await request(target)
            .post('/token')
            .set('Authorization', reporterAuth)
            .type('form')
            .send(form(GRANT))
        ).body as { access_token: string }
      ).access_token
    const oldToken = await issue(before)
    const newToken = await issue(after)
    expect(decodeProtectedHeader(oldToken).kid).toBe('test-es256')
    expect(decodeProtectedHeader(newToken).kid).toBe('next-rs256')
    const keys = createLocalJWKSet((await request(after).get('/jwks.json')).body as JSONWebKeySet)
    for (const [token, kid] of [
      [oldToken, 'test-es256'],
      [newToken, 'next-rs256'],
    ] as const) {
      await expect(
        jwtVerify(token, keys, { issuer: ISSUER, typ: 'at+jwt' }),
      ).resolves.toMatchObject({
        payload: { iss: ISSUER, client_id: 'reporter' },
        protectedHeader: { kid },
      })
    }
  })

  it('answers 400 invalid_request when the body is not a form', async () => {
    const res = await request(app)
      .post('/token')
      .set('Authorization', reporterAuth)
      .set('Content-Type', 'text/plain')
      .send('grant_type=client_credentials')
    expect(res.status).toBe(400)
    expect(res.body).toEqual({
      error: 'invalid_request',
      error_description: 'The request body must be application/x-www-form-urlencoded.',
    })
    expect(res.headers).toMatchObject(NO_STORE)
  })

  it('answers 400 invalid_request for a JSON body unless allowJsonBody is set', async () => {
    const res = await request(app).post('/token').set('Authorization', reporterAuth).send(GRANT)
    expect(res.status).toBe(400)
    expect((res.body as { error: string }).error).toBe('invalid_request')
  })

  it('issues a token for a JSON body when allowJsonBody is set', async () => {
    const res = await request(createApp({ rateLimit: false, allowJsonBody: true }))
      .post('/token')
      .set('Authorization', reporterAuth)
      .send({ ...GRANT, resource: [REPORTS], scope: 'reports:write' })
    expect(res.status).toBe(200)
    expect((res.body as { scope: string }).scope).toBe('reports:write')
  })

  it('answers 413 with a JSON body and no-store when the body exceeds bodyLimit', async () => {
    const res = await request(app)
      .post('/token')
      .set('Authorization', reporterAuth)
      .type('form')
      .send(`${form(GRANT)}&padding=${'a'.repeat(100 * 1024)}`)
    expect(res.status).toBe(413)
    expect(res.headers['content-type']).toBe('application/json')
    expect(res.headers).toMatchObject(NO_STORE)
    expect(res.body).toEqual({
      error: 'invalid_request',
      error_description: 'The request body is too large.',
    })
  })

  it('accepts a body of exactly bodyLimit bytes and answers 413 to one byte more', async () => {
    const limited = createApp({ rateLimit: false, bodyLimit: 256 })
    const body = (size: number): string => {
      const head = `${form(GRANT)}&padding=`
      return head + 'a'.repeat(size - head.length)
    }
    const send = (text: string) =>
      request(limited).post('/token').set('Authorization', reporterAuth).type('form').send(text)
    expect(body(256)).toHaveLength(256)
    expect((await send(body(256))).status).toBe(200)
    const over = await send(body(257))
    expect(over.status).toBe(413)
    expect(over.headers).toMatchObject(NO_STORE)
  })

  it('answers 413 to a chunked body (no Content-Length) over bodyLimit', async () => {
    const limited = createApp({ rateLimit: false, bodyLimit: 256 })
    const req = request(limited)
      .post('/token')
      .set('Authorization', reporterAuth)
      .set('Content-Type', 'application/x-www-form-urlencoded')
      .set('Transfer-Encoding', 'chunked')
    req.write(`${form(GRANT)}&padding=`)
    req.write('a'.repeat(300))
    const res = await req
    expect(res.status).toBe(413)
    expect(res.body).toEqual({
      error: 'invalid_request',
      error_description: 'The request body is too large.',
    })
  })

  it('answers 400 to raw bytes that are not UTF-8, as it does to a %-escape of them', async () => {
    for (const tail of [Buffer.from([0xff, 0xfe]), Buffer.from('%ff%fe')]) {
      // write(), not send(): superagent would serialize a Buffer for a form Content-Type.
      const req = request(app)
        .post('/token')
        .set('Authorization', reporterAuth)
        .set('Content-Type', 'application/x-www-form-urlencoded')
      req.write(Buffer.concat([Buffer.from(`${form(GRANT)}&note=`), tail]))
      const res = await req
      expect(res.status).toBe(400)
      expect(res.body).toEqual({
        error: 'invalid_request',
        error_description: 'The request body is malformed.',
      })
    }
  })

  it('answers 400 for a compressed body instead of inflating it', async () => {
    const res = await request(app)
      .post('/token')
      .set('Authorization', reporterAuth)
      .set('Content-Type', 'application/x-www-form-urlencoded')
      .set('Content-Encoding', 'gzip')
      .send(gzipSync(form(GRANT)))
    expect(res.status).toBe(400)
    expect(res.body).toEqual({
      error: 'invalid_request',
      error_description: 'The request body could not be read.',
    })
  })

  it.each(['GET', 'PUT', 'DELETE', 'PATCH'] as const)(
    'answers 405 with Allow: POST and no-store to %s',
    async (method) => {
      const res = await request(app)[method.toLowerCase() as 'get']('/token')
      expect(res.status).toBe(405)
      expect(res.headers.allow).toBe('POST')
      expect(res.headers).toMatchObject(NO_STORE)
      expect(res.body).toEqual({
        error: 'invalid_request',
        error_description: 'The request method is not allowed.',
      })
    },
  )

  it('answers OPTIONS with 204 and Allow: POST', async () => {
    const res = await request(app).options('/token')
    expect(res.status).toBe(204)
    expect(res.headers.allow).toBe('POST')
  })

  it('answers a generic 500 without details when the client store fails, and reports it', async () => {
    const spy = eventSpy()
    const failing: ClientStore = {
      findClient: () => Promise.reject(new Error('db password is hunter2')),
    }
    const res = await request(
      createApp({ rateLimit: false, clients: failing, onEvent: spy.onEvent }),
    )
      .post('/token')
      .set('Authorization', reporterAuth)
      .type('form')
      .send(form(GRANT))
    expect(res.status).toBe(500)
    expect(res.body).toEqual({
      error: 'server_error',
      error_description: 'The server encountered an unexpected error.',
    })
    expect(res.text).not.toContain('hunter2')
    expect(res.headers).toMatchObject(NO_STORE)
    expect(spy.events('server_error')).toEqual([
      {
        type: 'server_error',
        error: expect.any(Error) as unknown,
        clientId: 'reporter',
        ip: expect.any(String) as unknown,
      },
    ])
    expect(spy.events('store_error')).toEqual([
      {
        type: 'store_error',
        store: 'client_store',
        error: spy.events('server_error')[0]?.error,
        clientId: 'reporter',
        ip: expect.any(String) as unknown,
      },
    ])
  })

  it('reports a 500 on console.error when no onEvent hook is set', async () => {
    const log = vi.spyOn(console, 'error').mockImplementation(() => undefined)
    try {
      const failing: ClientStore = { findClient: () => Promise.reject(new Error('boom')) }
      const res = await request(createApp({ rateLimit: false, clients: failing }))
        .post('/token')
        .set('Authorization', reporterAuth)
        .type('form')
        .send(form(GRANT))
      expect(res.status).toBe(500)
      expect(log).toHaveBeenCalledTimes(1)
    } finally {
      log.mockRestore()
    }
  })

  it('explains outside production, in one server-log line, a secret hashed with a pepper the endpoint lacks', async () => {
    vi.stubEnv('NODE_ENV', 'development')
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined)
    try {
      const { secretId, secret } = generateClientSecret({ secretId: 'pep-1' })
      const pepper = 'a-pepper-of-at-least-32-bytes-0123456789'
      const peppered = staticClientStore([
        {
          client_id: 'peppered',
          scope: 'reports:read',
          audiences: [REPORTS],
          secrets: [{ id: secretId, hash: await hashClientSecret(secret, { pepper }) }],
        },
      ])
      const app = createApp({ rateLimit: false, clients: peppered })
      for (let i = 0; i < 2; i++) {
        const res = await request(app)
          .post('/token')
          .set('Authorization', basic('peppered', secret))
          .type('form')
          .send(form(GRANT))
        expect(res.status).toBe(401)
        expect(res.body).toEqual({
          error: 'invalid_client',
          error_description: 'Client authentication failed.',
        })
      }
      expect(warn).toHaveBeenCalledTimes(1)
      const [message] = warn.mock.calls[0] as [string]
      expect(message).toMatch(
        /^tokenEndpoint: refused client "peppered" with client_secret_basic \(401 invalid_client, wrong_secret\): .*this endpoint has no secretPepper/,
      )
      expect(message).not.toContain(secret)
      expect(message).not.toContain(pepper)
    } finally {
      forgetWarnings('')
      vi.unstubAllEnvs()
      warn.mockRestore()
    }
  })

  it.each<[string, () => unknown]>([
    [
      'throws',
      () => {
        throw new Error('audit log down')
      },
    ],
    ['returns a rejected promise', () => Promise.reject(new Error('audit log down'))],
    ['returns a promise that never settles', () => new Promise(() => undefined)],
  ])('answers exactly as without a hook when onEvent %s', async (_label, onEvent) => {
    const withHook = createApp({ rateLimit: false, onEvent })
    const ask = (target: typeof app, auth: string) =>
      request(target).post('/token').set('Authorization', auth).type('form').send(form(GRANT))
    const ok = await ask(withHook, reporterAuth)
    expect(ok.status).toBe(200)
    expect(ok.headers).toMatchObject(NO_STORE)
    const wrong = basic('reporter', 'wrong')
    const [failed, plain] = [await ask(withHook, wrong), await ask(app, wrong)]
    expect(failed.status).toBe(401)
    expect(failed.text).toBe(plain.text)
    expect(failed.headers['www-authenticate']).toBe(plain.headers['www-authenticate'])
  })

  it('answers a generic 500 when a client store returns garbage instead of throwing', async () => {
    const weird = { findClient: () => Promise.resolve({ client_id: 'reporter' }) } as never
    const res = await request(createApp({ rateLimit: false, clients: weird, onEvent: () => {} }))
      .post('/token')
      .set('Authorization', reporterAuth)
      .type('form')
      .send(form(GRANT))
    expect(res.status).toBe(500)
    expect((res.body as { error: string }).error).toBe('server_error')
  })
})

describe('mounting', () => {
  it('serves the routes under the issuer path and advertises those URLs', async () => {
    const app = createApp({ issuer: `${ISSUER}/oauth`, rateLimit: false }, '/oauth')
    const meta = await request(app).get('/oauth/.well-known/oauth-authorization-server')
    expect(meta.status).toBe(200)
    expect(meta.body).toMatchObject({
      issuer: `${ISSUER}/oauth`,
      token_endpoint: `${ISSUER}/oauth/token`,
      jwks_uri: `${ISSUER}/oauth/jwks.json`,
    })
    const token = await request(app)
      .post('/oauth/token')
      .set('Authorization', reporterAuth)
      .type('form')
      .send(form(GRANT))
    expect(token.status).toBe(200)
  })

  it('passes requests for other paths through to the app', async () => {
    const app = express()
    app.use(tokenEndpoint(baseOptions()))
    app.get('/health', (_req, res) => {
      res.json({ ok: true })
    })
    const res = await request(app).get('/health')
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ ok: true })
  })

  it('uses custom paths', async () => {
    const app = createApp({
      rateLimit: false,
      paths: { token: '/oauth2/token', jwks: '/keys', metadata: '/meta' },
    })
    expect((await request(app).get('/keys')).status).toBe(200)
    expect((await request(app).get('/meta')).body).toMatchObject({
      token_endpoint: `${ISSUER}/oauth2/token`,
      jwks_uri: `${ISSUER}/keys`,
    })
    expect((await request(app).post('/token')).status).toBe(404)
  })
})

describe('mounting into an app with its own parsers, passport and error handler', () => {
  class AppHeaderStrategy extends Strategy {
    readonly name = 'app-header'
    override authenticate(req: express.Request): void {
      const user = req.headers['x-app-user']
      if (typeof user === 'string') this.success({ name: user })
      else this.fail(401)
    }
  }
  passport.use(new AppHeaderStrategy())

  function createHostApp(): { app: express.Express; seen: Array<Record<string, unknown>> } {
    const seen: Array<Record<string, unknown>> = []
    const app = express()
    app.use(express.json())
    app.use(passport.initialize())
    // Records, after the response, what the token route left on the request.
    app.use((req, res, next) => {
      const sessionManager = (req as unknown as { _sessionManager: unknown })._sessionManager
      ;(req as unknown as { user: unknown }).user = { name: 'set-by-app' }
      res.on('finish', () => {
        seen.push({
          user: (req as unknown as { user: unknown }).user,
          sessionManagerKept:
            (req as unknown as { _sessionManager: unknown })._sessionManager === sessionManager,
          ccflowClient: (req as unknown as Record<string, unknown>).ccflowClient,
          authInfo: (req as unknown as { authInfo: unknown }).authInfo,
        })
      })
      next()
    })
    app.use('/boom', (_req, _res, next) => {
      next(new Error('app failure'))
    })
    app.use(tokenEndpoint(baseOptions({ rateLimit: false })))
    const appAuth = passport.authenticate('app-header', {
      session: false,
    }) as express.RequestHandler
    app.post('/api/echo', appAuth, (req, res) => {
      res.json({ user: req.user, body: req.body as unknown })
    })
    app.get('/api/fail', (_req, _res, next) => {
      next(new Error('route failure'))
    })
    // eslint-disable-next-line @typescript-eslint/no-unused-vars
    const appErrors: ErrorRequestHandler = (err: Error, _req, res, _next) => {
      res.status(418).json({ appHandled: err.message })
    }
    app.use(appErrors)
    return { app, seen }
  }

  it('issues tokens and leaves req.user, the session manager and req.authInfo alone', async () => {
    const { app, seen } = createHostApp()
    const res = await request(app)
      .post('/token')
      .set('Authorization', reporterAuth)
      .type('form')
      .send(form(GRANT))
    expect(res.status).toBe(200)
    expect(seen).toEqual([
      {
        user: { name: 'set-by-app' },
        sessionManagerKept: true,
        ccflowClient: undefined,
        authInfo: undefined,
      },
    ])
  })

  it('adds no passport field to the request of an app without passport', async () => {
    const app = express()
    const left: string[][] = []
    app.use((req, res, next) => {
      res.on('finish', () => {
        left.push(
          ['login', 'logIn', 'logout', 'logOut', 'isAuthenticated', 'isUnauthenticated']
            .concat(['_sessionManager', 'ccflowClient', 'user', 'authInfo'])
            .filter((name) => name in req),
        )
      })
      next()
    })
    app.use(tokenEndpoint(baseOptions({ rateLimit: false })))
    const ok = await request(app)
      .post('/token')
      .set('Authorization', reporterAuth)
      .type('form')
      .send(form(GRANT))
    const bad = await request(app)
      .post('/token')
      .type('form')
      .send(form({ ...GRANT, client_id: 'reporter', client_secret: 'wrong' }))
    expect(ok.status).toBe(200)
    expect(bad.status).toBe(401)
    expect(left).toEqual([[], []])
  })

  it("keeps the app's JSON parser and passport strategy working on its own routes", async () => {
    const { app } = createHostApp()
    const res = await request(app).post('/api/echo').set('X-App-User', 'alice').send({ a: 1 })
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ user: { name: 'alice' }, body: { a: 1 } })
    const denied = await request(app).post('/api/echo').send({ a: 1 })
    expect(denied.status).toBe(401)
  })

  it("sends the app's errors to the app's error handler, including errors raised before the router", async () => {
    const { app } = createHostApp()
    const route = await request(app).get('/api/fail')
    expect(route.status).toBe(418)
    expect(route.body).toEqual({ appHandled: 'route failure' })
    const before = await request(app).post('/boom/token')
    expect(before.status).toBe(418)
    expect(before.body).toEqual({ appHandled: 'app failure' })
  })

  it("answers token errors itself without reaching the app's error handler", async () => {
    const { app } = createHostApp()
    const res = await request(app)
      .post('/token')
      .set('Authorization', basic('reporter', 'wrong'))
      .type('form')
      .send(form(GRANT))
    expect(res.status).toBe(401)
    expect(res.body).toEqual({
      error: 'invalid_client',
      error_description: 'Client authentication failed.',
    })
  })

  it('refuses a JSON token request even though the app parsed it as JSON', async () => {
    const { app } = createHostApp()
    const res = await request(app).post('/token').set('Authorization', reporterAuth).send(GRANT)
    expect(res.status).toBe(400)
    expect((res.body as { error: string }).error).toBe('invalid_request')
  })

  it('does not register its strategies on the passport singleton', () => {
    const strategies = (passport as unknown as { _strategies: Record<string, unknown> })._strategies
    expect(Object.keys(strategies).filter((name) => name.startsWith('ccflow'))).toEqual([])
  })

  it('uses a body the app already parsed with express.urlencoded and still refuses repeats', async () => {
    const app = express()
    app.use(express.urlencoded({ extended: false }))
    app.use(tokenEndpoint(baseOptions({ rateLimit: false })))
    const ok = await request(app)
      .post('/token')
      .set('Authorization', reporterAuth)
      .type('form')
      .send(form({ ...GRANT, scope: 'orders:read' }))
    expect(ok.status).toBe(200)
    expect((ok.body as { scope: string }).scope).toBe('orders:read')
    const repeated = await request(app)
      .post('/token')
      .set('Authorization', reporterAuth)
      .type('form')
      .send('grant_type=client_credentials&scope=orders:read&scope=reports:read')
    expect(repeated.status).toBe(400)
    expect((repeated.body as { error: string }).error).toBe('invalid_request')
  })
})

describe('the token route with a hostile client store', () => {
  it('answers 401, not 500, for a "__proto__" client id', async () => {
    const res = await request(createApp({ rateLimit: false, clients: clientStore }))
      .post('/token')
      .type('form')
      .send(form({ ...GRANT, client_id: '__proto__', client_secret: 'x' }))
    expect(res.status).toBe(401)
    expect((res.body as { error: string }).error).toBe('invalid_client')
  })
})

describe('the token route behind app middleware that misbehaves', () => {
  function appWith(before: express.RequestHandler, spy = eventSpy()): express.Express {
    const target = express()
    target.use(before)
    target.use(tokenEndpoint(baseOptions({ rateLimit: false, onEvent: spy.onEvent })))
    return target
  }

  it('answers a generic 500, reported without a client id, when the app set an encoding on the request stream', async () => {
    const spy = eventSpy()
    const target = appWith((req, _res, next) => {
      req.setEncoding('latin1')
      next()
    }, spy)
    const res = await request(target)
      .post('/token')
      .set('Authorization', reporterAuth)
      .type('form')
      .send(form(GRANT))
    expect(res.status).toBe(500)
    expect(res.body).toEqual({
      error: 'server_error',
      error_description: 'The server encountered an unexpected error.',
    })
    expect(res.headers).toMatchObject(NO_STORE)
    const [event] = spy.events('server_error')
    expect(event).toMatchObject({ type: 'server_error', error: { type: 'stream.encoding.set' } })
    expect(event).not.toHaveProperty('clientId')
  })

  it('reports server_error and drops the connection, writing nothing, when the app already sent the headers', async () => {
    const spy = eventSpy()
    const target = appWith((_req, res, next) => {
      res.flushHeaders()
      next()
    }, spy)
    await expect(
      request(target)
        .post('/token')
        .set('Authorization', basic('reporter', 'wrong'))
        .type('form')
        .send(form(GRANT)),
    ).rejects.toThrow()
    await vi.waitFor(() => expect(spy.events('server_error')).toHaveLength(1))
    // The route's first step cannot set its no-store headers any more.
    expect(spy.events('server_error')[0]).toEqual({
      type: 'server_error',
      error: expect.objectContaining({ code: 'ERR_HTTP_HEADERS_SENT' }) as unknown,
      ip: expect.any(String) as unknown,
    })
    expect(spy.events('authentication_failed')).toEqual([])
  })
})

describe('the token route with an extraClaims hook that rejects with a non-Error value', () => {
  it('answers a generic 500 and reports the value as the error', async () => {
    const spy = eventSpy()
    const res = await request(
      createApp({
        rateLimit: false,
        onEvent: spy.onEvent,
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
        extraClaims: () => Promise.reject('claims service down'),
      }),
    )
      .post('/token')
      .set('Authorization', reporterAuth)
      .type('form')
      .send(form(GRANT))
    expect(res.status).toBe(500)
    expect((res.body as { error: string }).error).toBe('server_error')
    expect(spy.events('server_error')).toEqual([
      {
        type: 'server_error',
        error: 'claims service down',
        clientId: 'reporter',
        ip: expect.any(String) as unknown,
      },
    ])
  })
})
