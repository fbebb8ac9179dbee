import { randomBytes, randomUUID } from 'node:crypto'
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { createServer, type Server } from 'node:http'
import { Agent, request as httpRequest } from 'node:http'
import type { AddressInfo } from 'node:net'
import express, { type RequestHandler } from 'express'
import passport from 'passport'
import { Registry } from 'prom-client'
import request from 'supertest'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { registerGuardMetrics } from '../../src/observability/register-guard-metrics.js'
import { GUARD_LABEL_VALUES } from '../../src/observability/guard-metrics.js'
import { GUARD_CHANNELS } from '../../src/observability/channels.js'
import { requireToken, type TokenGuard } from '../../src/require-token.js'
import { createTokenVerifier } from '../../src/verify/verifier.js'
import { BearerJwtStrategy } from '../../src/passport-strategy.js'
import type { RequireTokenOptions } from '../../src/options/types.js'
import {
  jwks,
  json,
  startKeyServer,
  status,
  testKey,
  type TestKey,
  type TestKeyServer,
} from '../../../core/test/jwks-server.js'
import { accessClaims, AUDIENCE, craftToken, createApp, ISSUER, rsaKeyPair } from '../helpers.js'

const rsa = rsaKeyPair()
const HEADER = { alg: 'RS256', typ: 'at+jwt', kid: 'k1' }
const STATIC: RequireTokenOptions = {
  issuer: ISSUER,
  audience: AUDIENCE,
  keys: [{ key: rsa.publicKey, kid: 'k1' }],
  onEvent: () => undefined,
}

function token(claims: Record<string, unknown> = {}): string {
  return craftToken(HEADER, accessClaims(claims), rsa.privateKey)
}

const REQUESTS = 'ccflow_guard_requests_total'
const DURATION = 'ccflow_guard_verify_duration_seconds'
const HITS = 'ccflow_guard_token_cache_hits_total'
const FETCHES = 'ccflow_guard_jwks_fetches_total'
const STALE = 'ccflow_guard_jwks_stale_served_total'
const KEYS = 'ccflow_guard_jwks_keys'
const LAST_SUCCESS = 'ccflow_guard_jwks_last_success_timestamp_seconds'

/** The value of one series, 0 when it does not exist (yet). */
async function value(
  registry: Registry,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name)
  const match = metric?.values.find(
    (v) =>
      (v as { metricName?: string }).metricName === undefined &&
      Object.keys(labels).length === Object.keys(v.labels).length &&
      Object.entries(labels).every(([k, l]) => v.labels[k] === l),
  )
  return match?.value ?? 0
}

/** The number of observations of the verification-time histogram. */
async function durationCount(registry: Registry): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === DURATION)
  const count = metric?.values.find(
    (v) => (v as { metricName?: string }).metricName === `${DURATION}_count`,
  )
  return count?.value ?? 0
}

/** How much each listed series moves while `action` runs. */
async function moves(
  registry: Registry,
  series: [string, Record<string, string>][],
  action: () => Promise<unknown>,
): Promise<number[]> {
  const before = await Promise.all(series.map(([n, l]) => value(registry, n, l)))
  await action()
  const after = await Promise.all(series.map(([n, l]) => value(registry, n, l)))
  return after.map((v, i) => v - (before[i] ?? 0))
}

const outcome = (o: string, reason = 'none'): [string, Record<string, string>] => [
  REQUESTS,
  { outcome: o, reason },
]

let registry: Registry
let stop: () => void
const guards: { close(): void }[] = []
beforeEach(() => {
  registry = new Registry()
  stop = registerGuardMetrics({ registry })
})
afterEach(() => {
  stop()
  // A closed guard reports no gauge values, so each test sees only its own guards.
  for (const guard of guards.splice(0)) guard.close()
  vi.useRealTimers()
})

function guard(options: RequireTokenOptions = STATIC): TokenGuard {
  const made = requireToken(options)
  guards.push(made)
  return made
}

