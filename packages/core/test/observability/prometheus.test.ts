import * as client from 'prom-client'
import { describe, expect, it } from 'vitest'
import type { MetricSet } from '../../src/observability/metrics.js'
import { registerPrometheusMetrics } from '../../src/observability/prometheus.js'

type Key = 'requests' | 'duration' | 'keys'

function metricSet(readKeys: () => number): MetricSet<Key> {
  return {
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
        buckets: [0.1, 1],
      },
      keys: {
        name: 'ccflow.test.keys',
        kind: 'gauge',
        unit: '{key}',
        description: 'Keys.',
        labels: ['state'],
      },
    },
    gauges: { keys: () => [{ labels: { state: 'active' }, value: readKeys() }] },
  }
}

/** A fresh registry with the test metric set registered on it (no prefix, no client label). */
function registered(readKeys: () => number = () => 0) {
  const registry = new client.Registry()
  const { recorder } = registerPrometheusMetrics(client, registry, metricSet(readKeys), {
    prefix: '',
    clientLabel: false,
  })
  return { registry, recorder }
}

describe('registerPrometheusMetrics', () => {
  it('records unlabelled metrics and frozen, reused labels objects', async () => {
    const registry = new client.Registry()
    const set: MetricSet<'hits' | 'time' | 'requests'> = {
      metrics: {
        hits: {
          name: 'ccflow.test.hits',
          kind: 'counter',
          unit: '{hit}',
          description: 'Hits.',
          labels: [],
        },
        time: {
          name: 'ccflow.test.time',
          kind: 'histogram',
          unit: 's',
          description: 'Time.',
          labels: [],
          buckets: [1],
        },
        requests: {
          name: 'ccflow.test.requests',
          kind: 'counter',
          unit: '{request}',
          description: 'Requests.',
          labels: ['outcome'],
        },
      },
      gauges: {},
    }
    const { recorder } = registerPrometheusMetrics(client, registry, set, {
      prefix: '',
      clientLabel: false,
    })
    const success = Object.freeze({ outcome: 'success', extra: 'dropped' })
    recorder.record('hits', {}, 1)
    recorder.record('hits', { ignored: 'x' }, 2)
    expect(() => recorder.record('hits', {}, -1)).toThrow()
    recorder.record('time', {}, 0.5)
    recorder.record('requests', success, 1)
    recorder.record('requests', success, 1)
    const text = await registry.metrics()
    expect(text).toContain('ccflow_test_hits_total 3')
    expect(text).toContain('ccflow_test_time_seconds_bucket{le="1"} 1')
    expect(text).toContain('ccflow_test_requests_total{outcome="success"} 2')
  })

  it('sums frozen labels between scrapes and hands prom-client exact totals at every scrape', async () => {
    const { registry, recorder } = registered()
    const success = Object.freeze({ outcome: 'success' })
    const refused = Object.freeze({ outcome: 'invalid_client' })
    for (let i = 0; i < 5; i++) recorder.record('requests', success, 1)
    recorder.record('requests', refused, 2)
    recorder.record('requests', { outcome: 'success' }, 1) // not frozen: straight to prom-client
    const first = await registry.metrics()
    expect(first).toContain('ccflow_test_requests_total{outcome="success"} 6')
    expect(first).toContain('ccflow_test_requests_total{outcome="invalid_client"} 2')
    recorder.record('requests', success, 1)
    const json = await registry.getMetricsAsJSON()
    const values = json.find((m) => m.name === 'ccflow_test_requests_total')?.values
    expect(values).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ labels: { outcome: 'success' }, value: 7 }),
        expect.objectContaining({ labels: { outcome: 'invalid_client' }, value: 2 }),
      ]),
    )
    expect(await registry.metrics()).toContain('ccflow_test_requests_total{outcome="success"} 7')
  })

  it('refuses a negative count at once, not at the next scrape', async () => {
    const { registry, recorder } = registered()
    const success = Object.freeze({ outcome: 'success' })
    expect(() => recorder.record('requests', success, -1)).toThrow()
    recorder.record('requests', success, 1)
    expect(await registry.metrics()).toContain('ccflow_test_requests_total{outcome="success"} 1')
  })

  it('counts at once past 1000 pending label sets (a publisher freezing a new object per call)', async () => {
    const { registry, recorder } = registered()
    for (let i = 0; i < 3000; i++) recorder.record('requests', Object.freeze({ outcome: 'x' }), 1)
    expect(await registry.metrics()).toContain('ccflow_test_requests_total{outcome="x"} 3000')
  })

  it('leaves an unlabelled gauge without a reading out of the scrape instead of writing 0', async () => {
    const registry = new client.Registry()
    let readings: { labels: Record<string, string>; value: number }[] = []
    const set: MetricSet<'age'> = {
      metrics: {
        age: {
          name: 'ccflow.test.age',
          kind: 'gauge',
          unit: 's',
          description: 'Age.',
          labels: [],
        },
      },
      gauges: { age: () => readings },
    }
    registerPrometheusMetrics(client, registry, set, { prefix: '', clientLabel: false })
    const values = async (): Promise<unknown> =>
      (await registry.getMetricsAsJSON()).find((m) => m.name === 'ccflow_test_age_seconds')?.values
    expect(await values()).toEqual([])
    readings = [{ labels: {}, value: 7 }]
    expect(await values()).toEqual([{ labels: {}, value: 7 }])
    readings = []
    expect(await values()).toEqual([])
  })

  it('registers a counter, a histogram and a gauge read at scrape time', async () => {
    const registry = new client.Registry()
    let keys = 1
    const { recorder } = registerPrometheusMetrics(
      client,
      registry,
      metricSet(() => keys),
      {
        prefix: '',
        clientLabel: false,
      },
    )
    recorder.record('requests', { outcome: 'success', client_id: 'dropped' }, 1)
    recorder.record('requests', { outcome: 'success' }, 2)
    recorder.record('duration', { outcome: 'success' }, 0.05)
    keys = 2
    const text = await registry.metrics()
    expect(text).toContain('ccflow_test_requests_total{outcome="success"} 3')
    expect(text).toContain(
      'ccflow_test_request_duration_seconds_bucket{le="0.1",outcome="success"} 1',
    )
    expect(text).toContain('ccflow_test_keys{state="active"} 2')
  })

  it('adds the client_id label to per-client metrics and the prefix to every name', async () => {
    const registry = new client.Registry()
    const { recorder } = registerPrometheusMetrics(
      client,
      registry,
      metricSet(() => 0),
      {
        prefix: 'shop_',
        clientLabel: true,
      },
    )
    recorder.record('requests', { outcome: 'success', client_id: 'billing' }, 1)
    const text = await registry.metrics()
    expect(text).toContain(
      'shop_ccflow_test_requests_total{outcome="success",client_id="billing"} 1',
    )
    expect(text).toContain('# TYPE shop_ccflow_test_request_duration_seconds histogram')
  })

  it('uses the advised duration buckets when a histogram names none', async () => {
    const registry = new client.Registry()
    const set = metricSet(() => 0)
    const { recorder } = registerPrometheusMetrics(
      client,
      registry,
      {
        ...set,
        metrics: { ...set.metrics, duration: { ...set.metrics.duration, buckets: undefined } },
      },
      { prefix: '', clientLabel: false },
    )
    recorder.record('duration', { outcome: 'success' }, 0.2)
    expect(await registry.metrics()).toContain('le="7.5"')
  })

  it('reads nothing for a gauge that has no reader', async () => {
    const registry = new client.Registry()
    registerPrometheusMetrics(
      client,
      registry,
      { ...metricSet(() => 0), gauges: {} },
      {
        prefix: '',
        clientLabel: false,
      },
    )
    expect(await registry.metrics()).not.toMatch(/^ccflow_test_keys/m)
  })

  it('takes every metric off the registry when unregistered', async () => {
    const registry = new client.Registry()
    const { unregister } = registerPrometheusMetrics(
      client,
      registry,
      metricSet(() => 0),
      {
        prefix: '',
        clientLabel: false,
      },
    )
    unregister()
    expect(await registry.getMetricsAsJSON()).toEqual([])
    // The names are free again.
    registerPrometheusMetrics(
      client,
      registry,
      metricSet(() => 0),
      { prefix: '', clientLabel: false },
    )
    expect(await registry.getMetricsAsJSON()).toHaveLength(3)
  })

  it('throws prom-client error on a name clash and leaves nothing of its own behind', async () => {
    const registry = new client.Registry()
    new client.Gauge({ name: 'ccflow_test_keys', help: 'taken', registers: [registry] })
    expect(() =>
      registerPrometheusMetrics(
        client,
        registry,
        metricSet(() => 0),
        { prefix: '', clientLabel: false },
      ),
    ).toThrow(/already been registered/)
    expect((await registry.getMetricsAsJSON()).map((m) => m.name)).toEqual(['ccflow_test_keys'])
  })
})
