import { randomUUID } from 'node:crypto'
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
import { registerGuardInstrumentation } from '../../src/observability/register-guard-instrumentation.js'
import { requireToken } from '../../src/require-token.js'
import type { RequireTokenOptions } from '../../src/options/types.js'
import { jwks, json, startKeyServer, testKey } from '../../../core/test/jwks-server.js'
import { accessClaims, AUDIENCE, craftToken, createApp, ISSUER, rsaKeyPair } from '../helpers.js'

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
  stop = registerGuardInstrumentation({ meterProvider, tracerProvider })
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

function get(app: Express, authorization?: string) {
  const req = request(app).get('/api')
  return authorization === undefined ? req : req.set('Authorization', authorization)
}

describe('registerGuardInstrumentation: spans', () => {
  it('traces a verification as ccflow.guard.verify with the outcome and the cache hit', async () => {
    const app = createApp(requireToken(STATIC))
    const good = token()
    expect((await get(app, `Bearer ${good}`)).status).toBe(200)
    expect((await get(app, `Bearer ${good}`)).status).toBe(200)
    expect(spans().map((s) => [s.name, s.attributes, s.status.code])).toEqual([
      ['ccflow.guard.verify', { 'ccflow.outcome': 'success', 'ccflow.guard.cache_hit': false }, 0],
      ['ccflow.guard.verify', { 'ccflow.outcome': 'success', 'ccflow.guard.cache_hit': true }, 0],
    ])
  })

  it('sets error.type and the reason on a refused token, leaving the status unset', async () => {
    const app = createApp(requireToken(STATIC))
    expect((await get(app, `Bearer ${token({ aud: 'https://other' })}`)).status).toBe(401)
    expect((await get(app)).status).toBe(401)
    expect(spans().map((s) => [s.attributes, s.status.code])).toEqual([
      [
        {
          'ccflow.outcome': 'invalid_token',
          'ccflow.guard.cache_hit': false,
          'ccflow.reason': 'wrong_audience',
          'error.type': 'invalid_token',
        },
        0,
      ],
      [
        {
          'ccflow.outcome': 'unauthorized',
          'ccflow.guard.cache_hit': false,
          'ccflow.reason': 'missing_token',
          'error.type': 'unauthorized',
        },
        0,
      ],
    ])
  })

  it('sets status ERROR when the guard cannot decide (503)', async () => {
    const app = createApp(
      requireToken({
        ...STATIC,
        isRevoked: () => {
          throw new Error('store down')
        },
      }),
    )
    expect((await get(app, `Bearer ${token()}`)).status).toBe(503)
    const [span] = spans()
    expect(span?.attributes['error.type']).toBe('temporarily_unavailable')
    expect(span?.status.code).toBe(2)
  })

  it('never puts a token, a part of one or its jti in an attribute or a metric', async () => {
    const app = createApp(requireToken(STATIC))
    const secrets: string[] = []
    for (const claims of [{}, { aud: 'https://other' }, { exp: 2000, iat: 1000 }]) {
      const jti = randomUUID()
      const t = token({ ...claims, jti })
      secrets.push(jti, ...t.split('.'))
      await get(app, `Bearer ${t}`)
      await get(app, `Bearer ${t}`)
    }
    const collected = await collect()
    const text =
      JSON.stringify(spans().map((s) => [s.name, s.attributes, s.events, s.links, s.status])) +
      JSON.stringify([...collected.values()].map((m) => m.dataPoints))
    expect(spans()).toHaveLength(6)
    for (const secret of secrets) expect(text).not.toContain(secret)
  })
})

describe('registerGuardInstrumentation: metrics', () => {
  it('records the request counter, the duration and the cache hits under the dotted names', async () => {
    const app = createApp(requireToken(STATIC))
    const good = token()
    await get(app, `Bearer ${good}`)
    await get(app, `Bearer ${good}`)
    await get(app, 'Bearer x.y.z')
    const collected = await collect()
    expect(
      collected.get('ccflow.guard.requests')?.dataPoints.map((p) => [p.attributes, p.value]),
    ).toEqual([
      [{ outcome: 'success', reason: 'none' }, 2],
      [{ outcome: 'invalid_token', reason: 'malformed' }, 1],
    ])
    const duration = collected.get('ccflow.guard.verify.duration')
    expect(duration?.descriptor.unit).toBe('s')
    expect((duration?.dataPoints[0]?.value as { count: number }).count).toBe(3)
    expect(collected.get('ccflow.guard.token_cache.hits')?.dataPoints[0]?.value).toBe(1)
  })

  it('reports the JWKS fetch, the key count and the last success', async () => {
    const server = await startKeyServer()
    const key = testKey('remote-1')
    server.route('/jwks.json', json(jwks(key)))
    const guard = requireToken({ ...STATIC, keys: undefined, jwksUri: server.url('/jwks.json') })
    try {
      await guard.ready
      const collected = await collect()
      expect(
        collected.get('ccflow.guard.jwks_fetches')?.dataPoints.map((p) => [p.attributes, p.value]),
      ).toEqual([[{ outcome: 'success' }, 1]])
      expect(collected.get('ccflow.guard.jwks.keys')?.dataPoints[0]?.value).toBe(1)
      const last = collected.get('ccflow.guard.jwks.last_success_timestamp')
      expect(last?.descriptor.unit).toBe('s')
      expect(last?.dataPoints[0]?.value).toBeLessThanOrEqual(Date.now() / 1000)
    } finally {
      guard.close()
      await server.close()
    }
  })

  it('records only spans with metrics: false, and only metrics with traces: false', async () => {
    stop()
    stop = registerGuardInstrumentation({ meterProvider, tracerProvider, metrics: false })
    const app = createApp(requireToken(STATIC))
    await get(app)
    expect(spans()).toHaveLength(1)
    expect((await collect()).get('ccflow.guard.requests')).toBeUndefined()
    stop()
    stop = registerGuardInstrumentation({ meterProvider, tracerProvider, traces: false })
    await get(app)
    expect(spans()).toHaveLength(1)
    expect((await collect()).get('ccflow.guard.requests')?.dataPoints).toHaveLength(1)
  })

  it('uses the global providers by default (the no-op ones until the host registers an SDK)', async () => {
    stop()
    stop = registerGuardInstrumentation()
    await get(createApp(requireToken(STATIC)))
    expect(spans()).toEqual([])
    expect(metrics.getMeterProvider()).toBeDefined()
    expect(trace.getTracerProvider()).toBeDefined()
  })

  it('records nothing once the returned function is called', async () => {
    stop()
    await get(createApp(requireToken(STATIC)))
    expect(spans()).toEqual([])
    expect((await collect()).get('ccflow.guard.requests')?.dataPoints ?? []).toEqual([])
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
  ])('throws a TypeError for %s', (_, options, message) => {
    expect(() => registerGuardInstrumentation(options as never)).toThrow(TypeError)
    expect(() => registerGuardInstrumentation(options as never)).toThrow(message)
  })
})
