/**
 * `@ccflow/issuer/opentelemetry`: the issuer's metrics and spans through `@opentelemetry/api`
 * (optional peer dependency). The host owns the SDK and its exporters.
 *
 * @module
 */

export { registerIssuerInstrumentation } from './observability/register-issuer-instrumentation.js'
export type { IssuerInstrumentationOptions } from './observability/register-issuer-instrumentation.js'
