import express from 'express'
import { MemoryStore, type Store } from 'express-rate-limit'
import request from 'supertest'
import { describe, expect, it, vi } from 'vitest'
import { TOO_MANY_REQUESTS_BODY } from '../../src/http/rate-limit.js'
import { tokenEndpoint } from '../../src/token-endpoint.js'
import { NO_STORE, baseOptions, basic, createApp, eventSpy, form, secrets } from '../helpers.js'

const GRANT = form({ grant_type: 'client_credentials' })
const good = basic('reporter', secrets.reporter.secret)
const bad = basic('reporter', 'wrong')

function token(app: express.Express, auth: string, ip?: string): request.Test {
  const req = request(app).post('/token').type('form').set('Authorization', auth)
  if (ip !== undefined) void req.set('X-Forwarded-For', ip)
  return req.send(GRANT)
}

describe('the per-IP failure limiter', () => {
  it('answers the request after N failed authentications with 429, Retry-After and RateLimit headers', async () => {
    const spy = eventSpy()
    const app = createApp({
      rateLimit: { failures: { limit: 3 }, issuance: false },
      onEvent: spy.onEvent,
    })
    for (let i = 0; i < 3; i++) expect((await token(app, bad)).status).toBe(401)
    const res = await token(app, bad)
    expect(res.status).toBe(429)
    expect(res.body).toEqual({
      error: 'too_many_requests',
      error_description:
        'Too many requests. Retry after the number of seconds in the Retry-After header.',
    })
    expect(res.headers['content-type']).toBe('application/json')
    expect(res.headers).toMatchObject(NO_STORE)
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0)
    expect(res.headers.ratelimit).toMatch(/^"failures"; r=0; t=\d+$/)
    expect(res.headers['ratelimit-policy']).toMatch(/^"failures"; q=3; w=900; pk=:[^:]+:$/)
    expect(spy.events('rate_limited')).toEqual([
      { type: 'rate_limited', limiter: 'failures', ip: expect.any(String) as unknown },
    ])
  })

  it('blocks even correct credentials once the IP is over the limit', async () => {
    const app = createApp({ rateLimit: { failures: { limit: 2 }, issuance: false } })
    await token(app, bad)
    await token(app, bad)
    expect((await token(app, good)).status).toBe(429)
  })

  it('does not count successful requests toward the failure limit', async () => {
    const app = createApp({ rateLimit: { failures: { limit: 2 }, issuance: false } })
    for (let i = 0; i < 5; i++) expect((await token(app, good)).status).toBe(200)
    expect((await token(app, bad)).status).toBe(401)
    expect((await token(app, bad)).status).toBe(401)
    expect((await token(app, bad)).status).toBe(429)
  })

  it('does not count requests refused with 400 toward the failure limit', async () => {
    const app = createApp({ rateLimit: { failures: { limit: 1 }, issuance: false } })
    for (let i = 0; i < 3; i++) {
      const res = await request(app)
        .post('/token')
        .type('form')
        .set('Authorization', good)
        .send('grant_type=password')
      expect(res.status).toBe(400)
    }
    expect((await token(app, bad)).status).toBe(401)
    expect((await token(app, bad)).status).toBe(429)
  })

  it('keys clients by req.ip, which follows the app trust proxy setting', async () => {
    const app = express()
    app.set('trust proxy', 1)
    app.use(tokenEndpoint(baseOptions({ rateLimit: { failures: { limit: 1 }, issuance: false } })))
    expect((await token(app, bad, '203.0.113.1')).status).toBe(401)
    expect((await token(app, bad, '203.0.113.1')).status).toBe(429)
    expect((await token(app, bad, '203.0.113.2')).status).toBe(401)
  })

  it("works out req.ip once per request, however often express-rate-limit reads it, and keeps it the app's value", async () => {
    const trusted = vi.fn((_address: string, hop: number) => hop === 0)
    const { onEvent, events } = eventSpy()
    const app = createApp({ onEvent })
    app.set('trust proxy', trusted)
    expect((await token(app, good, '203.0.113.9')).status).toBe(200)
    // proxy-addr asks the trust function once per evaluation of req.ip for this one hop.
    expect(trusted).toHaveBeenCalledTimes(1)
    expect(events('token_issued')[0]?.ip).toBe('203.0.113.9')
    trusted.mockClear()
    for (let i = 0; i < 20; i++) await token(app, bad, '203.0.113.9')
    expect((await token(app, good, '203.0.113.9')).status).toBe(429)
    expect((await token(app, good, '203.0.113.10')).status).toBe(200)
  })

  it('groups IPv6 clients by their /56 subnet', async () => {
    const app = express()
    app.set('trust proxy', 1)
    app.use(tokenEndpoint(baseOptions({ rateLimit: { failures: { limit: 1 }, issuance: false } })))
    expect((await token(app, bad, '2001:db8:0:1::1')).status).toBe(401)
    expect((await token(app, bad, '2001:db8:0:2::99')).status).toBe(429)
    expect((await token(app, bad, '2001:db8:1:1::1')).status).toBe(401)
  })

  it('uses the store passed in the options', async () => {
    const store = new MemoryStore()
    const increment = vi.spyOn(store, 'increment')
    const app = createApp({ rateLimit: { failures: { store }, issuance: false } })
    await token(app, bad)
    expect(increment).toHaveBeenCalledTimes(1)
  })
})

