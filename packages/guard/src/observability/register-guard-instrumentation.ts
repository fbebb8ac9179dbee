import {
  operationChannels,
  resolveOtelAdapterOptions,
  startOtelInstrumentation,
} from '@ccflow/core'
import {
  context,
  metrics,
  trace,
  type MeterProvider,
  type TracerProvider,
} from '@opentelemetry/api'
import { GUARD_METRIC_SET, subscribeGuardMetrics } from './guard-metrics.js'
import { guardSpans } from './guard-spans.js'

/** Options of {@link registerGuardInstrumentation}. */
export interface GuardInstrumentationOptions {
  /** Where the meter comes from. @default the global one (`metrics.getMeterProvider()`) */
  meterProvider?: MeterProvider | undefined
  /** Where the tracer comes from. @default the global one (`trace.getTracerProvider()`) */
  tracerProvider?: TracerProvider | undefined
  /** Record the metrics (off when prom-client records them already). @default true */
  metrics?: boolean | undefined
  /** Record the spans. @default true */
  traces?: boolean | undefined
}

const WHERE = 'registerGuardInstrumentation'
const SCOPE = '@ccflow/guard'

/**
 * Records the guard's metrics and spans through `@opentelemetry/api`, fed from the
 * `node:diagnostics_channel` channels every guard publishes on (so one call covers every
 * `requireToken()`, `createTokenVerifier()` and `BearerJwtStrategy` in the process). The host
 * owns the SDK: without a registered (or given) meter and tracer provider, the API's no-op ones
 * record nothing.
 *
 * Metrics are the Prometheus adapter's under their OpenTelemetry names
 * (`ccflow.guard.requests`, `ccflow.guard.verify.duration` in seconds,
 * `ccflow.guard.jwks_fetches`, `ccflow.guard.jwks.last_success_timestamp`,
 * `ccflow.guard.jwks.keys`, `ccflow.guard.jwks.stale_served`, `ccflow.guard.token_cache.hits`),
 * whose attributes are the same label names, so the OpenTelemetry Prometheus exporter produces
 * the same series. Spans: `ccflow.guard.verify` per verification, a child of the span active
 * when it began (the HTTP server span), with `ccflow.outcome`, `ccflow.reason` for a refusal,
 * `ccflow.guard.cache_hit`, and `error.type` (the error code) when the token was refused; status
 * ERROR only for the server's own failures (503, unexpected errors).
 *
 * @example
 * ```ts
 * import { registerGuardInstrumentation } from '@ccflow/guard/opentelemetry'
 *
 * // After the host's NodeSDK (or providers) started:
 * registerGuardInstrumentation()
 * ```
 * @returns A function that stops recording.
 * @throws {TypeError} For an unknown option or a bad value (the message names it).
 */
export function registerGuardInstrumentation(
  options: GuardInstrumentationOptions = {},
): () => void {
  const settings = resolveOtelAdapterOptions(options, WHERE)
  return startOtelInstrumentation(
    { context, metrics, trace },
    {
      scope: SCOPE,
      meterProvider: settings.meterProvider,
      tracerProvider: settings.tracerProvider,
      metrics: settings.metrics
        ? { set: GUARD_METRIC_SET, clientLabel: false, subscribe: subscribeGuardMetrics }
        : undefined,
      traces: settings.traces
        ? { channels: operationChannels('guard', 'verify'), spans: guardSpans() }
        : undefined,
    },
  )
}
