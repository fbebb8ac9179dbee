import { randomBytes, randomUUID } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import { Agent, request as httpRequest } from 'node:http'
import type { AddressInfo } from 'node:net'
import { signJws } from '@ccflow/core'
import express, { type Express } from 'express'
import { Registry } from 'prom-client'
import request from 'supertest'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { JWT_BEARER_ASSERTION_TYPE } from '../../src/clients/assertion/verify-assertion.js'
import { type Client, staticClientStore } from '../../src/clients/client-store.js'
import { registerIssuerMetrics } from '../../src/observability/register-issuer-metrics.js'
import { ISSUER_LABEL_VALUES } from '../../src/observability/issuer-metrics.js'
import type { TokenEndpointOptions } from '../../src/options/types.js'
import { type DenylistStore, memoryDenylist } from '../../src/revocation/denylist.js'
import { generateSigningKey } from '../../src/tokens/signing-keys.js'
import { tokenEndpoint } from '../../src/token-endpoint.js'
import { clientKey, json, startServer, type TestServer } from '../clients/assertion/servers.js'
import {
  basic,
  baseOptions,
  clients,
  createApp,
  form,
  ISSUER,
  ORDERS,
  secrets,
} from '../helpers.js'

const REPORTER = basic('reporter', secrets.reporter.secret)
const GRANT = { grant_type: 'client_credentials' }

/** The value of one series, 0 when it does not exist (yet). */
async function value(
  registry: Registry,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name)
  const match = metric?.values.find(
    (v) =>
      Object.keys(labels).length === Object.keys(v.labels).length &&
      Object.entries(labels).every(([k, l]) => v.labels[k] === l),
  )
  return match?.value ?? 0
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

function token(app: Express, auth = REPORTER, fields: Record<string, string> = GRANT) {
  return request(app).post('/token').set('Authorization', auth).type('form').send(form(fields))
}

let registry: Registry
let stop: () => void
beforeEach(() => {
  registry = new Registry()
  stop = registerIssuerMetrics({ registry })
})
afterEach(() => {
  stop()
})

// First: nothing else in this file has made a token endpoint yet, so the gauge sees only these.
describe('ccflow_issuer_signing_keys', () => {
  it('counts the signing keys of every live token endpoint by state', async () => {
    const [a, b, c] = ['a', 'b', 'c'].map((kid) => generateSigningKey('ES256', { kid }))
    const keys = [
      { ...a!, status: 'active' as const },
      { ...b!, status: 'next' as const },
      { ...c!, status: 'retired' as const },
    ]
    const first = tokenEndpoint(baseOptions({ keys }))
    const second = tokenEndpoint(baseOptions({ keys: [a!, b!] }))
    const states = await Promise.all(
      ['active', 'next', 'retired', 'other'].map((state) =>
        value(registry, 'ccflow_issuer_signing_keys', { state }),
      ),
    )
    expect(states).toEqual([2, 1, 1, 1])
    expect([first, second]).toHaveLength(2)
  })
})

