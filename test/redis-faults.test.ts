import { redisRevocationCheck, requireToken } from '@ccflow/guard'
import {
  type Client,
  type LimiterOptions,
  rateLimitRedisCommand,
  redisDenylist,
  staticClientStore,
  tokenEndpoint,
} from '@ccflow/issuer'
import express, { type Express } from 'express'
import { RedisStore } from 'rate-limit-redis'
import request from 'supertest'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { basic, makeClient, makeSigningKey } from './helpers.js'
import {
  type PrivateRedis,
  privateRedis,
  skipWithoutRedisServer,
  type TestRedisClient,
  testRedisClient,
} from './support/redis-server.js'

/**
 * Redis failing under live traffic, on a private redis-server that the tests kill, freeze and
 * restart: nothing crashes, no request waits longer than the command timeout, rate limiting
 * fails open (or closed when configured), revocation and introspection fail closed, the guard
 * fails closed (or open when configured), and everything recovers when Redis returns.
 */
const ISSUER = 'https://auth.example.com'
const AUDIENCE = 'https://orders.example'
const MAJOR = process.env.CCFLOW_EXPRESS_MAJOR ?? '5'
const TIMEOUT_MS = 300
// A request slower than this failed the "no hang" promise (supertest then rejects).
const ANSWER_WITHIN_MS = 3000
const skip = skipWithoutRedisServer()

const key = makeSigningKey('ES256')
let clients: Record<'svc' | 'gateway', { client: Client; secret: string }>

beforeAll(async () => {
  clients = {
    svc: await makeClient({ client_id: 'svc', scope: 'orders:read', audiences: [AUDIENCE] }),
    gateway: await makeClient({
      client_id: 'gateway',
      scope: '',
      audiences: [AUDIENCE],
      introspection: true,
    }),
  }
})

/** An express-rate-limit logger that records instead of printing. */
function recordingLogger() {
  return { warn: vi.fn(), error: vi.fn() }
}

interface Deployment {
  /** Limiters fail open (the default). */
  issuer: Express
  /** Limiters configured with `passOnStoreError: false`. */
  strictIssuer: Express
  /** Revocation check fails closed (the default). */
  guard: Express
  /** Revocation check with `failOpen: true`. */
  lenientGuard: Express
  logger: ReturnType<typeof recordingLogger>
}

function deploy(redis: TestRedisClient, limits: { issuance?: number } = {}): Deployment {
  const logger = recordingLogger()
  const sendCommand = rateLimitRedisCommand({
    sendCommand: redis.sendCommand,
    timeoutMs: TIMEOUT_MS,
  })
  const limiters = (extra: LimiterOptions, tag: string) => ({
    failures: {
      store: new RedisStore({ sendCommand, prefix: `rl:${tag}:failures:` }),
      logger,
      ...extra,
    },
    issuance: {
      limit: limits.issuance ?? 1000,
      store: new RedisStore({ sendCommand, prefix: `rl:${tag}:issuance:` }),
      logger,
      ...extra,
    },
  })
  const issuerApp = (extra: LimiterOptions, tag: string): Express => {
    const app = express()
    app.use(
      tokenEndpoint({
        issuer: ISSUER,
        clients: staticClientStore([clients.svc.client, clients.gateway.client]),
        keys: [key.input],
        rateLimit: limiters(extra, tag),
        revocation: {
          store: redisDenylist({ sendCommand: redis.sendCommand, timeoutMs: TIMEOUT_MS }),
        },
        introspection: true,
        onEvent: () => {},
      }),
    )
    return app
  }
  const guardApp = (failOpen: boolean): Express => {
    const app = express()
    app.get(
      '/orders',
      requireToken({
        issuer: ISSUER,
        audience: AUDIENCE,
        keys: [key.publicJwk],
        isRevoked: redisRevocationCheck({
          sendCommand: redis.sendCommand,
          timeoutMs: TIMEOUT_MS,
          cacheTtlMs: 0,
          failOpen,
          onError: () => {},
        }),
      }),
      (_req, res) => {
        res.json({ ok: true })
      },
    )
    return app
  }
  return {
    // RateLimit headers on every response (not only on 429s), so a 200 shows the count.
    issuer: issuerApp({ standardHeaders: 'draft-8' }, 'open'),
    strictIssuer: issuerApp({ passOnStoreError: false }, 'strict'),
    guard: guardApp(false),
    lenientGuard: guardApp(true),
    logger,
  }
}

const tokenRequest = (app: Express) =>
  request(app)
    .post('/token')
    .timeout(ANSWER_WITHIN_MS)
    .set('Authorization', basic('svc', clients.svc.secret))
    .type('form')
    .send({ grant_type: 'client_credentials' })

async function issue(app: Express): Promise<string> {
  const res = await tokenRequest(app)
  expect(res.status).toBe(200)
  return (res.body as { access_token: string }).access_token
}

const revoke = (app: Express, token: string) =>
  request(app)
    .post('/revoke')
    .timeout(ANSWER_WITHIN_MS)
    .set('Authorization', basic('svc', clients.svc.secret))
    .type('form')
    .send({ token })

const introspect = (app: Express, token: string) =>
  request(app)
    .post('/introspect')
    .timeout(ANSWER_WITHIN_MS)
    .set('Authorization', basic('gateway', clients.gateway.secret))
    .type('form')
    .send({ token })

const call = (app: Express, token: string) =>
  request(app).get('/orders').timeout(ANSWER_WITHIN_MS).set('Authorization', `Bearer ${token}`)

