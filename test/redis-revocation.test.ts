import { createHash, randomBytes } from 'node:crypto'
import { redisRevocationCheck, requireToken } from '@ccflow/guard'
import { type Client, redisDenylist, staticClientStore, tokenEndpoint } from '@ccflow/issuer'
import express, { type Express } from 'express'
import request from 'supertest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { basic, makeClient, makeSigningKey } from './helpers.js'
import { REDIS_URL, skipWithoutRedis } from './support/redis.js'
import { type TestRedisClient, testRedisClient } from './support/redis-server.js'

const ISSUER = 'https://auth.example.com'
const AUDIENCE = 'https://orders.example'
const MAJOR = process.env.CCFLOW_EXPRESS_MAJOR ?? '5'
// Short in tests; the default is 5000 ms. The bound under test is this value.
const CACHE_TTL_MS = 300
const skip = await skipWithoutRedis()

describe.skipIf(skip)(`revocation through Redis across instances (Express ${MAJOR})`, () => {
  const prefix = `ccflow-test:${randomBytes(6).toString('hex')}:revoked:`
  const key = makeSigningKey('RS256')
  let redis: TestRedisClient
  let clients: Record<'svc' | 'other' | 'gateway', { client: Client; secret: string }>
  let issuerA: Express
  let issuerB: Express
  let guards: [Express, Express]

  function issuerInstance(): Express {
    const app = express()
    app.use(
      tokenEndpoint({
        issuer: ISSUER,
        clients: staticClientStore(Object.values(clients).map((c) => c.client)),
        keys: [key.input],
        rateLimit: false,
        revocation: { store: redisDenylist({ sendCommand: redis.sendCommand, prefix }) },
        introspection: true,
      }),
    )
    return app
  }

  function guardInstance(cacheTtlMs = CACHE_TTL_MS): Express {
    const app = express()
    app.get(
      '/orders',
      requireToken({
        issuer: ISSUER,
        audience: AUDIENCE,
        keys: [key.publicJwk],
        isRevoked: redisRevocationCheck({ sendCommand: redis.sendCommand, prefix, cacheTtlMs }),
      }),
      (_req, res) => {
        res.json({ ok: true })
      },
    )
    return app
  }

  beforeAll(async () => {
    redis = testRedisClient(REDIS_URL)
    await redis.ready
    clients = {
      svc: await makeClient({ client_id: 'svc', scope: 'orders:read', audiences: [AUDIENCE] }),
      other: await makeClient({ client_id: 'other', scope: 'orders:read', audiences: [AUDIENCE] }),
      gateway: await makeClient({
        client_id: 'gateway',
        scope: '',
        audiences: [AUDIENCE],
        introspection: true,
      }),
    }
    issuerA = issuerInstance()
    issuerB = issuerInstance()
    guards = [guardInstance(), guardInstance()]
  })

  afterAll(async () => {
    const keys = (await redis.sendCommand(['KEYS', `${prefix}*`])) as string[]
    if (keys.length > 0) await redis.sendCommand(['DEL', ...keys])
    redis.close()
  })

  const as = (name: keyof typeof clients): string => basic(name, clients[name].secret)

  async function issue(app: Express, name: keyof typeof clients = 'svc'): Promise<string> {
    const res = await request(app)
      .post('/token')
      .set('Authorization', as(name))
      .type('form')
      .send({ grant_type: 'client_credentials' })
    expect(res.status).toBe(200)
    return (res.body as { access_token: string }).access_token
  }

  const revoke = (app: Express, token: string, name: keyof typeof clients = 'svc') =>
    request(app).post('/revoke').set('Authorization', as(name)).type('form').send({ token })

  const introspect = (app: Express, token: string) =>
    request(app)
      .post('/introspect')
      .set('Authorization', as('gateway'))
      .type('form')
      .send({ token })

  const call = (app: Express, token: string) =>
    request(app).get('/orders').set('Authorization', `Bearer ${token}`)

  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

  it('refuses a token revoked through instance A on both guards within cacheTtlMs', async () => {
    const token = await issue(issuerB)
    // Both guards have answered (and cached) "not revoked" before the revocation.
    for (const guard of guards) expect((await call(guard, token)).status).toBe(200)

    const res = await revoke(issuerA, token)
    expect(res.status).toBe(200)
    expect(res.text).toBe('')
    expect(res.headers['cache-control']).toBe('no-store')

    await sleep(CACHE_TTL_MS + 50)
    for (const guard of guards) {
      const refused = await call(guard, token)
      expect(refused.status).toBe(401)
      expect(refused.body).toMatchObject({ error: 'invalid_token', reason: 'revoked' })
    }
  })

  it('refuses a revoked token at once on a guard that has not seen it', async () => {
    const token = await issue(issuerA)
    expect((await revoke(issuerB, token)).status).toBe(200)
    expect((await call(guardInstance(), token)).status).toBe(401)
  })

  it('answers introspection on instance B with active false for a token revoked on A', async () => {
    const token = await issue(issuerA)
    const before = await introspect(issuerB, token)
    expect(before.status).toBe(200)
    expect(before.body).toMatchObject({ active: true, client_id: 'svc', iss: ISSUER })
    await revoke(issuerA, token)
    const after = await introspect(issuerB, token)
    expect(after.status).toBe(200)
    expect(after.body).toEqual({ active: false })
  })

  it('keeps the denylist entry until the token expires, plus a grace period for clock leeway', async () => {
    const token = await issue(issuerA)
    const { exp, jti } = JSON.parse(
      Buffer.from(token.split('.')[1] ?? '', 'base64url').toString(),
    ) as { exp: number; jti: string }
    await revoke(issuerA, token)
    const entry = prefix + createHash('sha256').update(`${ISSUER}\n${jti}`).digest('base64url')
    const ttl = (await redis.sendCommand(['PTTL', entry])) as number
    const expected = (exp + 60) * 1000 - Date.now()
    expect(ttl).toBeLessThanOrEqual(expected + 1000)
    expect(ttl).toBeGreaterThan(expected - 5000)
  })

  it("answers 200 to a client revoking another client's token, and the token keeps working", async () => {
    const token = await issue(issuerA, 'svc')
    const res = await revoke(issuerB, token, 'other')
    expect(res.status).toBe(200)
    expect(res.text).toBe('')
    expect((await call(guardInstance(), token)).status).toBe(200)
  })
})
