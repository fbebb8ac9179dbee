import { type Client, staticClientStore, tokenEndpoint } from '@ccflow/issuer'
import { type BearerError, requireAnyScope, requireScopes, requireToken } from '@ccflow/guard'
import express, { type ErrorRequestHandler, type RequestHandler } from 'express'
import request from 'supertest'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import {
  type Listening,
  body,
  fetchToken,
  listenOnEphemeralPort,
  makeClient,
  makeSigningKey,
} from './helpers.js'

const AUDIENCE = 'https://orders.example'
const MAJOR = process.env.CCFLOW_EXPRESS_MAJOR ?? '5'

/** An issuer app (tokenEndpoint at the origin) listening on an ephemeral port. */
function startIssuer(clients: Client[], key = makeSigningKey('RS256')): Promise<Listening> {
  return listenOnEphemeralPort((issuer) => {
    const app = express()
    app.use(tokenEndpoint({ issuer, clients: staticClientStore(clients), keys: [key.input] }))
    return app
  })
}

/** What a guarded route answers: the verified caller as the guard describes it. */
const whoami: RequestHandler = (req, res) => {
  res.json({ clientId: req.auth?.clientId, scopes: req.auth?.scopes, sub: req.auth?.claims.sub })
}

describe(`client credentials flow on Express ${MAJOR}: @ccflow/issuer → @ccflow/guard`, () => {
  let issuer: Listening
  let foreignIssuer: Listening
  const key = makeSigningKey('RS256')
  let clerk: { clientId: string; secret: string }
  let foreignToken: string

  beforeAll(async () => {
    const made = await makeClient({
      client_id: 'clerk',
      scope: 'orders:read orders:write',
      audiences: [AUDIENCE, 'https://billing.example'],
    })
    clerk = { clientId: 'clerk', secret: made.secret }
    issuer = await startIssuer([made.client], key)
    // Same client id and audience, but another issuer with its own key.
    const twin = await makeClient({
      client_id: 'clerk',
      scope: 'orders:read',
      audiences: [AUDIENCE],
    })
    foreignIssuer = await startIssuer([twin.client])
    foreignToken = (
      await fetchToken(`${foreignIssuer.url}/token`, { clientId: 'clerk', secret: twin.secret })
    ).access_token
  })
  afterAll(() => Promise.all([issuer.close(), foreignIssuer.close()]))
  afterEach(() => {
    vi.useRealTimers()
  })

  /** An API app whose routes need tokens from `issuer` for AUDIENCE, keys from its JWKS. */
  function api(
    guard = requireToken({
      issuer: issuer.url,
      audience: AUDIENCE,
      jwksUri: `${issuer.url}/jwks.json`,
    }),
  ): express.Express {
    const app = express()
    app.get('/orders', guard, requireScopes('orders:read'), whoami)
    app.post('/orders', guard, requireScopes('orders:write'), whoami)
    app.get('/either', guard, requireAnyScope('orders:write', 'orders:admin'), whoami)
    return app
  }

  const token = async (params: Record<string, string> = {}, method?: 'client_secret_post') =>
    (await fetchToken(`${issuer.url}/token`, clerk, params, method)).access_token

  it('answers 200 with req.auth for a token obtained with client_secret_basic', async () => {
    const res = await request(api())
      .get('/orders')
      .set('Authorization', `Bearer ${await token()}`)
    expect(res.status).toBe(200)
    expect(res.body).toEqual({
      clientId: 'clerk',
      scopes: ['orders:read', 'orders:write'],
      sub: 'clerk',
    })
  })

  it('answers 200 for a token obtained with client_secret_post and a narrowed scope', async () => {
    const access = await token({ scope: 'orders:read' }, 'client_secret_post')
    const res = await request(api()).get('/orders').set('Authorization', `Bearer ${access}`)
    expect(res.status).toBe(200)
    expect(body(res).scopes).toEqual(['orders:read'])
  })

  it('answers 401 with a bare Bearer challenge when no token is sent', async () => {
    const res = await request(api()).get('/orders')
    expect(res.status).toBe(401)
    expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="api"$/)
  })

  it('answers 403 insufficient_scope naming the scope when the token lacks it', async () => {
    const res = await request(api())
      .post('/orders')
      .set('Authorization', `Bearer ${await token({ scope: 'orders:read' })}`)
    expect(res.status).toBe(403)
    expect(body(res).error).toBe('insufficient_scope')
    expect(res.headers['www-authenticate']).toContain('error="insufficient_scope"')
    expect(res.headers['www-authenticate']).toContain('scope="orders:write"')
  })

  it('lets requireAnyScope pass with one of the scopes', async () => {
    const res = await request(api())
      .get('/either')
      .set('Authorization', `Bearer ${await token({ scope: 'orders:write' })}`)
    expect(res.status).toBe(200)
  })

  it('answers 401 invalid_token for a token issued for another audience (RFC 8707 resource)', async () => {
    const res = await request(api())
      .get('/orders')
      .set('Authorization', `Bearer ${await token({ resource: 'https://billing.example' })}`)
    expect(res.status).toBe(401)
    expect(res.headers['www-authenticate']).toContain('error="invalid_token"')
  })

  it('answers 401 invalid_token for a token from another issuer', async () => {
    const res = await request(api()).get('/orders').set('Authorization', `Bearer ${foreignToken}`)
    expect(res.status).toBe(401)
    expect(res.headers['www-authenticate']).toContain('error="invalid_token"')
  })

  it('answers 401 invalid_token for a token whose payload was changed', async () => {
    const [header, payload, signature] = (await token({ scope: 'orders:read' })).split('.')
    const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()) as Record<
      string,
      unknown
    >
    const forged = Buffer.from(
      JSON.stringify({ ...claims, scope: 'orders:read orders:write' }),
    ).toString('base64url')
    const res = await request(api())
      .post('/orders')
      .set('Authorization', `Bearer ${header}.${forged}.${signature}`)
    expect(res.status).toBe(401)
    expect(res.headers['www-authenticate']).toContain('error="invalid_token"')
  })

  it('answers 401 invalid_token once the token has expired', async () => {
    const access = await token()
    const app = api()
    expect(
      (await request(app).get('/orders').set('Authorization', `Bearer ${access}`)).status,
    ).toBe(200)
    // Past exp (300 s by default) plus the guard's 5 s clock tolerance; cached tokens too.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 306_000 })
    const res = await request(app).get('/orders').set('Authorization', `Bearer ${access}`)
    expect(res.status).toBe(401)
    expect(res.headers['www-authenticate']).toContain('error="invalid_token"')
  })

  it('verifies with the public key given statically, without fetching the JWKS', async () => {
    const guard = requireToken({ issuer: issuer.url, audience: AUDIENCE, keys: [key.publicJwk] })
    const res = await request(api(guard))
      .get('/orders')
      .set('Authorization', `Bearer ${await token()}`)
    expect(res.status).toBe(200)
  })

  it('verifies with keys discovered from the issuer metadata', async () => {
    const guard = requireToken({ issuer: issuer.url, audience: AUDIENCE, discover: true })
    await guard.ready
    const res = await request(api(guard))
      .get('/orders')
      .set('Authorization', `Bearer ${await token()}`)
    expect(res.status).toBe(200)
  })

  it("hands typed errors to the app's error handler with passErrors", async () => {
    const app = express()
    const guard = requireToken({
      issuer: issuer.url,
      audience: AUDIENCE,
      keys: [key.publicJwk],
      passErrors: true,
    })
    app.get('/orders', guard, whoami)
    const onError: ErrorRequestHandler = (err: BearerError, _req, res, next) => {
      // Express's own handler closes a response that has already started.
      if (res.headersSent) {
        next(err)
        return
      }
      res
        .status(err.status)
        .set(err.headers)
        .json({ mine: true, code: err.code ?? null })
    }
    app.use(onError)
    const res = await request(app).get('/orders').set('Authorization', 'Bearer not.a.jwt')
    expect(res.status).toBe(401)
    expect(res.body).toEqual({ mine: true, code: 'invalid_token' })
    expect(res.headers['www-authenticate']).toContain('error="invalid_token"')
  })

  it('refuses to issue a scope the client may not have (400 invalid_scope)', async () => {
    const res = await request(issuer.server).post('/token').type('form').send({
      grant_type: 'client_credentials',
      client_id: 'clerk',
      client_secret: clerk.secret,
      scope: 'orders:admin',
    })
    expect(res.status).toBe(400)
    expect(body(res).error).toBe('invalid_scope')
  })
})
