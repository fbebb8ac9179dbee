/**
 * `@ccflow/issuer/prometheus`: the issuer's metrics on a prom-client registry. Needs the
 * optional peer dependency `prom-client`.
 *
 * @module
 */

export { registerIssuerMetrics } from './observability/register-issuer-metrics.js'
export type { IssuerMetricsOptions } from './observability/register-issuer-metrics.js'
