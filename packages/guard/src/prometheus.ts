/**
 * `@ccflow/guard/prometheus`: the guard's metrics on a prom-client registry. Needs the optional
 * peer dependency `prom-client`.
 *
 * @module
 */

export { registerGuardMetrics } from './observability/register-guard-metrics.js'
export type { GuardMetricsOptions } from './observability/register-guard-metrics.js'
