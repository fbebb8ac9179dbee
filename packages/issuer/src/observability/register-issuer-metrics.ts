import { startPrometheusAdapter, type OptionTable } from '@ccflow/core'
import * as client from 'prom-client'
import { ISSUER_METRIC_SET, subscribeIssuerMetrics } from './issuer-metrics.js'

/** Options of {@link registerIssuerMetrics}. */
export interface IssuerMetricsOptions {
  /** The prom-client registry to register the metrics on (`client.register` is the default one). */
  registry: client.Registry
  /**
   * Client ids that get their own `client_id` label value on the per-client metrics; every
   * other client is `other`. Without it no metric has a `client_id` label: each client id
   * would otherwise be a new series. At most 1000.
   * @default undefined (no `client_id` label)
   */
  clientIds?: readonly string[] | undefined
  /**
   * Put in front of every metric name (`myapp_` gives `myapp_ccflow_issuer_token_requests_total`).
   * @default ''
   */
  prefix?: string | undefined
}

const OPTIONS = {
  registry: true,
  clientIds: true,
  prefix: true,
} satisfies OptionTable<IssuerMetricsOptions>
const WHERE = 'registerIssuerMetrics'

/**
 * Registers the issuer's Prometheus metrics on `registry` and feeds them from the
 * `node:diagnostics_channel` channels every token endpoint publishes on, so one call covers every
 * `tokenEndpoint()` in the process (created before or after it, from the ESM or the CJS build).
 * It mounts nothing: serve `registry.metrics()` on a port of your own, never on the public router.
 *
 * Metrics (label values from fixed vocabularies, see the README's "Metrics and traces"):
 * `ccflow_issuer_token_requests_total{grant_type,outcome}`,
 * `ccflow_issuer_token_request_duration_seconds{outcome}`,
 * `ccflow_issuer_client_authentications_total{method,outcome,reason}`,
 * `ccflow_issuer_rate_limited_total{limiter}`, `ccflow_issuer_store_errors_total{store}`,
 * `ccflow_issuer_revocations_total{outcome}`, `ccflow_issuer_introspections_total{outcome,active}`,
 * `ccflow_issuer_signing_keys{state}`, `ccflow_issuer_client_jwks_fetches_total{outcome}`,
 * `ccflow_issuer_legacy_audience_total`; with `clientIds`, the per-client ones also have
 * `client_id`.
 *
 * @example
 * ```ts
 * import { Registry, collectDefaultMetrics } from 'prom-client'
 * import { registerIssuerMetrics } from '@ccflow/issuer/prometheus'
 *
 * const registry = new Registry()
 * collectDefaultMetrics({ register: registry })
 * registerIssuerMetrics({ registry, clientIds: ['billing', 'reports'] })
 * metricsApp.get('/metrics', async (_req, res) => {
 *   res.type(registry.contentType).send(await registry.metrics())
 * })
 * ```
 * @returns A function that stops recording and takes the metrics off the registry.
 * @throws {TypeError} For an unknown option or a bad value (the message names it).
 * @throws {Error} prom-client's, when a metric of the same name is already registered.
 */
export function registerIssuerMetrics(options: IssuerMetricsOptions): () => void {
  return startPrometheusAdapter(
    client,
    options,
    { where: WHERE, known: OPTIONS, set: ISSUER_METRIC_SET, perClient: true },
    subscribeIssuerMetrics,
  )
}