describe('ccflow_issuer_token_requests_total and ccflow_issuer_token_request_duration_seconds', () => {
  const app = (): Express => createApp({ rateLimit: false })

  it('counts an issued token as client_credentials/success and times it', async () => {
    const duration = 'ccflow_issuer_token_request_duration_seconds'
    const moved = await moves(
      registry,
      [
        [
          'ccflow_issuer_token_requests_total',
          { grant_type: 'client_credentials', outcome: 'success' },
        ],
        [`${duration}`, { outcome: 'success' }],
      ],
      async () => expect((await token(app())).status).toBe(200),
    )
    expect(moved[0]).toBe(1)
    const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === duration)
    const count = metric?.values.find(
      (v) => (v as { metricName?: string }).metricName === `${duration}_count`,
    )
    expect(count).toMatchObject({ labels: { outcome: 'success' }, value: 1 })
  })

  it.each([
    ['another grant type as other', { grant_type: 'password' }, 'other', 'unsupported_grant_type'],
    ['no grant type as none', {}, 'none', 'invalid_request'],
    [
      'a scope the client may not have',
      { ...GRANT, scope: 'admin' },
      'client_credentials',
      'invalid_scope',
    ],
  ])('counts %s with the OAuth error as outcome', async (_, fields, grantType, outcome) => {
    const [moved] = await moves(
      registry,
      [['ccflow_issuer_token_requests_total', { grant_type: grantType, outcome }]],
      () => token(app(), REPORTER, fields),
    )
    expect(moved).toBe(1)
  })

  it('counts a wrong secret as invalid_client', async () => {
    const [moved] = await moves(
      registry,
      [
        [
          'ccflow_issuer_token_requests_total',
          { grant_type: 'client_credentials', outcome: 'invalid_client' },
        ],
      ],
      () => token(app(), basic('reporter', 'wrong')),
    )
    expect(moved).toBe(1)
  })

  it('counts a refused body before client authentication as invalid_request', async () => {
    const [moved] = await moves(
      registry,
      [['ccflow_issuer_token_requests_total', { grant_type: 'none', outcome: 'invalid_request' }]],
      () => request(app()).post('/token').type('json').send('{}'),
    )
    expect(moved).toBe(1)
  })

  it('counts a failing extraClaims hook as server_error', async () => {
    const failing = createApp({
      rateLimit: false,
      extraClaims: () => {
        throw new Error('hook bug')
      },
      onEvent: () => undefined,
    })
    const [moved] = await moves(
      registry,
      [
        [
          'ccflow_issuer_token_requests_total',
          { grant_type: 'client_credentials', outcome: 'server_error' },
        ],
      ],
      async () => expect((await token(failing)).status).toBe(500),
    )
    expect(moved).toBe(1)
  })

  it('does not count the JWKS, the metadata or a 405', async () => {
    const endpoint = app()
    const before = await value(registry, 'ccflow_issuer_token_requests_total', {
      grant_type: 'none',
      outcome: 'invalid_request',
    })
    await request(endpoint).get('/jwks.json')
    await request(endpoint).get('/.well-known/oauth-authorization-server')
    await request(endpoint).get('/token')
    const all = (await registry.getMetricsAsJSON()).find(
      (m) => m.name === 'ccflow_issuer_token_requests_total',
    )
    expect(all?.values.reduce((sum, v) => sum + v.value, 0) ?? 0).toBe(before)
  })
})

describe('ccflow_issuer_client_authentications_total', () => {
  const app = (): Express => createApp({ rateLimit: false })
  const series = (
    method: string,
    outcome: string,
    reason: string,
  ): [string, Record<string, string>] => [
    'ccflow_issuer_client_authentications_total',
    { method, outcome, reason },
  ]

  it('counts a success with its method and reason none', async () => {
    const moved = await moves(registry, [series('client_secret_basic', 'success', 'none')], () =>
      token(app()),
    )
    expect(moved).toEqual([1])
  })

  it('counts a failure with its method and precise reason', async () => {
    const moved = await moves(
      registry,
      [
        series('client_secret_post', 'failure', 'wrong_secret'),
        series('client_secret_post', 'failure', 'unknown_client'),
        series('none', 'failure', 'no_credentials'),
      ],
      async () => {
        await request(app())
          .post('/token')
          .type('form')
          .send(form({ ...GRANT, client_id: 'reporter', client_secret: 'wrong' }))
        await request(app())
          .post('/token')
          .type('form')
          .send(form({ ...GRANT, client_id: 'nobody', client_secret: 'x' }))
        await request(app()).post('/token').type('form').send(form(GRANT))
      },
    )
    expect(moved).toEqual([1, 1, 1])
  })

  it('counts nothing for a request refused before authentication decided', async () => {
    const before = await registry.getSingleMetricAsString(
      'ccflow_issuer_client_authentications_total',
    )
    await request(app())
      .post('/token')
      .set('Authorization', REPORTER)
      .type('form')
      .send(form({ ...GRANT, client_secret: 'also' }))
    expect(
      await registry.getSingleMetricAsString('ccflow_issuer_client_authentications_total'),
    ).toBe(before)
  })
})