describe('the per-client issuance quota', () => {
  it('answers 429 once a client has used its quota, and not for other clients', async () => {
    const spy = eventSpy()
    const app = createApp({
      rateLimit: { failures: false, issuance: { limit: 2 } },
      onEvent: spy.onEvent,
    })
    expect((await token(app, good)).status).toBe(200)
    expect((await token(app, good)).status).toBe(200)
    const limited = await token(app, good)
    expect(limited.status).toBe(429)
    expect(limited.text).toBe(TOO_MANY_REQUESTS_BODY.toString())
    expect(limited.headers['retry-after']).toBe('60')
    expect(limited.headers).toMatchObject(NO_STORE)
    expect(spy.events('rate_limited')).toEqual([
      {
        type: 'rate_limited',
        limiter: 'issuance',
        clientId: 'reporter',
        ip: expect.any(String) as unknown,
      },
    ])
    const other = await token(app, basic('basic-only', secrets.basicOnly.secret))
    expect(other.status).toBe(200)
  })

  it('is not spent by failed authentications', async () => {
    const app = createApp({ rateLimit: { failures: false, issuance: { limit: 1 } } })
    for (let i = 0; i < 3; i++) expect((await token(app, bad)).status).toBe(401)
    expect((await token(app, good)).status).toBe(200)
  })

  it('sends a Retry-After even when RateLimit headers are turned off', async () => {
    const app = createApp({
      rateLimit: { failures: false, issuance: { limit: 1, standardHeaders: false } },
    })
    await token(app, good)
    const res = await token(app, good)
    expect(res.status).toBe(429)
    expect(res.headers.ratelimit).toBeUndefined()
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0)
  })
})

describe('Retry-After on a 429', () => {
  it('falls back to 60 seconds when the store reports no reset time', async () => {
    // A shared store (Redis and the like) may answer without a resetTime.
    let hits = 0
    const store: Store = {
      increment: () => Promise.resolve({ totalHits: ++hits, resetTime: undefined }),
      decrement: () => Promise.resolve(),
      resetKey: () => Promise.resolve(),
    }
    const app = createApp({
      rateLimit: { failures: false, issuance: { limit: 1, store, standardHeaders: false } },
    })
    expect((await token(app, good)).status).toBe(200)
    const res = await token(app, good)
    expect(res.status).toBe(429)
    expect(res.headers['retry-after']).toBe('60')
    expect(res.text).toBe(TOO_MANY_REQUESTS_BODY.toString())
  })
})

