/** How a metric aggregates: a monotonic counter, a histogram, or a gauge read at collection. */
export type MetricKind = 'counter' | 'histogram' | 'gauge'

/**
 * One metric of a package, written once for both adapters. `name` is the OpenTelemetry name
 * (dotted); {@link prometheusName} derives the Prometheus name the same way OpenTelemetry's
 * Prometheus exporter does, so a dashboard works whichever adapter fed it.
 */
export interface MetricDefinition {
  /** OpenTelemetry instrument name, such as `ccflow.issuer.token_request.duration`. */
  readonly name: string
  readonly kind: MetricKind
  /** UCUM unit: `s` for durations (adds `_seconds`), `{request}`-style annotations otherwise. */
  readonly unit: string
  /** One sentence: the Prometheus help text and the OpenTelemetry description. */
  readonly description: string
  /** The label (attribute) names, each with a fixed vocabulary. */
  readonly labels: readonly string[]
  /** Whether the metric gains a `client_id` label when the operator lists client ids. */
  readonly perClient?: boolean | undefined
  /** Histogram bucket boundaries; @default {@link DURATION_BUCKETS_SECONDS} */
  readonly buckets?: readonly number[] | undefined
}

/**
 * The bucket boundaries OpenTelemetry's semantic conventions advise for request durations in
 * seconds (`http.server.request.duration`): 5 ms to 10 s.
 */
export const DURATION_BUCKETS_SECONDS: readonly number[] = Object.freeze([
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
])

/** The label holding a listed client id (see `clientIdLabel`). */
export const CLIENT_ID_LABEL = 'client_id'

/**
 * The Prometheus name of a metric: dots become underscores, a duration in seconds gains
 * `_seconds`, a counter `_total`, and `prefix` goes in front
 * (`ccflow.issuer.token_request.duration` → `ccflow_issuer_token_request_duration_seconds`).
 */
export function prometheusName(metric: MetricDefinition, prefix = ''): string {
  const base = prefix + metric.name.replaceAll('.', '_')
  const unit = metric.unit === 's' ? '_seconds' : ''
  return base + unit + (metric.kind === 'counter' ? '_total' : '')
}

/** The label names of a metric, with `client_id` when it is per client and ids are listed. */
export function labelNames(metric: MetricDefinition, clientLabel: boolean): readonly string[] {
  return clientLabel && metric.perClient === true
    ? [...metric.labels, CLIENT_ID_LABEL]
    : metric.labels
}

/** Label values by label name. */
export type MetricLabels = Readonly<Record<string, string>>

/**
 * Where a package's translation of its channel messages writes, whichever adapter is attached:
 * `record` adds `value` to a counter or observes it on a histogram. Labels not in the metric's
 * label names (a `client_id` while no ids are listed) are dropped by the adapter.
 */
export interface MetricRecorder<K extends string> {
  record(metric: K, labels: MetricLabels, value: number): void
}

/** One value of a gauge. */
export interface GaugeReading {
  readonly labels: MetricLabels
  readonly value: number
}

/** Reads a gauge's values when the metrics are collected. */
export type GaugeReader = () => readonly GaugeReading[]

/** A package's metrics: their definitions by key and the readers of its gauges. */
export interface MetricSet<K extends string> {
  readonly metrics: Readonly<Record<K, MetricDefinition>>
  readonly gauges: Readonly<Partial<Record<K, GaugeReader>>>
}

/** Keeps only the labels a metric has (in its order), so every series has the same label set. */
export function pickLabels(names: readonly string[], labels: MetricLabels): Record<string, string> {
  const picked: Record<string, string> = {}
  for (const name of names) {
    const value = labels[name]
    if (value !== undefined) picked[name] = value
  }
  return picked
}

/** A metric set attached to an adapter: where to record, and how to detach it again. */
export interface RegisteredMetrics<K extends string> {
  readonly recorder: MetricRecorder<K>
  /** Takes the metrics off the registry (Prometheus) or detaches the gauge callbacks (OTel). */
  readonly unregister: () => void
}
