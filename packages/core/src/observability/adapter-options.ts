import { checkBoolean, checkObject, checkString } from '../options/check.js'
import { checkKnownKeys } from '../options/keys.js'
import { clientIdLabel, type ClientIdLabel } from './labels.js'
import type { MetricRecorder, MetricSet } from './metrics.js'
import {
  registerPrometheusMetrics,
  type PrometheusClient,
  type PrometheusRegistry,
} from './prometheus.js'

// What prom-client accepts at the start of a metric name, and after it.
const PREFIX = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/

/**
 * Checks the `registry` option of a package's `register…Metrics`: something with prom-client's
 * `registerMetric` and `removeSingleMetric`, so that a missing or wrong value fails when the adapter is attached.
 *
 * @throws {TypeError} `<where>: option "registry" is required and must be a prom-client Registry`.
 */
export function checkPrometheusRegistry<R extends PrometheusRegistry>(
  registry: R | undefined,
  where: string,
): R {
  if (
    typeof registry !== 'object' ||
    registry === null ||
    typeof (registry as Partial<PrometheusRegistry>).removeSingleMetric !== 'function' ||
    typeof (registry as Partial<PrometheusRegistry>).registerMetric !== 'function'
  ) {
    throw new TypeError(
      `${where}: option "registry" is required and must be a prom-client Registry`,
    )
  }
  return registry
}

/**
 * Checks the `prefix` option of a package's `register…Metrics`: `''` (the default) or the start
 * of a Prometheus metric name, such as `myapp_`.
 *
 * @throws {TypeError} Naming the option, for any other value.
 */
export function checkMetricPrefix(prefix: unknown, where: string): string {
  if (prefix === '') return ''
  return checkString(prefix, { where, path: 'prefix' }, '', {
    test: (value) => PREFIX.test(value),
    expected: 'a Prometheus name prefix such as "myapp_"',
  })
}

/**
 * Checks an OpenTelemetry provider option (`meterProvider`, `tracerProvider`): `undefined` (the
 * global provider is used) or an object with the provider's `method` (`getMeter`, `getTracer`).
 *
 * @throws {TypeError} `<where>: option "<name>" must be an OpenTelemetry provider with <method>()`.
 */
export function checkOtelProvider<P>(
  value: P | undefined,
  where: string,
  name: string,
  method: string,
): P | undefined {
  if (value === undefined) return undefined
  if (
    typeof value !== 'object' ||
    value === null ||
    typeof (value as Record<string, unknown>)[method] !== 'function'
  ) {
    throw new TypeError(
      `${where}: option "${name}" must be an OpenTelemetry provider with ${method}()`,
    )
  }
  return value
}

/** The options every package's `register…Instrumentation` takes. */
export const OTEL_ADAPTER_OPTIONS: Readonly<{
  meterProvider: true
  tracerProvider: true
  metrics: true
  traces: true
}> = Object.freeze({
  meterProvider: true,
  tracerProvider: true,
  metrics: true,
  traces: true,
} as const)

/** The common options of a `register…Instrumentation`, checked, with their defaults. */
export interface OtelAdapterSettings<M, T> {
  /** `undefined`: the API's global one. */
  meterProvider: M | undefined
  /** `undefined`: the API's global one. */
  tracerProvider: T | undefined
  /** Record the metrics. */
  metrics: boolean
  /** Record the spans. */
  traces: boolean
}

/**
 * Checks the options of a package's `register…Instrumentation` once: a plain object with only
 * the keys of `table` ({@link OTEL_ADAPTER_OPTIONS} plus the package's own), providers with
 * `getMeter`/`getTracer`, and `metrics`/`traces` booleans (both default `true`).
 *
 * @throws {TypeError} `<where>: …` naming the first unknown or bad option.
 */
export function resolveOtelAdapterOptions<M, T>(
  options: {
    meterProvider?: M | undefined
    tracerProvider?: T | undefined
    metrics?: boolean | undefined
    traces?: boolean | undefined
  },
  where: string,
  table: Readonly<Record<string, true>> = OTEL_ADAPTER_OPTIONS,
): OtelAdapterSettings<M, T> {
  checkObject(options, where)
  checkKnownKeys(options, table, where)
  return {
    meterProvider: checkOtelProvider(options.meterProvider, where, 'meterProvider', 'getMeter'),
    tracerProvider: checkOtelProvider(options.tracerProvider, where, 'tracerProvider', 'getTracer'),
    metrics: checkBoolean(options.metrics, { where, path: 'metrics' }, true),
    traces: checkBoolean(options.traces, { where, path: 'traces' }, true),
  }
}

/**
 * What every package's `register…Metrics` does: checks `options` (an object of the `known` keys,
 * a prom-client `registry`, a `prefix`, and with `perClient` the `clientIds` allow-list),
 * registers the package's metric `set` on the registry and starts `subscribe`, which feeds the
 * recorder from the package's channels. Returns the function that stops recording and takes
 * the metrics off the registry.
 *
 * @throws {TypeError} For an unknown option or a bad value (the message names it and `where`).
 * @throws {Error} prom-client's, when a metric of the same name is already registered.
 */
export function startPrometheusAdapter<K extends string, R extends PrometheusRegistry>(
  client: PrometheusClient<R>,
  options: unknown,
  adapter: {
    readonly where: string
    readonly known: Readonly<Record<string, true>>
    readonly set: MetricSet<K>
    readonly perClient: boolean
  },
  subscribe: (recorder: MetricRecorder<K>, clientLabel: ClientIdLabel | undefined) => () => void,
): () => void {
  const { where } = adapter
  const given = checkObject(options, where)
  checkKnownKeys(given, adapter.known, where)
  const registry = checkPrometheusRegistry(given.registry as R | undefined, where)
  const label = adapter.perClient
    ? clientIdLabel(given.clientIds, { where, path: 'clientIds' })
    : undefined
  const prefix = checkMetricPrefix(given.prefix, where)
  const { recorder, unregister } = registerPrometheusMetrics(client, registry, adapter.set, {
    prefix,
    clientLabel: label !== undefined,
  })
  const unsubscribe = subscribe(recorder, label)
  return () => {
    unsubscribe()
    unregister()
  }
}