/** Waits until the client has reconnected and Redis answers (bounded). */
async function untilRedisAnswers(redis: TestRedisClient): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if ((await redis.sendCommand(['PING']).catch(() => undefined)) === 'PONG') return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error('Redis did not come back within 5 s')
}

function expectUnavailable(res: request.Response): void {
  expect(res.status).toBe(503)
  expect(res.body).toMatchObject({ error: 'temporarily_unavailable' })
  expect(res.headers['retry-after']).toMatch(/^\d+$/)
  expect(res.headers['cache-control']).toBe('no-store')
}

describe.skipIf(skip)(`Redis killed, frozen and restarted under traffic (Express ${MAJOR})`, () => {
  let server: PrivateRedis
  let redis: TestRedisClient
  let app: Deployment
  let revoked: string

  beforeAll(async () => {
    server = await privateRedis()
    await server.start()
    redis = testRedisClient(server.url)
    await redis.ready
    app = deploy(redis)
  })

  afterAll(async () => {
    redis.close()
    await server.kill()
  })

  it('serves every endpoint while Redis answers', async () => {
    const token = await issue(app.issuer)
    revoked = await issue(app.issuer)
    expect((await revoke(app.issuer, revoked)).status).toBe(200)
    expect((await introspect(app.issuer, token)).body).toMatchObject({ active: true })
    expect((await call(app.guard, token)).status).toBe(200)
    expect((await call(app.guard, revoked)).status).toBe(401)
  })

  describe('when Redis is killed', () => {
    let token: string
    beforeAll(async () => {
      token = await issue(app.issuer)
      await server.kill()
    })

    it('keeps issuing tokens without rate limiting and logs why (fail open, the default)', async () => {
      for (let i = 0; i < 3; i++) expect((await tokenRequest(app.issuer)).status).toBe(200)
      expect(app.logger.error).toHaveBeenCalledWith(
        expect.anything(),
        expect.stringContaining('allowing request without rate-limiting'),
      )
    })

    it('answers 503 from limiters configured with passOnStoreError: false (fail closed)', async () => {
      expectUnavailable(await tokenRequest(app.strictIssuer))
    })

    it('answers a revocation 503: the client must not believe the token is revoked', async () => {
      expectUnavailable(await revoke(app.issuer, token))
    })

    it('answers an introspection 503 rather than call a possibly revoked token active', async () => {
      expectUnavailable(await introspect(app.issuer, token))
    })

    it('refuses bearer tokens with 503 on a guard that fails closed (the default)', async () => {
      const res = await call(app.guard, token)
      expect(res.status).toBe(503)
      expect(res.body).toMatchObject({ reason: 'revocation_check_failed' })
    })

    it('accepts bearer tokens on a guard configured with failOpen', async () => {
      expect((await call(app.lenientGuard, token)).status).toBe(200)
    })

    it('reported the connection errors to the client’s listener and kept the process alive', () => {
      expect(redis.errors.length).toBeGreaterThan(0)
    })
  })

  describe('when Redis accepts commands but never answers (frozen)', () => {
    let token: string
    beforeAll(async () => {
      await server.start()
      await untilRedisAnswers(redis)
      token = await issue(app.issuer)
      server.pause()
    })
    afterAll(() => {
      server.resume()
    })

    it('issues a token once the limiter gives up after the command timeout', async () => {
      expect((await tokenRequest(app.issuer)).status).toBe(200)
    })

    it('answers revocation and introspection 503 after the command timeout', async () => {
      expectUnavailable(await revoke(app.issuer, token))
      expectUnavailable(await introspect(app.issuer, token))
    })

    it('answers the guard 503 after the command timeout', async () => {
      expect((await call(app.guard, token)).status).toBe(503)
    })
  })

  describe('when Redis returns', () => {
    beforeAll(async () => {
      // A restart, as after a crash: no persistence, so the scripts and data are gone.
      await server.kill()
      await server.start()
      await untilRedisAnswers(redis)
    })

    it('rate limits again (the limiter reloads its script after NOSCRIPT)', async () => {
      const res = await tokenRequest(app.issuer)
      expect(res.status).toBe(200)
      expect(res.headers['ratelimit']).toMatch(/"issuance"; r=\d+/)
      expect((await tokenRequest(app.strictIssuer)).status).toBe(200)
    })

    it('revokes again, and the guard refuses the revoked token', async () => {
      const token = await issue(app.issuer)
      expect((await revoke(app.issuer, token)).status).toBe(200)
      expect((await call(app.guard, token)).status).toBe(401)
      expect((await introspect(app.issuer, token)).body).toEqual({ active: false })
    })
  })
})

describe.skipIf(skip)(`Redis down when the processes start (Express ${MAJOR})`, () => {
  let server: PrivateRedis
  let redis: TestRedisClient
  let app: Deployment

  beforeAll(async () => {
    server = await privateRedis()
    // The client keeps trying to connect in the background; the apps are built right away.
    redis = testRedisClient(server.url)
    app = deploy(redis, { issuance: 2 })
  })

  afterAll(async () => {
    redis.close()
    await server.kill()
  })

  it('starts and serves: tokens are issued without limits, the guard answers 503', async () => {
    for (let i = 0; i < 3; i++) expect((await tokenRequest(app.issuer)).status).toBe(200)
    const token = await issue(app.issuer)
    expect((await call(app.guard, token)).status).toBe(503)
  })

  it('enforces the shared limits once Redis is up, without a restart of the process', async () => {
    await server.start()
    await redis.ready
    await untilRedisAnswers(redis)
    const statuses: number[] = []
    for (let i = 0; i < 3; i++) statuses.push((await tokenRequest(app.issuer)).status)
    expect(statuses).toEqual([200, 200, 429])
  })
})
