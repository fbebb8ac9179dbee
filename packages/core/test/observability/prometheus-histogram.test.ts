import * as client from 'prom-client'
import { describe, expect, it } from 'vitest'
import type { PrometheusRegistry } from '../../src/observability/prometheus.js'
import { PrometheusHistogram } from '../../src/observability/prometheus-histogram.js'

const BOUNDS = [0.005, 0.01, 0.1, 1, 2.5]
const NAME = 'ccflow_test_duration_seconds'

// Observations that hit every bucket, a bound exactly (le is inclusive), 0 and +Inf's bucket.
const OBSERVATIONS: readonly (readonly [Record<string, string>, number])[] = [
  [{ outcome: 'success' }, 0.004],
  [{ outcome: 'success' }, 0.005],
  [{ outcome: 'success' }, 0.0051],
  [{ outcome: 'success' }, 0.3],
  [{ outcome: 'success' }, 0],
  [{ outcome: 'invalid_client' }, 2.5],
  [{ outcome: 'invalid_client' }, 9],
  [{ outcome: 'invalid_client' }, 1],
]

/** The same observations on prom-client's own Histogram and on ours, each on its own registry. */
function bothExpositions(openMetrics = false) {
  const registry = (): client.Registry<client.RegistryContentType> => {
    const created = new client.Registry<client.RegistryContentType>()
    if (openMetrics) created.setContentType(client.Registry.OPENMETRICS_CONTENT_TYPE)
    return created
  }
  const theirs = registry()
  const reference = new client.Histogram({
    name: NAME,
    help: 'Duration.',
    labelNames: ['outcome'],
    buckets: BOUNDS,
    registers: [theirs],
  })
  const ours = registry()
  const histogram = new PrometheusHistogram(NAME, 'Duration.', ['outcome'], BOUNDS)
  // Through the structural type the adapter uses: prom-client's declarations list only its own
  // metric classes.
  const registrar: PrometheusRegistry = ours
  registrar.registerMetric(histogram)
  for (const [labels, value] of OBSERVATIONS) {
    reference.observe(labels, value)
    histogram.observe(Object.freeze({ ...labels }), value)
  }
  return { theirs, ours, histogram }
}

