import { metrics, trace } from '@opentelemetry/api'
import {
  AggregationTemporality,
  MeterProvider,
  MetricReader,
  type MetricData,
} from '@opentelemetry/sdk-metrics'
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base'
import request from 'supertest'
import type { Express } from 'express'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { registerIssuerInstrumentation } from '../../src/observability/register-issuer-instrumentation.js'
import { staticClientStore } from '../../src/clients/client-store.js'
import { memoryDenylist, type DenylistStore } from '../../src/revocation/denylist.js'
import { basic, clients, createApp, form, secrets } from '../helpers.js'

/** A metric reader collected on demand. */
class TestReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE })
  }
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve()
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve()
  }
}

const REPORTER_SECRET = secrets.reporter.secret
const REPORTER = basic('reporter', REPORTER_SECRET)
const GRANT = { grant_type: 'client_credentials' }

let exporter: InMemorySpanExporter
let reader: TestReader
let meterProvider: MeterProvider
let tracerProvider: BasicTracerProvider
let stop: () => void

beforeEach(() => {
  exporter = new InMemorySpanExporter()
  reader = new TestReader()
  meterProvider = new MeterProvider({ readers: [reader] })
  tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
  stop = registerIssuerInstrumentation({ meterProvider, tracerProvider, clientIds: ['reporter'] })
})
afterEach(() => {
  stop()
})

async function collect(): Promise<Map<string, MetricData>> {
  const { resourceMetrics } = await reader.collect()
  const all = resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics)
  return new Map(all.map((metric) => [metric.descriptor.name, metric]))
}

const spans = (): ReadableSpan[] => exporter.getFinishedSpans()
const named = (name: string): ReadableSpan[] => spans().filter((s) => s.name === name)

function token(app: Express, auth = REPORTER, fields: Record<string, string> = GRANT) {
  return request(app).post('/token').set('Authorization', auth).type('form').send(form(fields))
}

describe('registerIssuerInstrumentation: spans', () => {
  it('traces an issued token as ccflow.token with client authentication, rate limits and signing', async () => {
    const app = createApp()
    expect((await token(app)).status).toBe(200)
    const [root] = named('ccflow.token')
    expect(root?.attributes).toEqual({
      'ccflow.outcome': 'success',
      'ccflow.grant_type': 'client_credentials',
      'ccflow.client_auth.method': 'client_secret_basic',
      'ccflow.client_id': 'reporter',
    })
    expect(root?.status.code).toBe(0)
    const children = spans().filter(
      (s) => s.parentSpanContext?.spanId === root?.spanContext().spanId,
    )
    expect(children.map((s) => [s.name, s.attributes])).toEqual([
      ['ccflow.rate_limit', { 'ccflow.rate_limit.limiter': 'failures' }],
      ['ccflow.client_authentication', { 'ccflow.client_auth.method': 'client_secret_basic' }],
      ['ccflow.rate_limit', { 'ccflow.rate_limit.limiter': 'issuance' }],
      ['ccflow.sign', {}],
    ])
    for (const child of children) {
      expect(child.spanContext().traceId).toBe(root?.spanContext().traceId)
    }
  })

  it('sets error.type and the reason on a refused client, and marks the failed step', async () => {
    const app = createApp({ rateLimit: false })
    expect((await token(app, basic('reporter', 'wrong'))).status).toBe(401)
    const [root] = named('ccflow.token')
    expect(root?.attributes).toMatchObject({
      'ccflow.outcome': 'invalid_client',
      'error.type': 'invalid_client',
      'ccflow.reason': 'wrong_secret',
    })
    // The caller's mistake: status unset, as for an HTTP 4xx.
    expect(root?.status.code).toBe(0)
    expect(named('ccflow.client_authentication')[0]?.attributes).toMatchObject({
      'error.type': 'invalid_client',
    })
  })

  it('sets status ERROR when a store fails and traces the revocation store step', async () => {
    const failing: DenylistStore = {
      add: () => Promise.reject(new Error('denylist down')),
      has: () => Promise.resolve(false),
    }
    const app = createApp({
      rateLimit: false,
      revocation: { store: failing },
      onEvent: () => undefined,
    })
    const access = ((await token(app)).body as { access_token: string }).access_token
    await request(app)
      .post('/revoke')
      .set('Authorization', REPORTER)
      .type('form')
      .send(form({ token: access }))
    const [root] = named('ccflow.revocation')
    expect(root?.attributes).toMatchObject({
      'ccflow.outcome': 'temporarily_unavailable',
      'error.type': 'temporarily_unavailable',
    })
    expect(root?.status.code).toBe(2)
    expect(named('ccflow.revocation_store')[0]?.attributes).toEqual({
      'ccflow.revocation_store.operation': 'add',
      'error.type': 'temporarily_unavailable',
    })
  })

  it('traces introspection with the active answer and the denylist lookup', async () => {
    const app = createApp({
      rateLimit: false,
      introspection: true,
      revocation: { store: memoryDenylist() },
      clients: staticClientStore(
        clients.map((c) => (c.client_id === 'reporter' ? { ...c, introspection: true } : c)),
      ),
    })
    const access = ((await token(app)).body as { access_token: string }).access_token
    await request(app)
      .post('/introspect')
      .set('Authorization', REPORTER)
      .type('form')
      .send(form({ token: access }))
    const [root] = named('ccflow.introspection')
    expect(root?.attributes).toMatchObject({ 'ccflow.outcome': 'success', 'ccflow.active': true })
    expect(named('ccflow.revocation_store')[0]?.attributes).toEqual({
      'ccflow.revocation_store.operation': 'has',
    })
  })

  it('never puts a token, secret, jti or unlisted client id in an attribute', async () => {
    const app = createApp({ rateLimit: false, revocation: { store: memoryDenylist() } })
    const issued = await token(app)
    const access = (issued.body as { access_token: string }).access_token
    const jti = (
      JSON.parse(Buffer.from(access.split('.')[1] ?? '', 'base64url').toString()) as { jti: string }
    ).jti
    await request(app)
      .post('/revoke')
      .set('Authorization', REPORTER)
      .type('form')
      .send(form({ token: access }))
    await token(app, basic('unlisted-client-id', 'some-secret-value'))
    await request(app)
      .post('/token')
      .type('form')
      .send(form({ ...GRANT, client_id: 'reporter', client_secret: 'typo-secret-value' }))
    const text = JSON.stringify(spans().map((s) => [s.name, s.attributes]))
    for (const secret of [
      access,
      jti,
      REPORTER_SECRET,
      'unlisted-client-id',
      'some-secret-value',
      'typo-secret-value',
    ]) {
      expect(text).not.toContain(secret)
    }
    expect(text).toContain('"ccflow.client_id":"other"')
  })
})

