/**
 * `@ccflow/client/opentelemetry`: the token client's metrics and spans through
 * `@opentelemetry/api` (optional peer dependency). The host owns the SDK and its exporters.
 *
 * @module
 */

export { registerClientInstrumentation } from './observability/register-client-instrumentation.js'
export type { ClientInstrumentationOptions } from './observability/register-client-instrumentation.js'