describe('a failing rate-limit store', () => {
  const quiet = () => ({ warn: vi.fn(), error: vi.fn() })
  const failing = (error: Error): Store => ({
    increment: () => Promise.reject(error),
    decrement: () => Promise.resolve(),
    resetKey: () => Promise.resolve(),
  })

  it('lets the request through and reports store_error when the failure limiter fails open', async () => {
    const spy = eventSpy()
    const error = new Error('redis down')
    const logger = quiet()
    const app = createApp({
      rateLimit: { failures: { store: failing(error), logger }, issuance: false },
      onEvent: spy.onEvent,
    })
    expect((await token(app, good)).status).toBe(200)
    expect(spy.events('store_error')).toEqual([
      { type: 'store_error', store: 'rate_limit', limiter: 'failures', error, ip: undefined },
    ])
    expect(logger.error).toHaveBeenCalledTimes(1)
  })

  it('reports the issuance limiter failing open by its name', async () => {
    const spy = eventSpy()
    const app = createApp({
      rateLimit: {
        failures: false,
        issuance: { store: failing(new Error('down')), logger: quiet() },
      },
      onEvent: spy.onEvent,
    })
    expect((await token(app, good)).status).toBe(200)
    expect(spy.events('store_error')).toMatchObject([
      { limiter: 'issuance', error: { message: 'down' } },
    ])
  })

  it('reports no store_error when the limiter fails closed: the 503 is a server_error', async () => {
    const spy = eventSpy()
    const app = createApp({
      rateLimit: {
        failures: { store: failing(new Error('down')), passOnStoreError: false },
        issuance: false,
      },
      onEvent: spy.onEvent,
    })
    expect((await token(app, good)).status).toBe(503)
    expect(spy.events('store_error')).toEqual([])
    expect(spy.events('server_error')).toHaveLength(1)
  })

  it('reports a decrement that throws, which express-rate-limit only logs', async () => {
    const spy = eventSpy()
    const error = new Error('lost the connection')
    const store: Store = {
      increment: () => Promise.resolve({ totalHits: 1, resetTime: undefined }),
      decrement: () => Promise.reject(error),
      resetKey: () => Promise.resolve(),
    }
    const app = createApp({
      rateLimit: { failures: { store, logger: quiet() }, issuance: false },
      onEvent: spy.onEvent,
    })
    // A success is uncounted from the failure limiter once its answer is sent.
    expect((await token(app, good)).status).toBe(200)
    await vi.waitFor(() =>
      expect(spy.events('store_error')).toEqual([
        { type: 'store_error', store: 'rate_limit', limiter: 'failures', error, ip: undefined },
      ]),
    )
  })

  it('leaves a legacy callback store (incr) as it is', async () => {
    let hits = 0
    const legacy = {
      incr: (_key: string, done: (error: unknown, hits: number, reset: Date) => void) => {
        done(undefined, ++hits, new Date(Date.now() + 60_000))
      },
      decrement: () => undefined,
      resetKey: () => undefined,
    }
    const app = createApp({
      rateLimit: { failures: { store: legacy as never, logger: quiet() }, issuance: false },
    })
    expect((await token(app, good)).status).toBe(200)
    expect(hits).toBe(1)
  })

  it('keeps a store shared by two endpoints recognizable, so express-rate-limit still refuses it', () => {
    const store = new MemoryStore()
    const logger = quiet()
    createApp({ rateLimit: { failures: { store, logger }, issuance: false } })
    expect(logger.error).not.toHaveBeenCalled()
    createApp({ rateLimit: { failures: { store, logger }, issuance: false } })
    expect(logger.error).toHaveBeenCalledWith(
      expect.objectContaining({
        code: 'ERR_ERL_STORE_REUSE',
        message: expect.stringContaining('MemoryStore') as unknown,
      }),
    )
  })
})

describe('rateLimit: false', () => {
  it('turns both limiters off', async () => {
    const app = createApp({ rateLimit: false })
    for (let i = 0; i < 25; i++) expect((await token(app, bad)).status).toBe(401)
    const res = await token(app, good)
    expect(res.status).toBe(200)
    expect(res.headers.ratelimit).toBeUndefined()
  })
})

