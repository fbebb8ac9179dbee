import express, { type ErrorRequestHandler, type Express, type RequestHandler } from 'express'
import passport from 'passport'
import request from 'supertest'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { BASIC_STRATEGY, POST_STRATEGY } from '../../src/clients/strategy-classes.js'
import {
  clientSecretBasicStrategy,
  clientSecretPostStrategy,
} from '../../src/clients/strategies.js'
import {
  resolveStrategyOptions,
  type ClientSecretStrategyOptions,
} from '../../src/clients/strategy-options.js'
import { staticClientStore, type Client } from '../../src/clients/client-store.js'
import { hashClientSecret } from '../../src/clients/secrets.js'
import { basic, clientStore, eventSpy, form, formEncode, rawBasic, secrets } from '../helpers.js'

const GRANT = { grant_type: 'client_credentials' }
const CHALLENGE = 'Basic realm="ccflow"'
const GOOD_BASIC = basic('reporter', secrets.reporter.secret)
const WRONG_BASIC = basic('reporter', 'not-the-secret')

describe('clientSecretBasicStrategy', () => {
  const spy = eventSpy()
  afterEach(() => spy.onEvent.mockClear())
  passport.use(clientSecretBasicStrategy({ clients: clientStore, onEvent: spy.onEvent }))
  passport.use(clientSecretPostStrategy({ clients: clientStore, onEvent: spy.onEvent }))

  /** A plain app on the global passport, the way an oauth2orize app mounts client auth. */
  function appWith(strategies: string | string[]): Express {
    const app = express()
    app.use(express.urlencoded({ extended: false }))
    app.use(passport.initialize())
    app.post(
      '/token',
      passport.authenticate(strategies, { session: false }) as RequestHandler,
      (req, res) => {
        res.json({ user: (req.user as Client).client_id })
      },
    )
    return app
  }
  const app = appWith(BASIC_STRATEGY)

  it('sets req.user to the client on a good secret', async () => {
    const res = await request(app).post('/token').set('Authorization', GOOD_BASIC)
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ user: 'reporter' })
  })

  it('responds 401 with the Basic challenge when the secret is wrong', async () => {
    const res = await request(app).post('/token').set('Authorization', WRONG_BASIC)
    expect(res.status).toBe(401)
    expect(res.headers['www-authenticate']).toBe(CHALLENGE)
    expect(spy.events('authentication_failed')).toEqual([
      {
        type: 'authentication_failed',
        reason: 'wrong_secret',
        clientId: 'reporter',
        method: 'client_secret_basic',
        ip: expect.any(String) as unknown,
      },
    ])
  })

  it('responds 401 with the Basic challenge, and reports nothing, without a header', async () => {
    const res = await request(app).post('/token')
    expect(res.status).toBe(401)
    expect(res.headers['www-authenticate']).toBe(CHALLENGE)
    expect(spy.onEvent).not.toHaveBeenCalled()
  })

  it.each<[string, string | string[]]>([
    ['another scheme', 'Bearer abc.def.ghi'],
    [
      'bytes that are not UTF-8',
      `Basic ${Buffer.from([0xc3, 0x28, 0x3a, 0x41]).toString('base64')}`,
    ],
    ['an oversized header', `Basic ${'QUFB'.repeat(2800)}`],
    ['two Authorization headers', [GOOD_BASIC, GOOD_BASIC]],
  ])('fails with the Basic challenge for %s (malformed_credentials)', async (_label, header) => {
    const res = await request(app)
      .post('/token')
      .set('Authorization', header as string)
    expect(res.status).toBe(401)
    expect(res.headers['www-authenticate']).toBe(CHALLENGE)
    expect(spy.events('authentication_failed')[0]?.reason).toBe('malformed_credentials')
  })

  it.each<[string, string, string, string]>([
    ['plain values', 'svc', 's3cret', 'svc:s3cret'],
    ['a percent-encoded ":" in the client id', 'svc:reports', 'pw', 'svc%3Areports:pw'],
    ['a percent-encoded ":" in the secret', 'svc', 'a:b:c', 'svc:a%3Ab%3Ac'],
    ["'+' as a space", 'my client', 'pass word', 'my+client:pass+word'],
    ["'%25' as a percent", 'svc', '100%', 'svc:100%25'],
    ['percent-encoded UTF-8', 'svc', 'wörd€', `svc:${formEncode('wörd€')}`],
    ['raw UTF-8 (RFC 7617 charset)', 'svc', 'wörd', 'svc:wörd'],
  ])(
    'decodes %s per RFC 6749 Appendix B and authenticates',
    async (_label, clientId, secret, userPass) => {
      const record: Client = {
        client_id: clientId,
        scope: 'orders:read',
        audiences: ['orders-api'],
        secrets: [{ id: 'x-1', hash: await hashClientSecret(secret) }],
      }
      const local = new passport.Passport()
      local.use(clientSecretBasicStrategy({ clients: staticClientStore([record]) }))
      const one = express()
      one.post(
        '/',
        local.authenticate(BASIC_STRATEGY, { session: false }) as RequestHandler,
        (req, res) => {
          res.json((req.user as Client).client_id)
        },
      )
      const res = await request(one).post('/').set('Authorization', rawBasic(userPass))
      expect(res.status).toBe(200)
      expect(res.body).toBe(clientId)
    },
  )

  it('fails when a raw colon in the secret is not form-encoded (RFC 6749 §2.3.1)', async () => {
    const unencoded = formEncode(secrets.imported.secret).replaceAll('%3A', ':')
    const res = await request(appWith(BASIC_STRATEGY))
      .post('/token')
      .set('Authorization', rawBasic(`${formEncode('legacy: importer')}:${unencoded}`))
    expect(res.status).toBe(401)
    expect(res.headers['www-authenticate']).toBe(CHALLENGE)
  })

  it('uses the configured realm in the challenge', async () => {
    const local = new passport.Passport()
    local.use(clientSecretBasicStrategy({ clients: clientStore, realm: 'payments' }))
    const one = express()
    one.post('/', local.authenticate(BASIC_STRATEGY, { session: false }) as RequestHandler)
    const res = await request(one).post('/').set('Authorization', WRONG_BASIC)
    expect(res.status).toBe(401)
    expect(res.headers['www-authenticate']).toBe('Basic realm="payments"')
  })

  it('passes a client store failure to the app through error(), never a 401', async () => {
    const local = new passport.Passport()
    const findClient = (): Promise<Client> => Promise.reject(new Error('store down'))
    local.use(clientSecretBasicStrategy({ clients: { findClient } }))
    const one = express()
    one.post('/', local.authenticate(BASIC_STRATEGY, { session: false }) as RequestHandler)
    // eslint-disable-next-line @typescript-eslint/no-unused-vars
    const handler: ErrorRequestHandler = (err: Error, _req, res, _next) => {
      res.status(500).json({ seen: err.message })
    }
    one.use(handler)
    const res = await request(one).post('/').set('Authorization', GOOD_BASIC)
    expect(res.status).toBe(500)
    expect(res.body).toEqual({ seen: 'store down' })
  })

  it.each<[string, Record<string, unknown>, RegExp]>([
    [
      'a misspelt option',
      { clients: clientStore, relam: 'x' },
      /: unknown option "relam" \(did you mean "realm"\?\)$/,
    ],
    ['no client store', {}, /: option "clients" is required/],
    ['a realm with a quote', { clients: clientStore, realm: 'a"b' }, /: option "realm" must be/],
    [
      'a short pepper',
      { clients: clientStore, secretPepper: 'short' },
      /: option "secretPepper" must be a string of at least 32 bytes$/,
    ],
    [
      'a zero hookTimeoutMs',
      { clients: clientStore, hookTimeoutMs: 0 },
      /: option "hookTimeoutMs" must be an integer from 1 to 60000$/,
    ],
    [
      'an onEvent that is not a function',
      { clients: clientStore, onEvent: 1 },
      /: option "onEvent" must be a function$/,
    ],
  ])('throws a TypeError naming the option for %s', (_label, options, message) => {
    for (const factory of [clientSecretBasicStrategy, clientSecretPostStrategy]) {
      expect(() => factory(options as unknown as ClientSecretStrategyOptions)).toThrow(TypeError)
      expect(() => factory(options as unknown as ClientSecretStrategyOptions)).toThrow(
        new RegExp(`^${factory.name}${message.source}`),
      )
    }
  })

  it('treats every option set to undefined as not given', () => {
    const strategy = clientSecretBasicStrategy({
      clients: clientStore,
      secretPepper: undefined,
      realm: undefined,
      hookTimeoutMs: undefined,
      onEvent: undefined,
      hookTimeout: undefined,
    })
    expect(strategy.name).toBe(BASIC_STRATEGY)
    const { emit, ...config } = resolveStrategyOptions(
      { clients: clientStore, secretPepper: undefined, realm: undefined, hookTimeoutMs: undefined },
      'f',
    )
    expect(config).toStrictEqual({
      clients: clientStore,
      secretPepper: undefined,
      realm: 'ccflow',
      hookTimeoutMs: 5000,
    })
    expect(emit).toBeTypeOf('function')
  })

  it('still accepts the deprecated hookTimeout (as hookTimeoutMs), warning once per process', () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined)
    try {
      clientSecretBasicStrategy({ clients: clientStore, hookTimeout: 100 })
      clientSecretPostStrategy({ clients: clientStore, hookTimeout: 100 })
      expect(() => clientSecretBasicStrategy({ clients: clientStore, hookTimeout: 0 })).toThrow(
        /^clientSecretBasicStrategy: option "hookTimeoutMs" must be an integer from 1 to 60000$/,
      )
      const warnings = warn.mock.calls.filter(
        ([, options]) =>
          (options as { code?: string } | undefined)?.code === 'CCFLOW_DEP_HOOK_TIMEOUT',
      )
      expect(warnings).toHaveLength(1)
    } finally {
      warn.mockRestore()
    }
  })
})