describe('ccflow_guard_requests_total, ccflow_guard_verify_duration_seconds and ccflow_guard_token_cache_hits_total', () => {
  it('counts a good token twice as two successes, the second a cache hit, and times both', async () => {
    const app = createApp(guard())
    const good = token()
    const before = await durationCount(registry)
    const moved = await moves(registry, [outcome('success'), [HITS, {}]], async () => {
      expect((await request(app).get('/api').set('Authorization', `Bearer ${good}`)).status).toBe(
        200,
      )
      expect((await request(app).get('/api').set('Authorization', `Bearer ${good}`)).status).toBe(
        200,
      )
    })
    expect(moved).toEqual([2, 1])
    expect((await durationCount(registry)) - before).toBe(2)
  })

  it.each([
    ['a bad signature', () => `${token().slice(0, -4)}AAAA`, 'invalid_token', 'bad_signature'],
    ['an expired token', () => token({ iat: 1000, exp: 2000 }), 'invalid_token', 'token_expired'],
    ['a wrong audience', () => token({ aud: 'https://other' }), 'invalid_token', 'wrong_audience'],
    [
      'an unknown kid',
      () => craftToken({ ...HEADER, kid: 'k9' }, accessClaims(), rsa.privateKey),
      'invalid_token',
      'unknown_kid',
    ],
    ['a token that is no JWS', () => 'not-a-jwt', 'invalid_token', 'malformed'],
  ])('counts %s by its code and reason, and no cache hit', async (_, make, code, reason) => {
    const app = createApp(guard())
    const moved = await moves(registry, [outcome(code, reason), [HITS, {}]], async () => {
      expect((await request(app).get('/api').set('Authorization', `Bearer ${make()}`)).status).toBe(
        401,
      )
    })
    expect(moved).toEqual([1, 0])
  })

  it('counts a request without a token as unauthorized/missing_token', async () => {
    const app = createApp(guard())
    const [moved] = await moves(registry, [outcome('unauthorized', 'missing_token')], () =>
      request(app).get('/api'),
    )
    expect(moved).toBe(1)
  })

  it('counts another scheme as unauthorized/unsupported_scheme', async () => {
    const app = createApp(guard())
    const [moved] = await moves(registry, [outcome('unauthorized', 'unsupported_scheme')], () =>
      request(app).get('/api').set('Authorization', 'Basic YTpi'),
    )
    expect(moved).toBe(1)
  })

  it('counts a malformed Authorization header as invalid_request', async () => {
    const app = createApp(guard())
    const [moved] = await moves(
      registry,
      [outcome('invalid_request', 'malformed_authorization')],
      async () => {
        expect((await request(app).get('/api').set('Authorization', 'Bearer a b')).status).toBe(400)
      },
    )
    expect(moved).toBe(1)
  })

  it('counts a request without a token let through by credentialsOptional as anonymous', async () => {
    const app = createApp(guard({ ...STATIC, credentialsOptional: true }))
    const [moved] = await moves(registry, [outcome('anonymous')], async () => {
      expect((await request(app).get('/api')).status).toBe(200)
    })
    expect(moved).toBe(1)
  })

  it("counts a token without requireToken's own scopes as insufficient_scope, once", async () => {
    const app = createApp(guard({ ...STATIC, scopes: ['admin'] }))
    const moved = await moves(
      registry,
      [outcome('insufficient_scope', 'insufficient_scope'), outcome('success')],
      async () => {
        const res = await request(app).get('/api').set('Authorization', `Bearer ${token()}`)
        expect(res.status).toBe(403)
      },
    )
    expect(moved).toEqual([1, 0])
  })

  it('counts a failing revocation check as temporarily_unavailable', async () => {
    const app = createApp(
      guard({
        ...STATIC,
        isRevoked: () => {
          throw new Error('store down')
        },
      }),
    )
    const [moved] = await moves(
      registry,
      [outcome('temporarily_unavailable', 'revocation_check_failed')],
      async () => {
        expect(
          (await request(app).get('/api').set('Authorization', `Bearer ${token()}`)).status,
        ).toBe(503)
      },
    )
    expect(moved).toBe(1)
  })

  it('counts an asynchronous revocation answer when it settles', async () => {
    const app = createApp(guard({ ...STATIC, isRevoked: () => Promise.resolve(true) }))
    const [moved] = await moves(registry, [outcome('invalid_token', 'revoked')], async () => {
      expect(
        (await request(app).get('/api').set('Authorization', `Bearer ${token()}`)).status,
      ).toBe(401)
    })
    expect(moved).toBe(1)
  })

  it('counts the verifications of createTokenVerifier', async () => {
    const verifier = createTokenVerifier(STATIC)
    const good = token()
    const moved = await moves(
      registry,
      [outcome('success'), outcome('invalid_token', 'malformed'), [HITS, {}]],
      async () => {
        await verifier.verify(good)
        await verifier.verify(good)
        await verifier.verify('x.y.z').catch(() => undefined)
      },
    )
    expect(moved).toEqual([2, 1, 1])
  })

  it('counts the requests of the passport strategy', async () => {
    const strategy = new BearerJwtStrategy(STATIC)
    const pp = new passport.Passport()
    pp.use('bearer-jwt', strategy)
    const app = express()
    const authenticate = pp.authenticate('bearer-jwt', { session: false }) as RequestHandler
    app.get('/api', authenticate, (_req, res) => {
      res.json({ ok: true })
    })
    const moved = await moves(
      registry,
      [
        outcome('success'),
        outcome('unauthorized', 'missing_token'),
        outcome('unauthorized', 'unsupported_scheme'),
        outcome('invalid_token', 'bad_signature'),
      ],
      async () => {
        expect(
          (await request(app).get('/api').set('Authorization', `Bearer ${token()}`)).status,
        ).toBe(200)
        expect((await request(app).get('/api')).status).toBe(401)
        expect((await request(app).get('/api').set('Authorization', 'Basic YTpi')).status).toBe(401)
        const bad = `${token().slice(0, -4)}AAAA`
        expect((await request(app).get('/api').set('Authorization', `Bearer ${bad}`)).status).toBe(
          401,
        )
      },
    )
    expect(moved).toEqual([1, 1, 1, 1])
  })
})

