/**
 * `@ccflow/client/prometheus`: the token client's metrics on a prom-client registry. Needs the
 * optional peer dependency `prom-client`.
 *
 * @module
 */

export { registerClientMetrics } from './observability/register-client-metrics.js'
export type { ClientMetricsOptions } from './observability/register-client-metrics.js'
