import { createHash, randomBytes } from 'node:crypto'
import { createServer } from 'node:net'
import {
  type IssuerEvent,
  memoryReplayStore,
  type ReplayStore,
  redisReplayStore,
  staticClientStore,
  tokenEndpoint,
} from '@ccflow/issuer'
import express, { type Express } from 'express'
import request from 'supertest'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { makeSigningKey } from './helpers.js'
import {
  type ClientKeyPair,
  clientKeyPair,
  JWT_BEARER,
  jwtPayload,
  keyClient,
  signAssertion,
} from './support/private-key-jwt.js'
import { REDIS_URL, skipWithoutRedis } from './support/redis.js'
import {
  type PrivateRedis,
  privateRedis,
  skipWithoutRedisServer,
  type TestRedisClient,
  testRedisClient,
} from './support/redis-server.js'

/**
 * The private_key_jwt replay store in a real Redis, shared by two token endpoint instances: an
 * assertion is used once across both, keys expire with the assertion, and an unreachable Redis
 * refuses with 503 rather than issue (fail closed).
 */
const ISSUER = 'https://auth.example.com'
const AUDIENCE = 'https://orders.example'
const MAJOR = process.env.CCFLOW_EXPRESS_MAJOR ?? '5'
// Not the default (15 s), so that the TTL check shows which tolerance the entry lives for.
const CLOCK_TOLERANCE_SECONDS = 20
const TIMEOUT_MS = 300
const skip = await skipWithoutRedis()

const signingKey = makeSigningKey('ES256')
let clientKey: ClientKeyPair

beforeAll(async () => {
  clientKey = await clientKeyPair('ES256')
})

/** A token endpoint instance using `replayStore`, recording its events. */
function instance(replayStore: ReplayStore, events: IssuerEvent[]): Express {
  const app = express()
  app.use(
    tokenEndpoint({
      issuer: ISSUER,
      clients: staticClientStore([
        keyClient('billing', [clientKey], { scope: 'orders:read', audiences: [AUDIENCE] }),
      ]),
      keys: [signingKey.input],
      rateLimit: false,
      privateKeyJwt: { replayStore, clockToleranceSeconds: CLOCK_TOLERANCE_SECONDS },
      onEvent: (event) => events.push(event),
    }),
  )
  return app
}

const assertion = (): Promise<string> =>
  signAssertion(clientKey, { clientId: 'billing', aud: ISSUER })

const tokenRequest = (app: Express, clientAssertion: string) =>
  request(app).post('/token').type('form').send({
    grant_type: 'client_credentials',
    client_assertion_type: JWT_BEARER,
    client_assertion: clientAssertion,
  })

const issued = (events: IssuerEvent[]): number =>
  events.filter((e) => e.type === 'token_issued').length

describe.skipIf(skip)(`assertion replay through Redis across instances (Express ${MAJOR})`, () => {
  const prefix = `ccflow-test:${randomBytes(6).toString('hex')}:assertion:`
  let redis: TestRedisClient
  let a: Express
  let b: Express
  const eventsA: IssuerEvent[] = []
  const eventsB: IssuerEvent[] = []

  beforeAll(async () => {
    redis = testRedisClient(REDIS_URL)
    await redis.ready
    const store = (): ReplayStore =>
      redisReplayStore({ sendCommand: redis.sendCommand, prefix, timeoutMs: TIMEOUT_MS })
    // One store object per instance, as two processes would have.
    a = instance(store(), eventsA)
    b = instance(store(), eventsB)
  })
  afterAll(async () => {
    const keys = (await redis.sendCommand(['KEYS', `${prefix}*`])) as string[]
    if (keys.length > 0) await redis.sendCommand(['DEL', ...keys])
    redis.close()
  })
  beforeEach(() => {
    eventsA.length = 0
    eventsB.length = 0
  })

  /** The key redisReplayStore documents: prefix + base64url(SHA-256(client_id "\n" jti)). */
  const replayKey = (jti: string): string =>
    prefix + createHash('sha256').update(`billing\n${jti}`).digest('base64url')

  it('refuses at instance B with 401 invalid_client an assertion already used at instance A', async () => {
    const once = await assertion()
    expect((await tokenRequest(a, once)).status).toBe(200)
    const replayed = await tokenRequest(b, once)
    expect(replayed.status).toBe(401)
    expect(replayed.body).toMatchObject({ error: 'invalid_client' })
    expect(replayed.headers['cache-control']).toBe('no-store')
    expect(issued(eventsB)).toBe(0)
    expect(eventsB).toContainEqual(
      expect.objectContaining({ type: 'authentication_failed', reason: 'assertion_replayed' }),
    )
  })

  it('accepts a fresh assertion at instance B', async () => {
    expect((await tokenRequest(b, await assertion())).status).toBe(200)
  })

  it('answers exactly one of 20 concurrent requests with one assertion spread across A and B', async () => {
    const once = await assertion()
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) => tokenRequest(i % 2 === 0 ? a : b, once)),
    )
    const statuses = responses.map((res) => res.status)
    expect(statuses.filter((status) => status === 200)).toHaveLength(1)
    expect(statuses.filter((status) => status === 401)).toHaveLength(19)
    for (const res of responses.filter((r) => r.status === 401)) {
      expect(res.body).toMatchObject({ error: 'invalid_client' })
    }
    expect(issued(eventsA) + issued(eventsB)).toBe(1)
    const replays = [...eventsA, ...eventsB].filter(
      (e) => e.type === 'authentication_failed' && e.reason === 'assertion_replayed',
    )
    expect(replays).toHaveLength(19)
  })

  it('keeps the entry until exp plus the clock tolerance, then Redis drops it', async () => {
    const once = await assertion()
    const { exp, jti } = jwtPayload(once) as { exp: number; jti: string }
    expect((await tokenRequest(a, once)).status).toBe(200)
    const ttl = (await redis.sendCommand(['PTTL', replayKey(jti)])) as number
    const expected = (exp + CLOCK_TOLERANCE_SECONDS) * 1000 - Date.now()
    expect(ttl).toBeGreaterThan(expected - 5000)
    expect(ttl).toBeLessThanOrEqual(expected + 1000)
  })

  it('stores nothing for an assertion refused before the replay check (a wrong audience)', async () => {
    const jti = randomBytes(16).toString('base64url')
    const wrong = await signAssertion(clientKey, {
      clientId: 'billing',
      aud: 'https://elsewhere.example',
      jti,
    })
    expect((await tokenRequest(a, wrong)).status).toBe(401)
    expect(await redis.sendCommand(['EXISTS', replayKey(jti)])).toBe(0)
    // The real client can still use that jti in a correct assertion.
    const right = await signAssertion(clientKey, { clientId: 'billing', aud: ISSUER, jti })
    expect((await tokenRequest(b, right)).status).toBe(200)
  })
})

