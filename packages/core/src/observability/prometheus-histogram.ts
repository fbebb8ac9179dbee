import { pickLabels, type MetricLabels } from './metrics.js'

/**
 * One exported sample of a histogram, in the form prom-client's `Registry` formats (the
 * `get()` form of its own metrics: every label in `labels`).
 */
export interface PrometheusSample {
  readonly labels: Readonly<Record<string, string | number>>
  readonly value: number
  readonly metricName: string
}

/** What a prom-client `Registry` reads from a metric registered with `registerMetric`. */
export interface PrometheusMetricSnapshot {
  readonly name: string
  readonly help: string
  readonly type: 'histogram'
  readonly values: PrometheusSample[]
  readonly aggregator: 'sum'
}

/** One label set's observations: counts per bucket (not cumulative; the last is `+Inf`). */
interface Series {
  readonly labels: Readonly<Record<string, string>>
  readonly counts: Float64Array
  sum: number
  count: number
}

/**
 * A Prometheus histogram that a prom-client `Registry` exports like its own `Histogram` (same
 * samples, same text), registered with `registry.registerMetric`.
 *
 * Written here because prom-client's `observe` validates and hashes the labels and indexes the
 * buckets by their bounds as property names on every call: about 4,000 instructions per
 * observation (callgrind, on the token endpoint), most of the Prometheus adapter's cost on a
 * request. Here an observation made with a frozen labels object (a publisher's precomputed label
 * set) is one `WeakMap` lookup, a scan of the bounds and three additions; any other labels
 * object is picked and keyed by its values, as prom-client would. prom-client has no API to add
 * counts that were summed elsewhere, so the export is written here too, to its sample format.
 */
export class PrometheusHistogram {
  /** What prom-client writes on the `# TYPE` line. */
  readonly type = 'histogram'
  /** How prom-client's `AggregatorRegistry` combines cluster workers' values. */
  readonly aggregator = 'sum'
  readonly #bounds: Float64Array
  readonly #series = new Map<string, Series>()
  // Frozen labels objects seen before, to their series: no picking or keying on the hot path.
  #byLabels = new WeakMap<MetricLabels, Series>()

  /** The Prometheus name. */
  readonly name: string
  /** The help text. */
  readonly help: string
  /** The label names; other labels of an observation are dropped. */
  readonly labelNames: readonly string[]

  /**
   * @param name The Prometheus name (`…_seconds`).
   * @param help The help text.
   * @param labelNames The metric's label names; other labels of an observation are dropped.
   * @param bounds Bucket upper bounds, ascending, without `+Inf`.
   * @throws {TypeError} When the bounds are not finite and strictly ascending, or a label is `le`.
   */
  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    bounds: readonly number[],
  ) {
    this.name = name
    this.help = help
    this.labelNames = labelNames
    if (labelNames.includes('le')) throw new TypeError(`${name}: "le" is a reserved label name`)
    bounds.forEach((bound, i) => {
      if (!Number.isFinite(bound) || (i > 0 && bound <= (bounds[i - 1] as number))) {
        throw new TypeError(`${name}: bucket bounds must be finite and strictly ascending`)
      }
    })
    this.#bounds = Float64Array.from(bounds)
  }

  /**
   * Observes `value` for the label set `labels`.
   *
   * @throws {TypeError} When `value` is not a finite number (as prom-client's `observe`).
   */
  observe(labels: MetricLabels, value: number): void {
    if (!Number.isFinite(value)) throw new TypeError(`${this.name}: value is not a valid number`)
    const series = this.#byLabels.get(labels) ?? this.#seriesOf(labels)
    const bounds = this.#bounds
    let i = 0
    while (i < bounds.length && value > (bounds[i] as number)) i++
    ;(series.counts[i] as number)++
    series.sum += value
    series.count++
  }

  #seriesOf(labels: MetricLabels): Series {
    const picked = pickLabels(this.labelNames, labels)
    // JSON keeps every label set apart (a joined string would not, for values holding the joiner).
    const key = JSON.stringify(this.labelNames.map((name) => picked[name] ?? null))
    let series = this.#series.get(key)
    if (series === undefined) {
      series = {
        labels: Object.freeze(picked),
        counts: new Float64Array(this.#bounds.length + 1),
        sum: 0,
        count: 0,
      }
      this.#series.set(key, series)
    }
    if (Object.isFrozen(labels)) this.#byLabels.set(labels, series)
    return series
  }

  /** The samples, as prom-client's `Histogram.get()` gives them: buckets, `_sum`, `_count`. */
  get(): Promise<PrometheusMetricSnapshot> {
    const values: PrometheusSample[] = []
    const bucketName = `${this.name}_bucket`
    for (const series of this.#series.values()) {
      let cumulative = 0
      this.#bounds.forEach((bound, i) => {
        cumulative += series.counts[i] as number
        values.push({
          labels: { le: bound, ...series.labels },
          value: cumulative,
          metricName: bucketName,
        })
      })
      values.push(
        { labels: { le: '+Inf', ...series.labels }, value: series.count, metricName: bucketName },
        { labels: { ...series.labels }, value: series.sum, metricName: `${this.name}_sum` },
        { labels: { ...series.labels }, value: series.count, metricName: `${this.name}_count` },
      )
    }
    return Promise.resolve({
      name: this.name,
      help: this.help,
      type: this.type,
      values,
      aggregator: this.aggregator,
    })
  }

  /** Forgets every observation (prom-client's `Registry.resetMetrics` calls it). */
  reset(): void {
    this.#series.clear()
    // Remembered labels objects point at the cleared series: forget them too.
    this.#byLabels = new WeakMap()
  }
}
