import { startPrometheusAdapter, type OptionTable } from '@ccflow/core'
import * as client from 'prom-client'
import { GUARD_METRIC_SET, subscribeGuardMetrics } from './guard-metrics.js'

/** Options of {@link registerGuardMetrics}. */
export interface GuardMetricsOptions {
  /** The prom-client registry to register the metrics on (`client.register` is the default one). */
  registry: client.Registry
  /**
   * Put in front of every metric name (`myapp_` gives `myapp_ccflow_guard_requests_total`).
   * @default ''
   */
  prefix?: string | undefined
}

const OPTIONS = {
  registry: true,
  prefix: true,
} satisfies OptionTable<GuardMetricsOptions>
const WHERE = 'registerGuardMetrics'

/**
 * Registers the guard's Prometheus metrics on `registry` and feeds them from the
 * `node:diagnostics_channel` channels every guard publishes on, so one call covers every
 * `requireToken()`, `createTokenVerifier()` and `BearerJwtStrategy` in the process (created
 * before or after it, from the ESM or the CJS build). It mounts nothing: serve
 * `registry.metrics()` on a port of your own, never on the public router.
 *
 * Metrics (label values from fixed vocabularies, see the README's "Observability"):
 * `ccflow_guard_requests_total{outcome,reason}`, `ccflow_guard_verify_duration_seconds`,
 * `ccflow_guard_jwks_fetches_total{outcome}`, `ccflow_guard_jwks_last_success_timestamp_seconds`,
 * `ccflow_guard_jwks_keys`, `ccflow_guard_jwks_stale_served_total`,
 * `ccflow_guard_token_cache_hits_total`. No label ever holds a token, a claim or a path.
 *
 * @example
 * ```ts
 * import { Registry, collectDefaultMetrics } from 'prom-client'
 * import { registerGuardMetrics } from '@ccflow/guard/prometheus'
 *
 * const registry = new Registry()
 * collectDefaultMetrics({ register: registry })
 * registerGuardMetrics({ registry })
 * metricsApp.get('/metrics', async (_req, res) => {
 *   res.type(registry.contentType).send(await registry.metrics())
 * })
 * ```
 * @returns A function that stops recording and takes the metrics off the registry.
 * @throws {TypeError} For an unknown option or a bad value (the message names it).
 * @throws {Error} prom-client's, when a metric of the same name is already registered.
 */
export function registerGuardMetrics(options: GuardMetricsOptions): () => void {
  return startPrometheusAdapter(
    client,
    options,
    { where: WHERE, known: OPTIONS, set: GUARD_METRIC_SET, perClient: false },
    subscribeGuardMetrics,
  )
}
