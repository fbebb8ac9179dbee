import express from 'express'
import type { RequestHandler } from 'express'
import request from 'supertest'
import { describe, expect, it } from 'vitest'
import { requireAnyScope, requireScopes, requireToken } from '../src/index.js'
import {
  accessClaims,
  AUDIENCE,
  bodyOf,
  craftToken,
  createApp,
  echoError,
  ISSUER,
  rsaKeyPair,
} from './helpers.js'

const rsa = rsaKeyPair()
const guard = requireToken({ issuer: ISSUER, audience: AUDIENCE, keys: [rsa.publicKey] })

function bearer(scope: string): string {
  return `Bearer ${craftToken({ alg: 'RS256', typ: 'at+jwt' }, accessClaims({ scope }), rsa.privateKey)}`
}

describe('requireScopes', () => {
  const app = createApp(guard, requireScopes('reports:read', 'reports:write'))

  it('lets a token with every required scope through', async () => {
    await request(app)
      .get('/api')
      .set('Authorization', bearer('reports:write reports:read x'))
      .expect(200)
  })

  it('answers 403 insufficient_scope naming all required scopes when one is missing', async () => {
    const res = await request(app).get('/api').set('Authorization', bearer('reports:read'))
    expect(res.status).toBe(403)
    expect(res.headers['www-authenticate']).toBe(
      'Bearer realm="api", error="insufficient_scope", error_description="The token does not grant the required scope", scope="reports:read reports:write"',
    )
    expect(res.headers['cache-control']).toBe('no-store')
    expect(res.body).toEqual({
      error: 'insufficient_scope',
      error_description: 'The token does not grant the required scope',
      reason: 'insufficient_scope',
    })
  })

  it('answers 401 when no token was verified (anonymous request)', async () => {
    const optional = createApp(
      requireToken({
        issuer: ISSUER,
        audience: AUDIENCE,
        keys: [rsa.publicKey],
        credentialsOptional: true,
        realm: 'orders',
      }),
      requireScopes('reports:read'),
    )
    const res = await request(optional).get('/api')
    expect(res.status).toBe(401)
    expect(res.headers['www-authenticate']).toBe('Bearer realm="orders"')
    expect(bodyOf(res).reason).toBe('missing_token')
  })

  it('passes a CORS preflight untouched', async () => {
    const app2 = express()
    app2.options('/api', guard, requireScopes('a'), (_req, res) => {
      res.status(204).end()
    })
    await request(app2).options('/api').set('Access-Control-Request-Method', 'GET').expect(204)
    await request(app2).options('/api').expect(401)
  })

  it('answers 401 with the default realm when requireToken did not run', async () => {
    const app2 = express()
    app2.get('/api', requireScopes('a'), (_req, res) => {
      res.end()
    })
    const res = await request(app2).get('/api')
    expect(res.status).toBe(401)
    expect(res.headers['www-authenticate']).toBe('Bearer realm="api"')
  })

  it('uses the realm of the requireToken before it for a token served from its cache', async () => {
    const app2 = createApp(
      requireToken({ issuer: ISSUER, audience: AUDIENCE, keys: [rsa.publicKey], realm: 'orders' }),
      requireScopes('admin'),
    )
    const token = bearer('reports:read')
    for (let i = 0; i < 2; i++) {
      const res = await request(app2).get('/api').set('Authorization', token)
      expect(res.status).toBe(403)
      expect(res.headers['www-authenticate']).toMatch(
        /^Bearer realm="orders", error="insufficient_scope"/,
      )
    }
  })

  it('follows passErrors of the requireToken before it', async () => {
    const passing = requireToken({
      issuer: ISSUER,
      audience: AUDIENCE,
      keys: [rsa.publicKey],
      passErrors: true,
    })
    const app2 = createApp(passing, requireScopes('admin'))
    const res = await request(app2).get('/api').set('Authorization', bearer('reports:read'))
    expect(res.status).toBe(599)
    expect(res.body).toEqual({
      name: 'InsufficientScopeError',
      status: 403,
      code: 'insufficient_scope',
      reason: 'insufficient_scope',
    })
    void echoError
  })

  it.each([[[]], [['']], [['a b']], [[' ']], [[7]]])(
    'throws a TypeError at setup for %j',
    (scopes) => {
      expect(() => requireScopes(...(scopes as string[]))).toThrow(TypeError)
    },
  )

  it("explains at setup that requireScopes('a b') means two separate arguments", () => {
    expect(() => requireScopes('reports:read reports:write')).toThrow(
      /^requireScopes: 'reports:read reports:write' holds 2 scopes; pass each as a separate argument: requireScopes\('reports:read', 'reports:write'\)$/,
    )
  })

  it("explains at setup that requireScopes(['a']) means separate arguments, not an array", () => {
    expect(() => requireScopes(['reports:read'] as never)).toThrow(
      /^requireScopes: pass each scope as a separate argument, not an array: requireScopes\('reports:read'\)/,
    )
  })
})

describe('requireAnyScope', () => {
  const app = createApp(guard, requireAnyScope('reports:read', 'admin'))

  it('lets a token with one of the scopes through', async () => {
    await request(app).get('/api').set('Authorization', bearer('admin')).expect(200)
  })

  it('answers 403 listing the accepted scopes when none is granted', async () => {
    const res = await request(app).get('/api').set('Authorization', bearer('other'))
    expect(res.status).toBe(403)
    expect(res.headers['www-authenticate']).toContain('scope="reports:read admin"')
  })

  it('throws a TypeError at setup for an empty list', () => {
    expect(() => requireAnyScope()).toThrow(/^requireAnyScope: give at least one scope/)
  })

  it('returns a plain Express handler', () => {
    const handler: RequestHandler = requireAnyScope('a')
    expect(handler.length).toBe(3)
  })
})

describe('requireScopes after another middleware that sets req.auth', () => {
  it('answers 401 with a bare challenge, not 500, when req.auth is not a verified token', async () => {
    const app = express()
    const basicAuth: RequestHandler = (req, _res, next) => {
      ;(req as unknown as { auth: unknown }).auth = { user: 'admin', password: 'x' }
      next()
    }
    app.get('/api', basicAuth, requireScopes('reports:read'), (_req, res) => {
      res.json({ ok: true })
    })
    app.use(echoError)
    const res = await request(app).get('/api')
    expect(res.status).toBe(401)
    expect(res.headers['www-authenticate']).toBe('Bearer realm="api"')
    expect(bodyOf(res)).toEqual({
      error: 'unauthorized',
      error_description: 'A bearer token is required',
      reason: 'missing_token',
    })
  })
})