/** A port nothing listens on: it was free a moment ago. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  await new Promise((resolve) => server.close(resolve))
  return port
}

describe(`assertion replay store unreachable (Express ${MAJOR})`, () => {
  let unreachable: TestRedisClient

  beforeAll(async () => {
    // A node-redis client configured as the README says (disableOfflineQueue), pointing at a
    // closed port: every command fails at once while it keeps trying to connect.
    unreachable = testRedisClient(`redis://127.0.0.1:${await closedPort()}`)
  })
  afterAll(() => {
    unreachable.close()
  })

  function expectUnavailable(res: request.Response): void {
    expect(res.status).toBe(503)
    expect(res.body).toMatchObject({ error: 'temporarily_unavailable' })
    expect(res.headers['retry-after']).toMatch(/^\d+$/)
    expect(res.headers['cache-control']).toBe('no-store')
    expect(res.body).not.toHaveProperty('access_token')
  }

  it('answers 503 temporarily_unavailable with Retry-After and issues nothing when Redis refuses connections', async () => {
    const events: IssuerEvent[] = []
    const app = instance(
      redisReplayStore({ sendCommand: unreachable.sendCommand, timeoutMs: TIMEOUT_MS }),
      events,
    )
    expectUnavailable(await tokenRequest(app, await assertion()))
    expect(issued(events)).toBe(0)
  })

  it('answers 503 after timeoutMs when Redis never answers, and issues nothing', async () => {
    const events: IssuerEvent[] = []
    const silent = (): Promise<unknown> => new Promise(() => {})
    const app = instance(redisReplayStore({ sendCommand: silent, timeoutMs: TIMEOUT_MS }), events)
    const started = Date.now()
    expectUnavailable(await tokenRequest(app, await assertion()).timeout(3000))
    expect(Date.now() - started).toBeGreaterThanOrEqual(TIMEOUT_MS - 20)
    expect(issued(events)).toBe(0)
  })

  it('leaves the assertion usable: the client may retry it once the store answers', async () => {
    const events: IssuerEvent[] = []
    const once = await assertion()
    const broken = instance(
      redisReplayStore({ sendCommand: unreachable.sendCommand, timeoutMs: TIMEOUT_MS }),
      events,
    )
    expect((await tokenRequest(broken, once)).status).toBe(503)
    const healthy = instance(memoryReplayStore(), events)
    expect((await tokenRequest(healthy, once)).status).toBe(200)
    expect(issued(events)).toBe(1)
  })
})

describe.skipIf(skipWithoutRedisServer())(
  `assertion replay store on a Redis that is killed and restarted (Express ${MAJOR})`,
  () => {
    let server: PrivateRedis
    let redis: TestRedisClient
    let app: Express
    const events: IssuerEvent[] = []

    beforeAll(async () => {
      server = await privateRedis()
      await server.start()
      redis = testRedisClient(server.url)
      await redis.ready
      app = instance(
        redisReplayStore({ sendCommand: redis.sendCommand, timeoutMs: TIMEOUT_MS }),
        events,
      )
    })
    afterAll(async () => {
      redis.close()
      await server.kill()
    })

    it('answers 503 while Redis is down, then issues for the same assertion once it is back', async () => {
      expect((await tokenRequest(app, await assertion())).status).toBe(200)
      const once = await assertion()
      await server.kill()
      const down = await tokenRequest(app, once).timeout(3000)
      expect(down.status).toBe(503)
      expect(down.body).toMatchObject({ error: 'temporarily_unavailable' })
      expect(down.headers['retry-after']).toMatch(/^\d+$/)
      expect(issued(events)).toBe(1)

      await server.start()
      for (let i = 0; i < 100; i++) {
        if ((await redis.sendCommand(['PING']).catch(() => undefined)) === 'PONG') break
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
      expect((await tokenRequest(app, once)).status).toBe(200)
      expect((await tokenRequest(app, once)).status).toBe(401)
      expect(issued(events)).toBe(2)
    })
  },
)
