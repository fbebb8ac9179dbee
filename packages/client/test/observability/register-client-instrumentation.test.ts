import { generateKeyPairSync } from 'node:crypto'
import { AsyncLocalStorage } from 'node:async_hooks'
import { context, ROOT_CONTEXT, trace, type Context, type ContextManager } from '@opentelemetry/api'
import {
  AggregationTemporality,
  DataPointType,
  MeterProvider,
  MetricReader,
  type HistogramMetricData,
  type MetricData,
} from '@opentelemetry/sdk-metrics'
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { registerClientInstrumentation } from '../../src/observability/register-client-instrumentation.js'
import type { TokenClientOptions } from '../../src/options/types.js'
import { createTokenClient, type TokenClient } from '../../src/token-client.js'
import {
  errorReply,
  jwtPayload,
  SECRET,
  startTokenServer,
  tokenReply,
  type TokenServer,
} from '../helpers.js'

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

let server: TokenServer
let exporter: InMemorySpanExporter
let reader: TestReader
let meterProvider: MeterProvider
let tracerProvider: BasicTracerProvider
let stop: () => void
const clients: TokenClient[] = []

beforeEach(async () => {
  server = await startTokenServer()
  exporter = new InMemorySpanExporter()
  reader = new TestReader()
  meterProvider = new MeterProvider({ readers: [reader] })
  tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
  stop = registerClientInstrumentation({ meterProvider, tracerProvider })
})
afterEach(async () => {
  stop()
  for (const client of clients.splice(0)) await client.close()
  await server.close()
})

function client(options: Partial<TokenClientOptions> = {}): TokenClient {
  const created = createTokenClient({
    tokenEndpoint: server.tokenEndpoint,
    clientId: 'billing',
    clientSecret: SECRET,
    ...options,
  })
  clients.push(created)
  return created
}

async function collect(): Promise<Map<string, MetricData>> {
  const { resourceMetrics } = await reader.collect()
  const all = resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics)
  return new Map(all.map((metric) => [metric.descriptor.name, metric]))
}

const named = (name: string): ReadableSpan[] =>
  exporter.getFinishedSpans().filter((span) => span.name === name)

describe('registerClientInstrumentation: spans', () => {
  it('traces a token request as ccflow.client.token_fetch with one child per attempt', async () => {
    server.reply((_r, n) => (n === 1 ? { status: 503 } : tokenReply('ok')))
    await client().getToken()
    const [root] = named('ccflow.client.token_fetch')
    expect(root?.attributes).toEqual({
      'ccflow.outcome': 'success',
      'ccflow.client.background': false,
      'ccflow.client.attempts': 2,
    })
    expect(root?.status.code).toBe(0)
    const attempts = named('ccflow.client.token_request')
    expect(attempts.map((span) => span.attributes)).toEqual([
      { 'error.type': 'attempt_failed' },
      {},
    ])
    for (const attempt of attempts) {
      expect(attempt.parentSpanContext?.spanId).toBe(root?.spanContext().spanId)
    }
  })

  it('makes no span for a cache hit or a coalesced wait', async () => {
    const tokens = client()
    await Promise.all([tokens.getToken(), tokens.getToken()])
    await tokens.getToken()
    expect(named('ccflow.client.token_fetch')).toHaveLength(1)
  })

  it('marks a refused request with its OAuth error code and status ERROR', async () => {
    server.reply(() => errorReply(401, 'invalid_client'))
    await expect(client().getToken()).rejects.toThrow()
    const [root] = named('ccflow.client.token_fetch')
    expect(root?.attributes).toMatchObject({
      'ccflow.outcome': 'oauth_error',
      'error.type': 'invalid_client',
      'http.response.status_code': 401,
    })
    expect(root?.status.code).toBe(2)
  })

  it('names a transport failure by its reason and an unknown OAuth code other', async () => {
    server.reply((_r, n) => (n === 1 ? { status: 404 } : errorReply(400, 'made_up_code')))
    const tokens = client()
    await expect(tokens.getToken()).rejects.toMatchObject({ reason: 'http_status' })
    await expect(tokens.getToken()).rejects.toMatchObject({ error: 'made_up_code' })
    expect(named('ccflow.client.token_fetch').map((s) => s.attributes['error.type'])).toEqual([
      'http_status',
      'other',
    ])
  })

  it('is a child of the span active when getToken() was called', async () => {
    // What the host's SDK registers (sdk-trace-node's AsyncLocalStorageContextManager).
    const storage = new AsyncLocalStorage<Context>()
    const manager: ContextManager = {
      active: () => storage.getStore() ?? ROOT_CONTEXT,
      with: (ctx, fn, thisArg, ...args) => storage.run(ctx, () => fn.call(thisArg, ...args)),
      bind: (_ctx, target) => target,
      enable: () => manager,
      disable: () => manager,
    }
    context.setGlobalContextManager(manager)
    try {
      const parent = tracerProvider.getTracer('test').startSpan('caller')
      await context.with(trace.setSpan(context.active(), parent), () => client().getToken())
      parent.end()
      const [root] = named('ccflow.client.token_fetch')
      expect(root?.parentSpanContext?.spanId).toBe(parent.spanContext().spanId)
    } finally {
      context.disable()
    }
  })

  it('never records the secret, the token, the client assertion or its jti', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    server.reply((_r, n) => (n === 1 ? { status: 503 } : tokenReply('the-access-token')))
    const tokens = client({ clientSecret: undefined, privateKey, issuer: server.issuer })
    await tokens.getToken()
    const assertions = server.requests.map((r) => r.form.get('client_assertion') as string)
    const jtis = assertions.map((a) => String(jwtPayload(a).jti))
    const recorded = JSON.stringify([
      exporter.getFinishedSpans().map((s) => [s.name, s.attributes, s.events]),
      [...(await collect()).values()].map((m) => m.dataPoints.map((p) => p.attributes)),
    ])
    for (const secret of ['the-access-token', SECRET, ...assertions, ...jtis, 'billing']) {
      expect(recorded).not.toContain(secret)
    }
  })
})