describe('default limits', () => {
  it('allow 20 failures per IP in 15 minutes, with both policies named on the 429 only', async () => {
    const app = createApp()
    for (let i = 0; i < 20; i++) expect((await token(app, bad)).status).toBe(401)
    const refused = await token(app, bad)
    expect(refused.status).toBe(429)
    expect(refused.headers.ratelimit).toMatch(/^"failures"; r=0; t=(89\d|900)$/)
    expect(refused.headers['ratelimit-policy']).toMatch(/^"failures"; q=20; w=900; pk=:[^:]+:$/)

    const fresh = await token(createApp(), good)
    expect(fresh.status).toBe(200)
    expect(fresh.headers.ratelimit).toBeUndefined()
    expect(fresh.headers['ratelimit-policy']).toBeUndefined()
  })

  it('write the 429 headers exactly as express-rate-limit does with standardHeaders draft-8', async () => {
    // Same store contents, same key: only who writes the headers differs.
    const ours = createApp({ rateLimit: { failures: false, issuance: { limit: 1 } } })
    const theirs = createApp({
      rateLimit: { failures: false, issuance: { limit: 1, standardHeaders: 'draft-8' } },
    })
    for (const app of [ours, theirs]) expect((await token(app, good)).status).toBe(200)
    const [a, b] = [await token(ours, good), await token(theirs, good)]
    expect(a.status).toBe(429)
    expect(b.status).toBe(429)
    expect(a.headers['ratelimit-policy']).toBe(b.headers['ratelimit-policy'])
    expect(a.headers.ratelimit).toMatch(/^"issuance"; r=0; t=\d+$/)
    expect(b.headers.ratelimit).toMatch(/^"issuance"; r=0; t=\d+$/)
    expect(a.headers['retry-after']).toBeDefined()
  })

  it('send the headers on every response when standardHeaders is given, as express-rate-limit does', async () => {
    const app = createApp({
      rateLimit: {
        failures: { standardHeaders: 'draft-8' },
        issuance: { standardHeaders: 'draft-8' },
      },
    })
    const res = await token(app, good)
    expect(res.status).toBe(200)
    expect(res.headers['ratelimit-policy']).toMatch(
      /^"failures"; q=20; w=900; pk=:[^:]+:, "issuance"; q=600; w=60; pk=:[^:]+:$/,
    )
  })

  it('honour the identifier and retryAfter options on the 429, given as functions', async () => {
    const app = createApp({
      rateLimit: {
        failures: false,
        issuance: { limit: 1, identifier: () => 'per-client', retryAfter: () => 7 },
      },
    })
    await token(app, good)
    const res = await token(app, good)
    expect(res.status).toBe(429)
    expect(res.headers.ratelimit).toMatch(/^"per-client"; r=0; t=\d+$/)
    expect(res.headers['retry-after']).toBe('7')
  })

  it('answer 503 temporarily_unavailable, as for any limiter error, when an identifier function throws on the 429', async () => {
    const app = createApp({
      rateLimit: {
        failures: false,
        issuance: {
          limit: 1,
          identifier: () => {
            throw new Error('identifier failed')
          },
        },
      },
    })
    await token(app, good)
    const res = await token(app, good)
    expect(res.status).toBe(503)
    expect(res.body).toMatchObject({ error: 'temporarily_unavailable' })
    expect(res.text).not.toContain('identifier failed')
  })

  it('fall back to the window for t= when the store reports no reset time', async () => {
    let hits = 0
    const store: Store = {
      increment: () => Promise.resolve({ totalHits: ++hits, resetTime: undefined }),
      decrement: () => Promise.resolve(),
      resetKey: () => Promise.resolve(),
    }
    const app = createApp({ rateLimit: { failures: false, issuance: { limit: 1, store } } })
    await token(app, good)
    const res = await token(app, good)
    expect(res.status).toBe(429)
    expect(res.headers.ratelimit).toBe('"issuance"; r=0; t=60')
  })
})