describe('PrometheusHistogram', () => {
  it('exports exactly what prom-client’s Histogram exports for the same observations', async () => {
    const { theirs, ours } = bothExpositions()
    expect(await ours.metrics()).toBe(await theirs.metrics())
    expect(await ours.getMetricsAsJSON()).toEqual(
      (await theirs.getMetricsAsJSON()).map((metric) => ({
        ...metric,
        // prom-client writes `exemplar: null` on its buckets; there are no exemplars here.
        values: metric.values.map((value) => {
          const { exemplar, ...rest } = value as typeof value & { exemplar?: unknown }
          expect(exemplar ?? null).toBeNull()
          return rest
        }),
      })),
    )
  })

  it('exports the same OpenMetrics text as prom-client', async () => {
    const { theirs, ours } = bothExpositions(true)
    expect(await ours.metrics()).toBe(await theirs.metrics())
  })

  it('counts a value equal to a bound in that bound’s bucket, and cumulates the buckets', async () => {
    const histogram = new PrometheusHistogram(NAME, 'Duration.', [], [0.1, 1])
    histogram.observe({}, 0.1)
    histogram.observe({}, 1.5)
    const { values } = await histogram.get()
    expect(values.map((v) => [v.metricName, v.labels, v.value])).toEqual([
      [`${NAME}_bucket`, { le: 0.1 }, 1],
      [`${NAME}_bucket`, { le: 1 }, 1],
      [`${NAME}_bucket`, { le: '+Inf' }, 2],
      [`${NAME}_sum`, {}, 1.6],
      [`${NAME}_count`, {}, 2],
    ])
  })

  it('keeps one series per label values, whether the labels objects are frozen, reused or new', async () => {
    const histogram = new PrometheusHistogram(NAME, 'Duration.', ['outcome'], [1])
    const frozen = Object.freeze({ outcome: 'success' })
    histogram.observe(frozen, 0.5)
    histogram.observe(frozen, 0.5)
    histogram.observe({ outcome: 'success' }, 0.5)
    histogram.observe(Object.freeze({ outcome: 'success' }), 0.5)
    const counts = (await histogram.get()).values.filter((v) => v.metricName === `${NAME}_count`)
    expect(counts).toEqual([
      { labels: { outcome: 'success' }, value: 4, metricName: `${NAME}_count` },
    ])
  })

  it('reads a labels object that is not frozen afresh on every call (it may have changed)', async () => {
    const histogram = new PrometheusHistogram(NAME, 'Duration.', ['outcome'], [1])
    const labels: Record<string, string> = { outcome: 'success' }
    histogram.observe(labels, 0.5)
    labels['outcome'] = 'invalid_client'
    histogram.observe(labels, 0.5)
    const counts = (await histogram.get()).values.filter((v) => v.metricName === `${NAME}_count`)
    expect(counts.map((v) => [v.labels, v.value])).toEqual([
      [{ outcome: 'success' }, 1],
      [{ outcome: 'invalid_client' }, 1],
    ])
  })

  it('keeps label sets apart whatever characters their values hold', async () => {
    const histogram = new PrometheusHistogram(NAME, 'Duration.', ['a', 'b'], [1])
    histogram.observe({ a: 'x\u0001', b: 'y' }, 0.5)
    histogram.observe({ a: 'x', b: '\u0001y' }, 0.5)
    histogram.observe({ a: 'null' }, 0.5)
    histogram.observe({}, 0.5)
    const counts = (await histogram.get()).values.filter((v) => v.metricName === `${NAME}_count`)
    expect(counts.map((v) => [v.labels, v.value])).toEqual([
      [{ a: 'x\u0001', b: 'y' }, 1],
      [{ a: 'x', b: '\u0001y' }, 1],
      [{ a: 'null' }, 1],
      [{}, 1],
    ])
  })

  it('drops labels the metric does not have and leaves a missing one out of the series', async () => {
    const histogram = new PrometheusHistogram(NAME, 'Duration.', ['outcome', 'client_id'], [1])
    histogram.observe({ outcome: 'success', route: '/x' }, 0.5)
    const { values } = await histogram.get()
    expect(values.at(-1)).toEqual({
      labels: { outcome: 'success' },
      value: 1,
      metricName: `${NAME}_count`,
    })
  })

  it('refuses a value that is not a finite number, as prom-client does, and records nothing', async () => {
    const histogram = new PrometheusHistogram(NAME, 'Duration.', [], [1])
    for (const value of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      expect(() => histogram.observe({}, value)).toThrow(TypeError)
    }
    expect((await histogram.get()).values).toEqual([])
  })

  it('refuses bounds that are not finite and strictly ascending, and an "le" label', () => {
    expect(() => new PrometheusHistogram(NAME, 'h', [], [1, 1])).toThrow(/strictly ascending/)
    expect(() => new PrometheusHistogram(NAME, 'h', [], [2, 1])).toThrow(/strictly ascending/)
    expect(() => new PrometheusHistogram(NAME, 'h', [], [1, Infinity])).toThrow(/finite/)
    expect(() => new PrometheusHistogram(NAME, 'h', ['le'], [1])).toThrow(/reserved/)
  })

  it('starts from zero after the registry resets its metrics, frozen labels included', async () => {
    const { ours, histogram } = bothExpositions()
    ours.resetMetrics()
    expect((await histogram.get()).values).toEqual([])
    histogram.observe(Object.freeze({ outcome: 'success' }), 0.5)
    const counts = (await histogram.get()).values.filter((v) => v.metricName === `${NAME}_count`)
    expect(counts.map((v) => v.value)).toEqual([1])
  })

  it('adds up across cluster workers like prom-client’s histograms (AggregatorRegistry)', async () => {
    const first = bothExpositions()
    const second = bothExpositions()
    const aggregate = (registries: client.Registry<client.RegistryContentType>[]) =>
      Promise.all(registries.map((r) => r.getMetricsAsJSON())).then((all) =>
        client.AggregatorRegistry.aggregate(all).metrics(),
      )
    expect(await aggregate([first.ours, second.ours])).toBe(
      await aggregate([first.theirs, second.theirs]),
    )
  })
})
