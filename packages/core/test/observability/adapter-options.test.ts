import * as client from 'prom-client'
import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import {
  checkMetricPrefix,
  checkOtelProvider,
  checkPrometheusRegistry,
  OTEL_ADAPTER_OPTIONS,
  resolveOtelAdapterOptions,
  startPrometheusAdapter,
} from '../../src/observability/adapter-options.js'
import type { MetricSet } from '../../src/observability/metrics.js'

describe('checkPrometheusRegistry', () => {
  it('returns a prom-client registry', () => {
    const registry = new Registry()
    expect(checkPrometheusRegistry(registry, 'registerX')).toBe(registry)
  })

  it.each([
    ['nothing', undefined],
    ['null', null],
    ['an object without removeSingleMetric', {}],
    ['an object without registerMetric', { removeSingleMetric: () => undefined }],
  ])('throws a TypeError naming the option for %s', (_, value) => {
    expect(() => checkPrometheusRegistry(value as never, 'registerX')).toThrow(
      new TypeError('registerX: option "registry" is required and must be a prom-client Registry'),
    )
  })
})

describe('checkMetricPrefix', () => {
  it.each([
    [undefined, ''],
    ['', ''],
    ['myapp_', 'myapp_'],
    ['a:b_', 'a:b_'],
  ])('accepts %j as %j', (value, expected) => {
    expect(checkMetricPrefix(value, 'registerX')).toBe(expected)
  })

  it.each([['1x'], ['my-app'], [7]])('throws a TypeError for %j', (value) => {
    expect(() => checkMetricPrefix(value, 'registerX')).toThrow(
      /^registerX: option "prefix" must be a Prometheus name prefix such as "myapp_"$/,
    )
  })
})

describe('checkOtelProvider', () => {
  it('returns undefined when not given, and a provider with the method', () => {
    const provider = { getMeter: () => undefined }
    expect(checkOtelProvider(undefined, 'registerX', 'meterProvider', 'getMeter')).toBeUndefined()
    expect(checkOtelProvider(provider, 'registerX', 'meterProvider', 'getMeter')).toBe(provider)
  })

  it.each([
    ['a string', 'x'],
    ['null', null],
    ['an object without the method', {}],
  ])('throws a TypeError for %s', (_, value) => {
    expect(() => checkOtelProvider(value, 'registerX', 'tracerProvider', 'getTracer')).toThrow(
      new TypeError(
        'registerX: option "tracerProvider" must be an OpenTelemetry provider with getTracer()',
      ),
    )
  })
})

describe('resolveOtelAdapterOptions', () => {
  const meterProvider = { getMeter: () => ({}) }

  it('defaults to the global providers with metrics and traces on', () => {
    expect(resolveOtelAdapterOptions({}, 'registerX')).toEqual({
      meterProvider: undefined,
      tracerProvider: undefined,
      metrics: true,
      traces: true,
    })
    expect(
      resolveOtelAdapterOptions({ meterProvider, metrics: false, traces: false }, 'registerX'),
    ).toEqual({ meterProvider, tracerProvider: undefined, metrics: false, traces: false })
  })

  it('refuses an unknown key, a provider without its method and a non-boolean switch', () => {
    expect(() => resolveOtelAdapterOptions({ tracer: 1 } as never, 'registerX')).toThrow(
      /^registerX: unknown option "tracer"/,
    )
    expect(() => resolveOtelAdapterOptions({ tracerProvider: meterProvider }, 'registerX')).toThrow(
      'registerX: option "tracerProvider" must be an OpenTelemetry provider with getTracer()',
    )
    expect(() => resolveOtelAdapterOptions({ traces: 'yes' } as never, 'registerX')).toThrow(
      'registerX: option "traces" must be a boolean',
    )
  })

  it("accepts a package's own keys beside the common ones", () => {
    const table = { ...OTEL_ADAPTER_OPTIONS, clientIds: true } as const
    expect(() =>
      resolveOtelAdapterOptions({ clientIds: ['a'] } as never, 'registerX', table),
    ).not.toThrow()
  })
})

describe('startPrometheusAdapter', () => {
  const set: MetricSet<'requests'> = {
    metrics: {
      requests: {
        name: 'ccflow.test.adapter_requests',
        kind: 'counter',
        unit: '{request}',
        description: 'Requests.',
        labels: ['outcome'],
        perClient: true,
      },
    },
    gauges: {},
  }
  const adapter = (perClient: boolean) => ({
    where: 'registerTestMetrics',
    known: { registry: true, prefix: true, clientIds: true } as const,
    set,
    perClient,
  })

  it('checks the options, registers the set, feeds it through subscribe and undoes both', async () => {
    const registry = new Registry()
    let unsubscribed = false
    const stop = startPrometheusAdapter(
      client,
      { registry, prefix: 'app_', clientIds: ['billing'] },
      adapter(true),
      (recorder, label) => {
        recorder.record('requests', { outcome: 'success', client_id: label?.('billing') ?? '' }, 1)
        recorder.record('requests', { outcome: 'success', client_id: label?.('x') ?? '' }, 1)
        return () => {
          unsubscribed = true
        }
      },
    )
    const text = await registry.metrics()
    expect(text).toContain(
      'app_ccflow_test_adapter_requests_total{outcome="success",client_id="billing"} 1',
    )
    expect(text).toContain(
      'app_ccflow_test_adapter_requests_total{outcome="success",client_id="other"} 1',
    )
    stop()
    expect(unsubscribed).toBe(true)
    expect(await registry.getMetricsAsJSON()).toEqual([])
  })

  it('gives subscribe no client label without perClient, and refuses bad options by name', () => {
    const registry = new Registry()
    let seen: unknown = 'unset'
    startPrometheusAdapter(client, { registry }, adapter(false), (_recorder, label) => {
      seen = label
      return () => undefined
    })()
    expect(seen).toBeUndefined()
    const none = () => () => undefined
    expect(() => startPrometheusAdapter(client, 'x', adapter(false), none)).toThrow(
      /registerTestMetrics/,
    )
    expect(() =>
      startPrometheusAdapter(client, { registry, prefx: 'a_' }, adapter(false), none),
    ).toThrow(/prefx/)
    expect(() => startPrometheusAdapter(client, {}, adapter(false), none)).toThrow(/registry/)
    expect(() =>
      startPrometheusAdapter(client, { registry, clientIds: 'billing' }, adapter(true), none),
    ).toThrow(/clientIds/)
  })
})
