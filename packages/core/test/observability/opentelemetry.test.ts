import { context, metrics, trace } from '@opentelemetry/api'
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
} from '@opentelemetry/sdk-trace-base'
import { performance } from 'node:perf_hooks'
import { describe, expect, it, vi } from 'vitest'
import type { MetricSet } from '../../src/observability/metrics.js'
import {
  createOtelInstruments,
  startOtelInstrumentation,
  traceOperations,
} from '../../src/observability/opentelemetry.js'
import {
  beginPhase,
  endPhase,
  operationChannels,
  publishEnd,
  publishStart,
  type OperationMessage,
} from '../../src/observability/operation.js'

/** A reader collected on demand. */
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

async function collect(reader: TestReader): Promise<Map<string, MetricData>> {
  const { resourceMetrics } = await reader.collect()
  const all = resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics)
  return new Map(all.map((metric) => [metric.descriptor.name, metric]))
}

type Key = 'requests' | 'duration' | 'keys'
const SET: MetricSet<Key> = {
  metrics: {
    requests: {
      name: 'ccflow.test.requests',
      kind: 'counter',
      unit: '{request}',
      description: 'Requests.',
      labels: ['outcome'],
      perClient: true,
    },
    duration: {
      name: 'ccflow.test.request.duration',
      kind: 'histogram',
      unit: 's',
      description: 'Request duration.',
      labels: ['outcome'],
    },
    keys: {
      name: 'ccflow.test.keys',
      kind: 'gauge',
      unit: '{key}',
      description: 'Keys.',
      labels: ['state'],
    },
  },
  gauges: { keys: () => [{ labels: { state: 'active' }, value: 1 }] },
}

describe('createOtelInstruments', () => {
  it('creates a counter, a histogram with the advised buckets and an observable gauge', async () => {
    const reader = new TestReader()
    const meter = new MeterProvider({ readers: [reader] }).getMeter('test')
    let reads = 0
    const set: MetricSet<Key> = {
      ...SET,
      gauges: { keys: () => [{ labels: { state: 'active' }, value: ++reads }] },
    }
    const { recorder, unregister } = createOtelInstruments(meter, set, { clientLabel: true })
    recorder.record('requests', { outcome: 'success', client_id: 'billing' }, 2)
    recorder.record('duration', { outcome: 'success' }, 0.02)
    const metrics = await collect(reader)
    const requests = metrics.get('ccflow.test.requests')
    expect(requests?.descriptor.unit).toBe('{request}')
    expect(requests?.dataPoints.map((p) => [p.attributes, p.value])).toEqual([
      [{ outcome: 'success', client_id: 'billing' }, 2],
    ])
    const duration = metrics.get('ccflow.test.request.duration') as HistogramMetricData
    expect(duration.dataPointType).toBe(DataPointType.HISTOGRAM)
    expect(duration.dataPoints[0]?.value.buckets.boundaries).toEqual([
      0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
    ])
    expect(metrics.get('ccflow.test.keys')?.dataPoints.map((p) => p.value)).toEqual([1])

    unregister()
    await collect(reader)
    expect(reads).toBe(1)
  })

  it('observes nothing for a gauge that has no reader', async () => {
    const reader = new TestReader()
    const meter = new MeterProvider({ readers: [reader] }).getMeter('test')
    createOtelInstruments(meter, { ...SET, gauges: {} }, { clientLabel: false })
    expect((await collect(reader)).get('ccflow.test.keys')?.dataPoints ?? []).toEqual([])
  })

  it('drops the client_id attribute when no ids are listed', async () => {
    const reader = new TestReader()
    const meter = new MeterProvider({ readers: [reader] }).getMeter('test')
    const { recorder } = createOtelInstruments(meter, SET, { clientLabel: false })
    recorder.record('requests', { outcome: 'success', client_id: 'billing' }, 1)
    const metrics = await collect(reader)
    expect(metrics.get('ccflow.test.requests')?.dataPoints[0]?.attributes).toEqual({
      outcome: 'success',
    })
  })
})

interface TestMessage extends OperationMessage {
  outcome: string | undefined
}