describe('the JWKS metrics', () => {
  let server: TestKeyServer
  let key: TestKey
  let other: TestKey
  beforeAll(() => {
    key = testKey('remote-1')
    other = testKey('remote-2')
  })
  beforeEach(async () => {
    server = await startKeyServer()
  })
  afterEach(async () => {
    for (const g of guards.splice(0)) g.close()
    await server.close()
  })

  const remote = (extra: Partial<RequireTokenOptions> = {}): TokenGuard =>
    guard({
      issuer: ISSUER,
      audience: AUDIENCE,
      jwksUri: server.url('/jwks.json'),
      onEvent: () => undefined,
      ...extra,
    })

  const remoteToken = (): string =>
    craftToken({ alg: 'RS256', typ: 'at+jwt', kid: 'remote-1' }, accessClaims(), key.privateKey)

  it('counts a successful fetch, reads the key count and the time of the last success', async () => {
    server.route('/jwks.json', json(jwks(key, other)))
    const started = Date.now()
    const [fetched] = await moves(registry, [[FETCHES, { outcome: 'success' }]], async () => {
      await remote().ready
    })
    expect(fetched).toBe(1)
    expect(await value(registry, KEYS)).toBe(2)
    const last = await value(registry, LAST_SUCCESS)
    expect(last).toBeGreaterThanOrEqual(Math.floor(started / 1000))
    expect(last).toBeLessThanOrEqual(Date.now() / 1000)
  })

  it('counts a failed fetch by reason and reads 0 keys and a last success of 0', async () => {
    server.route('/jwks.json', status(500))
    const [failed] = await moves(registry, [[FETCHES, { outcome: 'http_status' }]], async () => {
      await remote().ready.catch(() => undefined)
    })
    expect(failed).toBe(1)
    const metrics = await registry.getMetricsAsJSON()
    expect(metrics.find((m) => m.name === KEYS)?.values).toEqual([{ labels: {}, value: 0 }])
    expect(metrics.find((m) => m.name === LAST_SUCCESS)?.values).toEqual([{ labels: {}, value: 0 }])
  })

  it('counts a failed discovery by reason', async () => {
    const [failed] = await moves(registry, [[FETCHES, { outcome: 'http_status' }]], async () => {
      await guard({
        issuer: server.origin,
        audience: AUDIENCE,
        discover: true,
        onEvent: () => undefined,
      }).ready.catch(() => undefined)
    })
    expect(failed).toBe(1)
  })

  it('reports the guard with the fewest keys and the oldest success when several run', async () => {
    server.route('/jwks.json', json(jwks(key, other)))
    await remote().ready
    server.route('/two.json', json(jwks(key)))
    await remote({ jwksUri: server.url('/two.json') }).ready
    expect(await value(registry, KEYS)).toBe(1)
  })

  it('reads no gauge value without a live guard with a remote key set', async () => {
    server.route('/jwks.json', json(jwks(key)))
    const closed = remote()
    await closed.ready
    closed.close()
    guard()
    const metrics = await registry.getMetricsAsJSON()
    expect(metrics.find((m) => m.name === KEYS)?.values).toEqual([])
    expect(metrics.find((m) => m.name === LAST_SUCCESS)?.values).toEqual([])
  })

  it('counts each lookup answered from the stale key set while the JWKS fails', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    server.route('/jwks.json', json(jwks(key), { 'cache-control': 'max-age=60' }))
    const g = remote()
    await g.ready
    const app = createApp(g)
    server.route('/jwks.json', status(503))
    vi.setSystemTime(Date.now() + 61_000)
    const moved = await moves(
      registry,
      [[STALE, {}], outcome('success'), [FETCHES, { outcome: 'http_status' }]],
      async () => {
        for (const t of [remoteToken(), remoteToken()]) {
          expect((await request(app).get('/api').set('Authorization', `Bearer ${t}`)).status).toBe(
            200,
          )
        }
      },
    )
    expect(moved).toEqual([2, 2, 1])
    expect(g.stats().jwks).toMatchObject({ fresh: false, staleServed: 2 })
  })
})