describe('ccflow_issuer_rate_limited_total', () => {
  it('counts a 429 from the per-IP failure limiter', async () => {
    const app = createApp({ rateLimit: { failures: { limit: 1 }, issuance: false } })
    const moved = await moves(
      registry,
      [
        ['ccflow_issuer_rate_limited_total', { limiter: 'failures' }],
        [
          'ccflow_issuer_token_requests_total',
          { grant_type: 'client_credentials', outcome: 'too_many_requests' },
        ],
      ],
      async () => {
        await token(app, basic('reporter', 'wrong'))
        expect((await token(app, basic('reporter', 'wrong'))).status).toBe(429)
      },
    )
    expect(moved).toEqual([1, 1])
  })

  it('counts a 429 from the per-client issuance limiter', async () => {
    const app = createApp({ rateLimit: { failures: false, issuance: { limit: 1 } } })
    const [moved] = await moves(
      registry,
      [['ccflow_issuer_rate_limited_total', { limiter: 'issuance' }]],
      async () => {
        await token(app)
        expect((await token(app)).status).toBe(429)
      },
    )
    expect(moved).toBe(1)
  })
})

const failingDenylist: DenylistStore = {
  add: () => Promise.reject(new Error('denylist down')),
  has: () => Promise.reject(new Error('denylist down')),
}

describe('ccflow_issuer_store_errors_total', () => {
  it('counts a 503 caused by the denylist', async () => {
    const app = createApp({
      rateLimit: false,
      revocation: { store: failingDenylist },
      onEvent: () => undefined,
    })
    const issued = await token(app)
    const access = (issued.body as { access_token: string }).access_token
    const [moved] = await moves(
      registry,
      [['ccflow_issuer_store_errors_total', { store: 'denylist' }]],
      async () => {
        const res = await request(app)
          .post('/revoke')
          .set('Authorization', REPORTER)
          .type('form')
          .send(form({ token: access }))
        expect(res.status).toBe(503)
      },
    )
    expect(moved).toBe(1)
  })

  it('counts a 503 of a rate-limit store configured to fail closed', async () => {
    const broken = {
      increment: () => Promise.reject(new Error('redis down')),
      decrement: () => Promise.resolve(),
      resetKey: () => Promise.resolve(),
    }
    const app = createApp({
      rateLimit: { failures: { store: broken, passOnStoreError: false }, issuance: false },
      onEvent: () => undefined,
    })
    const [moved] = await moves(
      registry,
      [['ccflow_issuer_store_errors_total', { store: 'rate_limit' }]],
      async () => {
        expect((await token(app)).status).toBe(503)
      },
    )
    expect(moved).toBe(1)
  })
})

describe('ccflow_issuer_store_errors_total without a 503', () => {
  it('counts a rate-limit store that throws while its limiter fails open', async () => {
    const broken = {
      increment: () => Promise.reject(new Error('redis down')),
      decrement: () => Promise.resolve(),
      resetKey: () => Promise.resolve(),
    }
    const app = createApp({
      rateLimit: {
        failures: { store: broken, logger: { warn: () => undefined, error: () => undefined } },
        issuance: false,
      },
    })
    const [moved] = await moves(
      registry,
      [['ccflow_issuer_store_errors_total', { store: 'rate_limit' }]],
      async () => {
        expect((await token(app)).status).toBe(200)
      },
    )
    expect(moved).toBe(1)
  })

  it('counts a client store that rejects (a generic 500)', async () => {
    const app = createApp({
      rateLimit: false,
      clients: { findClient: () => Promise.reject(new Error('db down')) },
      onEvent: () => undefined,
    })
    const moved = await moves(
      registry,
      [
        ['ccflow_issuer_store_errors_total', { store: 'client_store' }],
        [
          'ccflow_issuer_token_requests_total',
          { grant_type: 'client_credentials', outcome: 'server_error' },
        ],
      ],
      async () => {
        expect((await token(app)).status).toBe(500)
      },
    )
    expect(moved).toEqual([1, 1])
  })

  it('counts a client store that does not answer in time once', async () => {
    const app = createApp({
      rateLimit: false,
      hookTimeoutMs: 1,
      clients: { findClient: () => new Promise(() => {}) },
      onEvent: () => undefined,
    })
    const [moved] = await moves(
      registry,
      [['ccflow_issuer_store_errors_total', { store: 'client_store' }]],
      async () => {
        expect((await token(app)).status).toBe(503)
      },
    )
    expect(moved).toBe(1)
  })
})