describe('clientSecretPostStrategy', () => {
  it('sets req.user to the client on a good secret in the form body', async () => {
    const app = express()
    app.use(express.urlencoded({ extended: false }))
    app.post(
      '/token',
      passport.authenticate(POST_STRATEGY, { session: false }) as RequestHandler,
      (req, res) => {
        res.json({ user: (req.user as Client).client_id })
      },
    )
    const ok = await request(app)
      .post('/token')
      .type('form')
      .send(form({ client_id: 'reporter', client_secret: secrets.reporter.secret }))
    expect(ok.status).toBe(200)
    expect(ok.body).toEqual({ user: 'reporter' })
    const bad = await request(app)
      .post('/token')
      .type('form')
      .send(form({ client_id: 'reporter', client_secret: 'wrong' }))
    expect(bad.status).toBe(401)
    expect(bad.headers['www-authenticate']).toBeUndefined()
  })

  it('runs beside the Basic strategy in one passport.authenticate chain', async () => {
    const app = express()
    app.use(express.urlencoded({ extended: false }))
    app.use(passport.initialize())
    app.post(
      '/token',
      passport.authenticate([BASIC_STRATEGY, POST_STRATEGY], { session: false }) as RequestHandler,
      (req, res) => {
        res.json({ user: (req.user as Client).client_id })
      },
    )
    const viaBasic = await request(app).post('/token').set('Authorization', GOOD_BASIC)
    const viaBody = await request(app)
      .post('/token')
      .type('form')
      .send(form({ client_id: 'post-only', client_secret: secrets.postOnly.secret }))
    const neither = await request(app).post('/token').type('form').send(form(GRANT))
    expect([viaBasic.status, viaBasic.body]).toEqual([200, { user: 'reporter' }])
    expect([viaBody.status, viaBody.body]).toEqual([200, { user: 'post-only' }])
    expect(neither.status).toBe(401)
    expect(neither.headers['www-authenticate']).toBe(CHALLENGE)
  })

  it('refuses a repeated client_secret (an array from the body parser) as malformed', async () => {
    const spy = eventSpy()
    const local = new passport.Passport()
    local.use(clientSecretPostStrategy({ clients: clientStore, onEvent: spy.onEvent }))
    const app = express()
    app.use(express.urlencoded({ extended: false }))
    app.post('/', local.authenticate(POST_STRATEGY, { session: false }) as RequestHandler)
    const res = await request(app)
      .post('/')
      .type('form')
      .send(
        form([
          ['client_id', 'reporter'],
          ['client_secret', secrets.reporter.secret],
          ['client_secret', secrets.reporter.secret],
        ]),
      )
    expect(res.status).toBe(401)
    expect(spy.events('authentication_failed')[0]?.reason).toBe('malformed_credentials')
  })

  it('refuses a repeated client_id (an array from the body parser) as malformed', async () => {
    const spy = eventSpy()
    const local = new passport.Passport()
    local.use(clientSecretPostStrategy({ clients: clientStore, onEvent: spy.onEvent }))
    const app = express()
    app.use(express.urlencoded({ extended: false }))
    app.post('/', local.authenticate(POST_STRATEGY, { session: false }) as RequestHandler)
    const res = await request(app)
      .post('/')
      .type('form')
      .send(
        form([
          ['client_id', 'reporter'],
          ['client_id', 'basic-only'],
          ['client_secret', secrets.reporter.secret],
        ]),
      )
    expect(res.status).toBe(401)
    expect(spy.events('authentication_failed')[0]?.reason).toBe('malformed_credentials')
  })

  it.each<[string, () => Promise<Client>, string]>([
    ['an Error', () => Promise.reject(new Error('store down')), 'store down'],
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
    ['a non-Error value', () => Promise.reject('store down'), 'client lookup failed'],
  ])(
    'passes a client store rejecting with %s to the app through error(), never a 401',
    async (_label, findClient, seen) => {
      const local = new passport.Passport()
      local.use(clientSecretPostStrategy({ clients: { findClient } }))
      const one = express()
      one.use(express.urlencoded({ extended: false }))
      one.post('/', local.authenticate(POST_STRATEGY, { session: false }) as RequestHandler)
      // eslint-disable-next-line @typescript-eslint/no-unused-vars
      const handler: ErrorRequestHandler = (err: Error, _req, res, _next) => {
        res.status(500).json({ seen: err.message, isError: err instanceof Error })
      }
      one.use(handler)
      const res = await request(one)
        .post('/')
        .type('form')
        .send(form({ client_id: 'reporter', client_secret: secrets.reporter.secret }))
      expect(res.status).toBe(500)
      expect(res.body).toEqual({ seen, isError: true })
    },
  )
})
