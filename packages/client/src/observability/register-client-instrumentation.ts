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
import { CLIENT_METRIC_SET, subscribeClientMetrics } from './client-metrics.js'
import { clientSpans } from './client-spans.js'

/** Options of {@link registerClientInstrumentation}. */
export interface ClientInstrumentationOptions {
  /** Where the meter comes from. @default the global one (`metrics.getMeterProvider()`) */
  meterProvider?: MeterProvider | undefined
  /** Where the tracer comes from. @default the global one (`trace.getTracerProvider()`) */
  tracerProvider?: TracerProvider | undefined
  /** Record the metrics (off when prom-client records them already). @default true */
  metrics?: boolean | undefined
  /** Record the spans. @default true */
  traces?: boolean | undefined
}

const WHERE = 'registerClientInstrumentation'
const SCOPE = '@ccflow/client'

/**
 * Records the token client's metrics and spans through `@opentelemetry/api`, fed from the
 * `node:diagnostics_channel` channels every token client publishes on (so one call covers every
 * `createTokenClient()` in the process). The host owns the SDK: without a registered (or given)
 * meter and tracer provider, the API's no-op ones record nothing.
 *
 * Metrics are the Prometheus adapter's under their OpenTelemetry names
 * (`ccflow.client.token_acquisitions`, `ccflow.client.token_fetch.duration` in seconds with the
 * advised buckets, `ccflow.client.token_retries`, `ccflow.client.throttled`). Spans: one
 * `ccflow.client.token_fetch` per token request (a child of the span active when `getToken()`
 * started it) with `ccflow.outcome`, `error.type` when it failed, and one
 * `ccflow.client.token_request` child per attempt. No attribute holds a token, a secret, an
 * assertion or a scope.
 *
 * @example
 * ```ts
 * import { registerClientInstrumentation } from '@ccflow/client/opentelemetry'
 *
 * // After the host's NodeSDK (or providers) started:
 * registerClientInstrumentation()
 * ```
 * @returns A function that stops recording.
 * @throws {TypeError} For an unknown option or a bad value (the message names it).
 */
export function registerClientInstrumentation(
  options: ClientInstrumentationOptions = {},
): () => void {
  const settings = resolveOtelAdapterOptions(options, WHERE)
  return startOtelInstrumentation(
    { context, metrics, trace },
    {
      scope: SCOPE,
      meterProvider: settings.meterProvider,
      tracerProvider: settings.tracerProvider,
      metrics: settings.metrics
        ? { set: CLIENT_METRIC_SET, clientLabel: false, subscribe: subscribeClientMetrics }
        : undefined,
      traces: settings.traces
        ? { channels: operationChannels('client', 'token-fetch'), spans: clientSpans() }
        : undefined,
    },
  )
}
