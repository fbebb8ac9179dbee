/**
 * `@ccflow/guard/opentelemetry`: the guard's metrics and spans through `@opentelemetry/api`
 * (optional peer dependency). The host owns the SDK and its exporters.
 *
 * @module
 */

export { registerGuardInstrumentation } from './observability/register-guard-instrumentation.js'
export type { GuardInstrumentationOptions } from './observability/register-guard-instrumentation.js'