describe('traceOperations', () => {
  const channels = operationChannels('issuer', 'test-traced')

  function setup(): { exporter: InMemorySpanExporter; stop: () => void } {
    const exporter = new InMemorySpanExporter()
    const provider = new BasicTracerProvider({
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    })
    const stop = traceOperations(
      {
        tracer: provider.getTracer('test'),
        activeContext: () => context.active(),
        setSpan: (c, s) => trace.setSpan(c, s),
      },
      channels,
      {
        name: () => 'ccflow.test',
        attributes: (m: TestMessage) => ({ 'ccflow.outcome': m.outcome ?? 'none' }),
        error: (m: TestMessage) =>
          m.outcome === 'success'
            ? undefined
            : { type: m.outcome ?? 'unknown', serverFault: m.outcome === 'server_error' },
        phaseName: (p) => `ccflow.test.${p.name}`,
        phaseAttributes: (p) => (p.failed ? { 'error.type': 'failed' } : {}),
      },
    )
    return { exporter, stop }
  }

  it('makes one span per operation with a child span per step, at their own times', () => {
    const { exporter, stop } = setup()
    const m: TestMessage = {
      startTime: performance.now(),
      endTime: undefined,
      phases: [],
      outcome: undefined,
    }
    publishStart(channels, m)
    endPhase(beginPhase(m, 'auth'))
    beginPhase(m, 'limit')
    m.outcome = 'too_many_requests'
    publishEnd(channels, m)
    stop()
    const spans = exporter.getFinishedSpans()
    expect(spans.map((s) => s.name)).toEqual([
      'ccflow.test.auth',
      'ccflow.test.limit',
      'ccflow.test',
    ])
    const [auth, limit, root] = spans
    expect(auth?.parentSpanContext?.spanId).toBe(root?.spanContext().spanId)
    expect(limit?.attributes).toEqual({ 'error.type': 'failed' })
    expect(root?.attributes).toEqual({
      'ccflow.outcome': 'too_many_requests',
      'error.type': 'too_many_requests',
    })
    // A refusal is the caller's fault: the status stays unset.
    expect(root?.status.code).toBe(0)
  })

  it('marks a server fault with status ERROR', () => {
    const { exporter, stop } = setup()
    const m: TestMessage = {
      startTime: performance.now(),
      endTime: undefined,
      phases: [],
      outcome: 'server_error',
    }
    publishStart(channels, m)
    publishEnd(channels, m)
    stop()
    expect(exporter.getFinishedSpans()[0]?.status.code).toBe(2)
  })

  it('ends at their start a span and a step published without end times', () => {
    const { exporter, stop } = setup()
    const start = performance.now()
    channels.end.publish({
      startTime: start,
      endTime: undefined,
      outcome: 'success',
      phases: [
        { name: 'auth', detail: undefined, startTime: start, endTime: undefined, failed: false },
      ],
    })
    stop()
    const spans = exporter.getFinishedSpans()
    expect(spans.map((s) => [s.name, s.duration])).toEqual([
      ['ccflow.test.auth', [0, 0]],
      ['ccflow.test', [0, 0]],
    ])
  })

  it('still makes the span of an operation that began before it subscribed', () => {
    const m: TestMessage = {
      startTime: performance.now(),
      endTime: undefined,
      phases: [],
      outcome: 'success',
    }
    const { exporter, stop } = setup()
    publishEnd(channels, m)
    stop()
    const [span] = exporter.getFinishedSpans()
    expect(span?.name).toBe('ccflow.test')
    expect(span?.attributes).toEqual({ 'ccflow.outcome': 'success' })
  })
})

describe('startOtelInstrumentation', () => {
  const channels = operationChannels('client', 'test-started')
  const spans = {
    name: () => 'ccflow.test',
    attributes: () => ({}),
    error: () => undefined,
    phaseName: () => 'ccflow.test.step',
    phaseAttributes: () => ({}),
  }
  const message = (): OperationMessage => ({
    startTime: performance.now(),
    endTime: undefined,
    phases: [],
  })

  it('feeds the instruments on a meter of its scope and traces the operation until stopped', async () => {
    const reader = new TestReader()
    const meterProvider = new MeterProvider({ readers: [reader] })
    const exporter = new InMemorySpanExporter()
    const tracerProvider = new BasicTracerProvider({
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    })
    let unsubscribed = 0
    const stop = startOtelInstrumentation(
      { context, metrics, trace },
      {
        scope: '@ccflow/test',
        meterProvider,
        tracerProvider,
        metrics: {
          set: SET,
          clientLabel: false,
          subscribe: (recorder) => {
            recorder.record('requests', { outcome: 'success' }, 1)
            return () => unsubscribed++
          },
        },
        traces: { channels, spans },
      },
    )
    publishEnd(channels, message())
    const { resourceMetrics } = await reader.collect()
    expect(resourceMetrics.scopeMetrics.map((s) => s.scope.name)).toEqual(['@ccflow/test'])
    expect(exporter.getFinishedSpans().map((s) => [s.name, s.instrumentationScope.name])).toEqual([
      ['ccflow.test', '@ccflow/test'],
    ])
    stop()
    stop()
    publishEnd(channels, message())
    expect(exporter.getFinishedSpans()).toHaveLength(1)
    expect(unsubscribed).toBe(1)
  })

  it('records neither without metrics and traces', () => {
    const getMeterProvider = vi.spyOn(metrics, 'getMeterProvider')
    const getTracerProvider = vi.spyOn(trace, 'getTracerProvider')
    const stop = startOtelInstrumentation(
      { context, metrics, trace },
      {
        scope: '@ccflow/test',
        meterProvider: undefined,
        tracerProvider: undefined,
        metrics: undefined,
        traces: undefined,
      },
    )
    stop()
    expect(getMeterProvider).not.toHaveBeenCalled()
    expect(getTracerProvider).not.toHaveBeenCalled()
    vi.restoreAllMocks()
  })

  it('takes the global providers when none is given', () => {
    const getMeterProvider = vi.spyOn(metrics, 'getMeterProvider')
    const getTracerProvider = vi.spyOn(trace, 'getTracerProvider')
    const stop = startOtelInstrumentation(
      { context, metrics, trace },
      {
        scope: '@ccflow/test',
        meterProvider: undefined,
        tracerProvider: undefined,
        metrics: { set: SET, clientLabel: false, subscribe: () => () => undefined },
        traces: { channels, spans },
      },
    )
    publishEnd(channels, message())
    stop()
    expect(getMeterProvider).toHaveBeenCalledTimes(1)
    expect(getTracerProvider).toHaveBeenCalledTimes(1)
    vi.restoreAllMocks()
  })
})
