import {
  DURATION_BUCKETS_SECONDS,
  labelNames,
  pickLabels,
  prometheusName,
  type MetricLabels,
  type MetricSet,
  type RegisteredMetrics,
} from './metrics.js'
import { PrometheusHistogram } from './prometheus-histogram.js'

/**
 * A metric given to `registerMetric`, as far as the types go: prom-client's own declarations
 * name only `get()` (its `Registry` also reads `name`, and calls `reset()`, which
 * `PrometheusHistogram` has).
 */
export interface PrometheusRegistrable {
  get(): Promise<unknown>
}

/** The part of a prom-client `Registry` used here; structural, so core needs no prom-client. */
export interface PrometheusRegistry {
  registerMetric(metric: PrometheusRegistrable): void
  removeSingleMetric(name: string): void
}

/** What a prom-client metric constructor is given here (`R`: prom-client's `Registry`). */
export interface PrometheusMetricConfig<R extends PrometheusRegistry> {
  name: string
  help: string
  labelNames: readonly string[]
  registers: R[]
  buckets?: number[]
  collect?: () => void
}

/**
 * The prom-client classes used here (pass `import * as client from 'prom-client'`): the package
 * that owns the adapter imports prom-client, core only describes its shape.
 */
export interface PrometheusClient<R extends PrometheusRegistry> {
  Counter: new (config: PrometheusMetricConfig<R>) => {
    inc(labels: Record<string, string>, value: number): void
    inc(value: number): void
  }
  Gauge: new (config: PrometheusMetricConfig<R>) => {
    set(labels: Record<string, string>, value: number): void
    remove(labels: Record<string, string>): void
    reset(): void
  }
}

/**
 * Registers every metric of `set` on `registry` as a prom-client counter, histogram or gauge
 * (gauges read their values at scrape time) and returns the recorder that feeds them. A gauge
 * without labels whose reader has no value is left out of the scrape, not reported as 0 (which
 * prom-client would otherwise write, and an alert would read as a real value).
 *
 * @throws {Error} prom-client's, when a metric of the same name is already registered; the
 *   metrics registered before it are removed again.
 */
export function registerPrometheusMetrics<K extends string, R extends PrometheusRegistry>(
  client: PrometheusClient<R>,
  registry: R,
  set: MetricSet<K>,
  options: { readonly prefix: string; readonly clientLabel: boolean },
): RegisteredMetrics<K> {
  const writers = new Map<K, (labels: MetricLabels, value: number) => void>()
  const names: string[] = []
  const unregister = (): void => {
    for (const name of names.splice(0)) registry.removeSingleMetric(name)
  }
  try {
    for (const key of Object.keys(set.metrics) as K[]) {
      const metric = set.metrics[key]
      const labels = labelNames(metric, options.clientLabel)
      const picker = labelPicker(labels)
      const config: PrometheusMetricConfig<R> = {
        name: prometheusName(metric, options.prefix),
        help: metric.description,
        labelNames: labels,
        registers: [registry],
      }
      // An unlabelled metric takes prom-client's shortest path (no label hashing); a frozen
      // labels object (a publisher's precomputed one) is picked once, not on every call.
      if (metric.kind === 'counter') {
        if (labels.length === 0) {
          writers.set(key, pendingUnlabelledCounter(client, config))
        } else {
          writers.set(key, pendingCounter(client, config, picker))
        }
      } else if (metric.kind === 'histogram') {
        const buckets = metric.buckets ?? DURATION_BUCKETS_SECONDS
        const histogram = new PrometheusHistogram(config.name, config.help, labels, buckets)
        registry.registerMetric(histogram)
        writers.set(key, (values, value) => histogram.observe(values, value))
      } else {
        const read = set.gauges[key]
        const gauge: InstanceType<PrometheusClient<R>['Gauge']> = new client.Gauge({
          ...config,
          collect: () => {
            gauge.reset()
            const readings = read?.() ?? []
            for (const reading of readings) {
              gauge.set(pickLabels(labels, reading.labels), reading.value)
            }
            if (readings.length === 0 && labels.length === 0) gauge.remove({})
          },
        })
      }
      names.push(config.name)
    }
  } catch (error) {
    unregister()
    throw error
  }
  return {
    recorder: {
      record(metric, labels, value) {
        writers.get(metric)?.(labels, value)
      },
    },
    unregister,
  }
}

// Distinct label sets a counter holds between two scrapes before it hands them on at once.
const MAX_PENDING_LABEL_SETS = 1000

/**
 * A labelled counter that adds up records made with frozen labels objects (a publisher's
 * precomputed label sets) itself and hands the sums to prom-client when prom-client collects it,
 * on every scrape: one `Map` update per record on the request path instead of prom-client's
 * label validation and hashing. Values are exact at every scrape. Other labels objects, and
 * every record once {@link MAX_PENDING_LABEL_SETS} sets are pending (a publisher that freezes a
 * new object per call), go to prom-client at once.
 */
function pendingCounter<R extends PrometheusRegistry>(
  client: PrometheusClient<R>,
  config: PrometheusMetricConfig<R>,
  picker: (values: MetricLabels) => Record<string, string>,
): (labels: MetricLabels, value: number) => void {
  const pending = new Map<MetricLabels, number>()
  const counter = new client.Counter({
    ...config,
    collect: () => {
      for (const [values, sum] of pending) counter.inc(picker(values), sum)
      pending.clear()
    },
  })
  return (values, value) => {
    // A value prom-client refuses (negative, not finite) is refused now, not at the scrape.
    if (!(value >= 0 && value < Infinity)) {
      counter.inc(picker(values), value)
      return
    }
    // Only frozen objects are kept, so a labels object found here is frozen.
    const sum = pending.get(values)
    if (sum !== undefined) pending.set(values, sum + value)
    else if (pending.size < MAX_PENDING_LABEL_SETS && Object.isFrozen(values)) {
      pending.set(values, value)
    } else counter.inc(picker(values), value)
  }
}

/** An unlabelled counter that adds up its records and hands the sum over on every scrape. */
function pendingUnlabelledCounter<R extends PrometheusRegistry>(
  client: PrometheusClient<R>,
  config: PrometheusMetricConfig<R>,
): (labels: MetricLabels, value: number) => void {
  let pending = 0
  const counter = new client.Counter({
    ...config,
    collect: () => {
      if (pending > 0) counter.inc(pending)
      pending = 0
    },
  })
  return (_values, value) => {
    // A value prom-client refuses (negative, not finite) is refused now, not at the scrape.
    if (value >= 0 && value < Infinity) pending += value
    else counter.inc(value)
  }
}

/**
 * `pickLabels(names, values)`, remembered for frozen `values` objects: a publisher that reuses one
 * frozen labels object per label set (the guard does) costs no allocation per call.
 */
function labelPicker(names: readonly string[]): (values: MetricLabels) => Record<string, string> {
  const picked = new WeakMap<MetricLabels, Record<string, string>>()
  return (values) => {
    let labels = picked.get(values)
    if (labels === undefined) {
      labels = pickLabels(names, values)
      if (Object.isFrozen(values)) picked.set(values, labels)
    }
    return labels
  }
}