describe('registerClientInstrumentation: metrics', () => {
  it('records the metrics under their OpenTelemetry names', async () => {
    server.reply((_r, n) =>
      n === 1 ? { status: 429, headers: { 'retry-after': '0' } } : tokenReply('ok'),
    )
    const tokens = client()
    await tokens.getToken()
    await tokens.getToken()
    const metrics = await collect()
    const acquisitions = metrics.get('ccflow.client.token_acquisitions')
    expect(
      acquisitions?.dataPoints
        .map((p) => [p.attributes, p.value])
        .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    ).toEqual([
      [{ source: 'cache', outcome: 'success' }, 1],
      [{ source: 'network', outcome: 'success' }, 1],
    ])
    expect(metrics.get('ccflow.client.token_retries')?.dataPoints).toMatchObject([
      { attributes: { reason: 'http_status' }, value: 1 },
    ])
    expect(metrics.get('ccflow.client.throttled')?.dataPoints).toMatchObject([
      { attributes: {}, value: 1 },
    ])
    const duration = metrics.get('ccflow.client.token_fetch.duration') as HistogramMetricData
    expect(duration.dataPointType).toBe(DataPointType.HISTOGRAM)
    expect(duration.descriptor.unit).toBe('s')
    expect(duration.dataPoints).toMatchObject([
      { attributes: { outcome: 'success' }, value: { count: 1 } },
    ])
  })

  it('records spans only with metrics: false, and metrics only with traces: false', async () => {
    stop()
    stop = registerClientInstrumentation({ meterProvider, tracerProvider, metrics: false })
    await client().getToken()
    expect(named('ccflow.client.token_fetch')).toHaveLength(1)
    expect((await collect()).size).toBe(0)
    stop()
    exporter.reset()
    stop = registerClientInstrumentation({ meterProvider, tracerProvider, traces: false })
    await client().getToken()
    expect(named('ccflow.client.token_fetch')).toHaveLength(0)
    expect((await collect()).get('ccflow.client.token_acquisitions')).toBeDefined()
  })

  it('uses the global providers when none is given', () => {
    const stopGlobal = registerClientInstrumentation()
    expect(typeof stopGlobal).toBe('function')
    stopGlobal()
  })

  it.each([
    [{ meterProvider: {} }, /meterProvider/],
    [{ tracerProvider: 1 }, /tracerProvider/],
    [{ metrics: 'yes' }, /metrics/],
    [{ trace: true }, /trace/],
    [null, /options must be/],
  ])('refuses %o', (options, message) => {
    expect(() => registerClientInstrumentation(options as never)).toThrow(message)
  })
})