describe('registerGuardMetrics', () => {
  it('covers every guard in the process, made before or after it', async () => {
    const early = createApp(guard())
    stop()
    const other = new Registry()
    const stopOther = registerGuardMetrics({ registry: other })
    const late = createApp(guard())
    await request(early).get('/api')
    await request(late).get('/api')
    expect(await value(other, REQUESTS, { outcome: 'unauthorized', reason: 'missing_token' })).toBe(
      2,
    )
    stopOther()
    stop = registerGuardMetrics({ registry })
  })

  it('stops counting and leaves the registry when the returned function is called', async () => {
    const app = createApp(guard())
    stop()
    await request(app).get('/api')
    expect(await registry.getMetricsAsJSON()).toEqual([])
    stop()
    stop = registerGuardMetrics({ registry })
  })

  it('puts the prefix in front of every name', async () => {
    const other = new Registry()
    const stopOther = registerGuardMetrics({ registry: other, prefix: 'myapp_' })
    const names = (await other.getMetricsAsJSON()).map((m) => m.name).sort()
    stopOther()
    expect(names).toEqual([
      'myapp_ccflow_guard_jwks_fetches_total',
      'myapp_ccflow_guard_jwks_keys',
      'myapp_ccflow_guard_jwks_last_success_timestamp_seconds',
      'myapp_ccflow_guard_jwks_stale_served_total',
      'myapp_ccflow_guard_requests_total',
      'myapp_ccflow_guard_token_cache_hits_total',
      'myapp_ccflow_guard_verify_duration_seconds',
    ])
  })

  it('never mounts a /metrics route on the guarded app', async () => {
    const app = createApp(guard())
    expect((await request(app).get('/metrics')).status).toBe(404)
  })

  it('throws when the same registry gets the metrics twice', () => {
    expect(() => registerGuardMetrics({ registry })).toThrow(/already been registered/)
  })

  it.each([
    [
      'an unknown option with a near miss',
      { registry: new Registry(), prefx: 'a_' },
      /unknown option "prefx" \(did you mean "prefix"\?\)/,
    ],
    ['no registry', {}, /option "registry" is required and must be a prom-client Registry/],
    [
      'a bad prefix',
      { registry: new Registry(), prefix: '1x' },
      /option "prefix" must be a Prometheus name prefix/,
    ],
  ])('throws a TypeError for %s', (_, options, message) => {
    expect(() => registerGuardMetrics(options as never)).toThrow(TypeError)
    expect(() => registerGuardMetrics(options as never)).toThrow(message)
  })

  it('accepts an empty prefix', () => {
    registerGuardMetrics({ registry: new Registry(), prefix: '' })()
  })
})