describe('ccflow_issuer_revocations_total and ccflow_issuer_introspections_total', () => {
  const denylist = memoryDenylist()
  const app = (): Express =>
    createApp({
      rateLimit: false,
      revocation: { store: denylist },
      introspection: true,
      clients: staticClientStore(
        clients.map((c) => (c.client_id === 'reporter' ? { ...c, introspection: true } : c)),
      ),
    })
  const post = (endpoint: Express, path: string, fields: Record<string, string>, auth = REPORTER) =>
    request(endpoint).post(path).set('Authorization', auth).type('form').send(form(fields))

  it('counts revoked, ignored and refused revocations', async () => {
    const endpoint = app()
    const access = ((await token(endpoint)).body as { access_token: string }).access_token
    const moved = await moves(
      registry,
      [
        ['ccflow_issuer_revocations_total', { outcome: 'revoked' }],
        ['ccflow_issuer_revocations_total', { outcome: 'ignored' }],
        ['ccflow_issuer_revocations_total', { outcome: 'invalid_request' }],
      ],
      async () => {
        await post(endpoint, '/revoke', { token: access })
        await post(endpoint, '/revoke', { token: 'not-a-token' })
        await post(endpoint, '/revoke', {})
      },
    )
    expect(moved).toEqual([1, 1, 1])
  })

  it('counts introspections by outcome and the active answer', async () => {
    const endpoint = app()
    const access = ((await token(endpoint)).body as { access_token: string }).access_token
    const moved = await moves(
      registry,
      [
        ['ccflow_issuer_introspections_total', { outcome: 'success', active: 'true' }],
        ['ccflow_issuer_introspections_total', { outcome: 'success', active: 'false' }],
        ['ccflow_issuer_introspections_total', { outcome: 'unauthorized_client', active: 'none' }],
      ],
      async () => {
        await post(endpoint, '/introspect', { token: access })
        await post(endpoint, '/introspect', { token: 'not-a-token' })
        await post(
          endpoint,
          '/introspect',
          { token: access },
          basic('basic-only', secrets.basicOnly.secret),
        )
        await post(endpoint, '/revoke', { token: access })
        await post(endpoint, '/introspect', { token: access })
      },
    )
    expect(moved).toEqual([1, 2, 1])
  })
})

