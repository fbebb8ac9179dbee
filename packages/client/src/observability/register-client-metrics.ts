import { startPrometheusAdapter, type OptionTable } from '@ccflow/core'
import * as client from 'prom-client'
import { CLIENT_METRIC_SET, subscribeClientMetrics } from './client-metrics.js'

/** Options of {@link registerClientMetrics}. */
export interface ClientMetricsOptions {
  /** The prom-client registry to register the metrics on (`client.register` is the default one). */
  registry: client.Registry
  /**
   * Put in front of every metric name (`myapp_` gives `myapp_ccflow_client_throttled_total`).
   * @default ''
   */
  prefix?: string | undefined
}

const OPTIONS = {
  registry: true,
  prefix: true,
} satisfies OptionTable<ClientMetricsOptions>
const WHERE = 'registerClientMetrics'

/**
 * Registers the token client's Prometheus metrics on `registry` and feeds them from the
 * `node:diagnostics_channel` channels every token client publishes on, so one call covers every
 * `createTokenClient()` in the process (created before or after it, from the ESM or the CJS
 * build). It mounts nothing: serve `registry.metrics()` where your app serves its metrics.
 *
 * Metrics (label values from fixed vocabularies, see the README's "Observability"):
 * `ccflow_client_token_acquisitions_total{source,outcome}`,
 * `ccflow_client_token_fetch_duration_seconds{outcome}`,
 * `ccflow_client_token_retries_total{reason}`, `ccflow_client_throttled_total`. No label holds a
 * token, a secret, a scope or a URL.
 *
 * @example
 * ```ts
 * import { Registry } from 'prom-client'
 * import { registerClientMetrics } from '@ccflow/client/prometheus'
 *
 * const registry = new Registry()
 * registerClientMetrics({ registry })
 * ```
 * @returns A function that stops recording and takes the metrics off the registry.
 * @throws {TypeError} For an unknown option or a bad value (the message names it).
 * @throws {Error} prom-client's, when a metric of the same name is already registered.
 */
export function registerClientMetrics(options: ClientMetricsOptions): () => void {
  return startPrometheusAdapter(
    client,
    options,
    { where: WHERE, known: OPTIONS, set: CLIENT_METRIC_SET, perClient: false },
    subscribeClientMetrics,
  )
}
