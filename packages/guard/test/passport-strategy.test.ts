import express from 'express'
import type { ErrorRequestHandler, RequestHandler } from 'express'
import passport from 'passport'
import request from 'supertest'
import { describe, expect, it } from 'vitest'
import { BearerJwtStrategy, requireScopes } from '../src/index.js'
import type { BearerJwtStrategyOptions } from '../src/index.js'
import { startKeyServer, status } from '../../core/test/jwks-server.js'
import { accessClaims, AUDIENCE, craftToken, ISSUER, rsaKeyPair } from './helpers.js'

const rsa = rsaKeyPair()
const options: BearerJwtStrategyOptions = {
  issuer: ISSUER,
  audience: AUDIENCE,
  keys: [rsa.publicKey],
}

function bearer(claims: Record<string, unknown> = {}): string {
  return `Bearer ${craftToken({ alg: 'RS256', typ: 'at+jwt' }, accessClaims(claims), rsa.privateKey)}`
}

const showError: ErrorRequestHandler = (
  err: { status?: number; reason?: string },
  _req,
  res,
  _next,
) => {
  void _next
  res.status(err.status ?? 500).json({ reason: err.reason })
}

function appWith(strategy: BearerJwtStrategy): express.Express {
  const authenticator = new passport.Passport()
  authenticator.use(strategy)
  const app = express()
  app.get(
    '/api',
    authenticator.authenticate('ccflow-bearer', { session: false }) as RequestHandler,
    requireScopes('reports:read'),
    (req, res) => {
      res.json({ user: (req.user as { clientId?: string }).clientId, auth: req.auth?.clientId })
    },
  )
  app.use(showError)
  return app
}

describe('BearerJwtStrategy', () => {
  const app = appWith(new BearerJwtStrategy(options))

  it("reports its verifier's stats", async () => {
    const strategy = new BearerJwtStrategy(options)
    await request(appWith(strategy)).get('/api').set('Authorization', bearer())
    expect(strategy.stats()).toMatchObject({
      keySource: 'static',
      keys: 1,
      cache: { size: 1, hits: 0, misses: 1 },
    })
  })

  it('is named ccflow-bearer', () => {
    expect(new BearerJwtStrategy(options).name).toBe('ccflow-bearer')
  })

  it('authenticates a valid token as req.user and sets req.auth', async () => {
    const res = await request(app).get('/api').set('Authorization', bearer())
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ user: 'billing-service', auth: 'billing-service' })
  })

  it('fails with the invalid_token challenge for a bad token', async () => {
    const res = await request(app)
      .get('/api')
      .set('Authorization', bearer({ exp: 1 }))
    expect(res.status).toBe(401)
    expect(res.headers['www-authenticate']).toBe(
      'Bearer realm="api", error="invalid_token", error_description="The token has expired"',
    )
  })

  it('fails with a bare challenge when no token is sent', async () => {
    const res = await request(app).get('/api')
    expect(res.status).toBe(401)
    expect(res.headers['www-authenticate']).toBe('Bearer realm="api"')
  })

  it('fails with 400 for a malformed Authorization header', async () => {
    await request(app).get('/api').set('Authorization', 'Bearer a b').expect(400)
  })

  it('passes a token-less request on with credentialsOptional', async () => {
    const authenticator = new passport.Passport()
    authenticator.use(new BearerJwtStrategy({ ...options, credentialsOptional: true }))
    const optional = express()
    optional.get(
      '/api',
      authenticator.authenticate('ccflow-bearer', { session: false }) as RequestHandler,
      (req, res) => {
        res.json({ anonymous: req.auth === undefined })
      },
    )
    await request(optional).get('/api').expect(200, { anonymous: true })
  })

  it('reports a key source outage as an error (503), not a failure', async () => {
    const server = await startKeyServer()
    try {
      server.route('/jwks.json', status(500))
      const strategy = new BearerJwtStrategy({
        issuer: ISSUER,
        audience: AUDIENCE,
        jwksUri: server.url('/jwks.json'),
      })
      await strategy.ready.catch(() => undefined)
      const res = await request(appWith(strategy)).get('/api').set('Authorization', bearer({}))
      expect(res.status).toBe(503)
      expect(res.body).toEqual({ reason: 'key_source_unavailable' })
      strategy.close()
    } finally {
      await server.close()
    }
  })

  it('authenticates once an async isRevoked hook answers', async () => {
    const strategy = new BearerJwtStrategy({ ...options, isRevoked: () => Promise.resolve(false) })
    const res = await request(appWith(strategy)).get('/api').set('Authorization', bearer())
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ user: 'billing-service', auth: 'billing-service' })
  })

  it('fails with the invalid_token challenge when an async isRevoked hook says revoked', async () => {
    const strategy = new BearerJwtStrategy({ ...options, isRevoked: () => Promise.resolve(true) })
    const res = await request(appWith(strategy)).get('/api').set('Authorization', bearer())
    expect(res.status).toBe(401)
    expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="[^"]*", error="invalid_token"/)
  })

  it('throws a TypeError for passErrors, which passport handles itself', () => {
    expect(
      () => new BearerJwtStrategy({ ...options, passErrors: true } as BearerJwtStrategyOptions),
    ).toThrow(
      /^BearerJwtStrategy: unknown option "passErrors" \(it is an option of requireToken\)$/,
    )
  })
})