describe('ccflow_issuer_client_jwks_fetches_total and ccflow_issuer_legacy_audience_total', () => {
  const key = clientKey('k-1')
  let server: TestServer
  beforeAll(async () => {
    server = await startServer()
  })
  afterAll(async () => {
    await server.close()
  })

  function assertion(clientId: string, aud = ISSUER): string {
    const now = Math.floor(Date.now() / 1000)
    return signJws(
      { alg: 'ES256', kid: 'k-1' },
      { iss: clientId, sub: clientId, aud, jti: randomUUID(), iat: now, exp: now + 60 },
      key.privateKey,
    )
  }
  function keyApp(record: Partial<Client>, overrides: Partial<TokenEndpointOptions> = {}): Express {
    return createApp({
      rateLimit: false,
      onEvent: () => undefined,
      clients: staticClientStore([
        {
          client_id: 'key-client',
          scope: 'orders:read',
          audiences: [ORDERS],
          token_endpoint_auth_method: 'private_key_jwt',
          ...record,
        },
      ]),
      ...overrides,
    })
  }
  const postAssertion = (app: Express, value: string) =>
    request(app)
      .post('/token')
      .type('form')
      .send(
        form({
          ...GRANT,
          client_assertion_type: JWT_BEARER_ASSERTION_TYPE,
          client_assertion: value,
        }),
      )
  const LOCAL = { allowedAddresses: ['127.0.0.0/8'], allowHttpLoopback: true }

  it('counts a fetched client key set as success and a failed one by reason', async () => {
    const good = `/good-${randomUUID()}`
    const bad = `/bad-${randomUUID()}`
    server.route(good, json({ keys: [key.jwk] }))
    server.route(bad, (_req, res) => {
      res.writeHead(500).end()
    })
    const moved = await moves(
      registry,
      [
        ['ccflow_issuer_client_jwks_fetches_total', { outcome: 'success' }],
        ['ccflow_issuer_client_jwks_fetches_total', { outcome: 'http_status' }],
      ],
      async () => {
        const ok = keyApp({ jwks_uri: server.url(good) }, { privateKeyJwt: { jwksUri: LOCAL } })
        expect((await postAssertion(ok, assertion('key-client'))).status).toBe(200)
        const down = keyApp({ jwks_uri: server.url(bad) }, { privateKeyJwt: { jwksUri: LOCAL } })
        expect((await postAssertion(down, assertion('key-client'))).status).toBe(503)
      },
    )
    expect(moved).toEqual([1, 1])
  })

  it('counts an assertion accepted under the legacy audience rule', async () => {
    const app = keyApp(
      { jwks: { keys: [key.jwk] } },
      { privateKeyJwt: { assertionAudience: 'legacy' } },
    )
    const [moved] = await moves(
      registry,
      [['ccflow_issuer_legacy_audience_total', {}]],
      async () => {
        expect((await postAssertion(app, assertion('key-client', `${ISSUER}/token`))).status).toBe(
          200,
        )
      },
    )
    expect(moved).toBe(1)
  })
})

describe('registerIssuerMetrics', () => {
  it('labels listed client ids and every other client as other', async () => {
    stop()
    stop = registerIssuerMetrics({ registry, clientIds: ['reporter'], prefix: 'shop_' })
    const app = createApp({ rateLimit: false })
    await token(app)
    await token(app, basic('basic-only', secrets.basicOnly.secret))
    await token(app, basic(`random-${randomUUID()}`, 'x'))
    const name = 'shop_ccflow_issuer_token_requests_total'
    expect(
      await value(registry, name, {
        grant_type: 'client_credentials',
        outcome: 'success',
        client_id: 'reporter',
      }),
    ).toBe(1)
    expect(
      await value(registry, name, {
        grant_type: 'client_credentials',
        outcome: 'success',
        client_id: 'other',
      }),
    ).toBe(1)
    expect(
      await value(registry, name, {
        grant_type: 'client_credentials',
        outcome: 'invalid_client',
        client_id: 'other',
      }),
    ).toBe(1)
  })

  it('covers every token endpoint in the process, made before or after it', async () => {
    const before = createApp({ rateLimit: false })
    stop()
    stop = registerIssuerMetrics({ registry })
    const after = createApp({ rateLimit: false })
    const [moved] = await moves(
      registry,
      [
        [
          'ccflow_issuer_token_requests_total',
          { grant_type: 'client_credentials', outcome: 'success' },
        ],
      ],
      async () => {
        await token(before)
        await token(after)
      },
    )
    expect(moved).toBe(2)
  })

  it('stops counting and leaves the registry when the returned function is called', async () => {
    const app = createApp({ rateLimit: false })
    stop()
    await token(app)
    expect(await registry.getMetricsAsJSON()).toEqual([])
    stop()
    stop = registerIssuerMetrics({ registry })
  })

  it('never mounts a /metrics route on the token endpoint', async () => {
    const app = createApp({ rateLimit: false })
    expect((await request(app).get('/metrics')).status).toBe(404)
  })

  it('throws when the same registry gets the metrics twice', () => {
    expect(() => registerIssuerMetrics({ registry })).toThrow(/already been registered/)
  })

  it.each([
    [
      'an unknown option with a near miss',
      { registry: new Registry(), clientId: ['a'] },
      /unknown option "clientId" \(did you mean "clientIds"\?\)/,
    ],
    ['no registry', {}, /option "registry" is required and must be a prom-client Registry/],
    [
      'a bad prefix',
      { registry: new Registry(), prefix: '1x' },
      /option "prefix" must be a Prometheus name prefix/,
    ],
    [
      'client ids that are not a list',
      { registry: new Registry(), clientIds: 'a' },
      /option "clientIds"/,
    ],
  ])('throws a TypeError for %s', (_, options, message) => {
    expect(() => registerIssuerMetrics(options as never)).toThrow(TypeError)
    expect(() => registerIssuerMetrics(options as never)).toThrow(message)
  })

  it('accepts an empty prefix', () => {
    const other = new Registry()
    registerIssuerMetrics({ registry: other, prefix: '' })()
  })
})