describe('registerIssuerInstrumentation: metrics', () => {
  it('records the token request counter and duration histogram under the dotted names', async () => {
    const app = createApp({ rateLimit: false })
    await token(app)
    await token(app, basic('nobody', 'x'))
    const collected = await collect()
    const requests = collected.get('ccflow.issuer.token_requests')
    expect(requests?.dataPoints.map((p) => [p.attributes, p.value])).toEqual([
      [{ grant_type: 'client_credentials', outcome: 'success', client_id: 'reporter' }, 1],
      [{ grant_type: 'client_credentials', outcome: 'invalid_client', client_id: 'other' }, 1],
    ])
    const duration = collected.get('ccflow.issuer.token_request.duration')
    expect(duration?.descriptor.unit).toBe('s')
    expect(duration?.dataPoints.map((p) => p.attributes)).toEqual([
      { outcome: 'success' },
      { outcome: 'invalid_client' },
    ])
    expect(
      collected.get('ccflow.issuer.client_authentications')?.dataPoints.map((p) => p.attributes),
    ).toEqual([
      { method: 'client_secret_basic', outcome: 'success', reason: 'none', client_id: 'reporter' },
      {
        method: 'client_secret_basic',
        outcome: 'failure',
        reason: 'unknown_client',
        client_id: 'other',
      },
    ])
  })

  it('reports the signing keys as an observable gauge', async () => {
    createApp()
    const keys = (await collect()).get('ccflow.issuer.signing_keys')
    expect(
      keys?.dataPoints.find((p) => p.attributes.state === 'active')?.value,
    ).toBeGreaterThanOrEqual(1)
  })

  it('records only spans with metrics: false, and only metrics with traces: false', async () => {
    stop()
    stop = registerIssuerInstrumentation({ meterProvider, tracerProvider, metrics: false })
    const app = createApp({ rateLimit: false })
    await token(app)
    expect(named('ccflow.token')).toHaveLength(1)
    expect((await collect()).get('ccflow.issuer.token_requests')).toBeUndefined()
    stop()
    stop = registerIssuerInstrumentation({ meterProvider, tracerProvider, traces: false })
    await token(app)
    expect(named('ccflow.token')).toHaveLength(1)
    expect((await collect()).get('ccflow.issuer.token_requests')?.dataPoints).toHaveLength(1)
  })

  it('uses the global providers by default (the no-op ones until the host registers an SDK)', async () => {
    stop()
    stop = registerIssuerInstrumentation()
    await token(createApp({ rateLimit: false }))
    expect(spans()).toEqual([])
    expect(metrics.getMeterProvider()).toBeDefined()
    expect(trace.getTracerProvider()).toBeDefined()
  })

  it('records nothing once the returned function is called', async () => {
    stop()
    await token(createApp({ rateLimit: false }))
    expect(spans()).toEqual([])
    expect((await collect()).get('ccflow.issuer.token_requests')?.dataPoints ?? []).toEqual([])
  })

  it.each([
    [
      'an unknown option with a near miss',
      { tracerProvder: {} },
      /unknown option "tracerProvder" \(did you mean "tracerProvider"\?\)/,
    ],
    [
      'a meter provider without getMeter',
      { meterProvider: {} },
      /option "meterProvider" must be an OpenTelemetry provider with getMeter\(\)/,
    ],
    ['a tracer provider that is not an object', { tracerProvider: 'x' }, /option "tracerProvider"/],
    ['metrics that is not a boolean', { metrics: 'yes' }, /option "metrics"/],
    ['an empty client id list', { clientIds: [] }, /option "clientIds"/],
  ])('throws a TypeError for %s', (_, options, message) => {
    expect(() => registerIssuerInstrumentation(options as never)).toThrow(TypeError)
    expect(() => registerIssuerInstrumentation(options as never)).toThrow(message)
  })
})