describe('cardinality and secrecy', () => {
  let server: Server
  let base: string
  const agent = new Agent({ keepAlive: true, maxSockets: 16 })
  beforeAll(async () => {
    const app = express()
    app.use(requireToken(STATIC))
    app.use((_req, res) => {
      res.json({ ok: true })
    })
    server = createServer(app)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    agent.destroy()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })

  function send(path: string, authorization: string | undefined): Promise<number> {
    return new Promise((resolve, reject) => {
      const headers = authorization === undefined ? {} : { authorization }
      const req = httpRequest(`${base}${path}`, { headers, agent }, (res) => {
        res.resume()
        res.on('end', () => resolve(res.statusCode ?? 0))
      })
      req.on('error', reject)
      req.end()
    })
  }

  const random = (): string => randomBytes(9).toString('base64url')

  /** One of five hostile requests, each on a path never seen before. */
  function hostile(i: number): Promise<number> {
    const path = `/${random()}/${random()}?${random()}=${random()}`
    switch (i % 5) {
      case 0:
        return send(path, `Bearer ${random()}.${random()}.${random()}`)
      case 1:
        // Validly signed, but for an audience made up per request.
        return send(path, `Bearer ${token({ aud: `https://${random()}.example` })}`)
      case 2:
        return send(
          path,
          `Bearer ${craftToken({ ...HEADER, kid: random() }, accessClaims(), rsa.privateKey)}`,
        )
      case 3:
        return send(path, `${random()} ${random()}`)
      default:
        return send(path, `Bearer ${craftToken({ ...HEADER, alg: random() }, accessClaims())}`)
    }
  }

  it('keeps the series count bounded after 10,000 random paths and bad tokens', async () => {
    for (let i = 0; i < 10_000; i += 50) {
      await Promise.all(Array.from({ length: 50 }, (_, j) => hostile(i + j)))
    }
    const metrics = await registry.getMetricsAsJSON()
    const allowed = new Set(Object.values(GUARD_LABEL_VALUES).flat())
    const series = metrics.flatMap((m) => m.values)
    for (const { labels } of series) {
      for (const [name, label] of Object.entries(labels)) {
        if (name === 'le') continue
        expect(allowed.has(String(label)), `${name}=${String(label)}`).toBe(true)
      }
    }
    const requests = metrics.find((m) => m.name === REQUESTS)
    expect(requests?.values.reduce((sum, v) => sum + v.value, 0)).toBe(10_000)
    // Histogram buckets included: a handful of outcomes, never one series per request.
    expect(series.length).toBeLessThan(60)
  }, 60_000)

  it('never puts a token, a part of one or its jti in a label, a metric or a channel message', async () => {
    const seen: unknown[] = []
    const record = (message: unknown): void => {
      seen.push(structuredClone(message))
    }
    const names = Object.values(GUARD_CHANNELS).filter((n) => n !== GUARD_CHANNELS.snapshot)
    for (const name of names) subscribe(name, record)
    const secrets: string[] = []
    try {
      for (const claims of [{}, { aud: 'https://other' }, { exp: 2000, iat: 1000 }]) {
        const jti = randomUUID()
        const t = token({ ...claims, jti })
        secrets.push(jti, ...t.split('.'))
        await send('/a', `Bearer ${t}`)
        await send('/a', `Bearer ${t}`)
      }
    } finally {
      for (const name of names) unsubscribe(name, record)
    }
    const text = (await registry.metrics()) + JSON.stringify(seen)
    expect(seen.length).toBeGreaterThan(0)
    for (const secret of secrets) expect(text).not.toContain(secret)
  })
})