describe('cardinality', () => {
  let server: Server
  let base: string
  const agent = new Agent({ keepAlive: true, maxSockets: 16 })
  beforeAll(async () => {
    const app = express()
    app.use(
      tokenEndpoint(
        baseOptions({
          rateLimit: false,
          revocation: { store: memoryDenylist() },
          introspection: true,
          onEvent: () => undefined,
        }),
      ),
    )
    server = createServer(app)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    agent.destroy()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })

  function send(
    method: string,
    path: string,
    headers: Record<string, string>,
    body: string,
  ): Promise<void> {
    return new Promise((resolve, reject) => {
      const req = httpRequest(`${base}${path}`, { method, headers, agent }, (res) => {
        res.resume()
        res.on('end', resolve)
      })
      req.on('error', reject)
      req.end(body)
    })
  }

  const random = (): string => randomBytes(9).toString('base64url')

  /** One of five hostile requests: made-up client ids, secrets, paths, grant types and tokens. */
  function hostile(i: number): Promise<void> {
    const form = 'application/x-www-form-urlencoded'
    switch (i % 5) {
      case 0:
        return send(
          'POST',
          '/token',
          { 'content-type': form, authorization: basic(random(), random()) },
          'grant_type=client_credentials',
        )
      case 1:
        return send(
          'POST',
          '/token',
          { 'content-type': form },
          `grant_type=${random()}&client_id=${random()}&client_secret=${random()}&scope=${random()}`,
        )
      case 2:
        return send(
          'POST',
          `/${random()}/${random()}`,
          { 'content-type': form },
          'grant_type=client_credentials',
        )
      case 3:
        return send(
          'POST',
          '/revoke',
          { 'content-type': form, authorization: REPORTER },
          `token=${random()}.${random()}.${random()}`,
        )
      default:
        return send(
          'POST',
          '/introspect',
          { 'content-type': form, authorization: basic(random(), random()) },
          `token=${random()}`,
        )
    }
  }

  it('keeps the series count bounded after 10,000 random client ids, paths and bad credentials', async () => {
    stop()
    stop = registerIssuerMetrics({ registry, clientIds: ['reporter'] })
    for (let i = 0; i < 10_000; i += 50) {
      await Promise.all(Array.from({ length: 50 }, (_, j) => hostile(i + j)))
    }
    const metrics = await registry.getMetricsAsJSON()
    const allowed = new Set([
      ...Object.values(ISSUER_LABEL_VALUES).flat(),
      'reporter',
      'other',
      '+Inf',
    ])
    const series = metrics.flatMap((m) => m.values)
    for (const { labels } of series) {
      for (const [name, label] of Object.entries(labels)) {
        if (name === 'le') continue
        expect(allowed.has(String(label)), `${name}=${String(label)}`).toBe(true)
      }
    }
    const requests = metrics.find((m) => m.name === 'ccflow_issuer_token_requests_total')
    expect(requests?.values.reduce((sum, v) => sum + v.value, 0)).toBe(4000)
    // Histogram buckets included: a handful of outcomes, never one series per request.
    expect(series.length).toBeLessThan(150)
  }, 60_000)
})
