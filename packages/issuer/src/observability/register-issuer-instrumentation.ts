import {
  clientIdLabel,
  operationChannels,
  OTEL_ADAPTER_OPTIONS,
  resolveOtelAdapterOptions,
  startOtelInstrumentation,
  type OptionTable,
} from '@ccflow/core'
import {
  context,
  metrics,
  trace,
  type MeterProvider,
  type TracerProvider,
} from '@opentelemetry/api'
import { ISSUER_METRIC_SET, subscribeIssuerMetrics } from './issuer-metrics.js'
import { issuerSpans } from './issuer-spans.js'

/** Options of {@link registerIssuerInstrumentation}. */
export interface IssuerInstrumentationOptions {
  /** Where the meter comes from. @default the global one (`metrics.getMeterProvider()`) */
  meterProvider?: MeterProvider | undefined
  /** Where the tracer comes from. @default the global one (`trace.getTracerProvider()`) */
  tracerProvider?: TracerProvider | undefined
  /**
   * Client ids that get their own `client_id` attribute value on the per-client metrics and a
   * `ccflow.client_id` span attribute; every other client is `other`. Without it no client id
   * is recorded at all. At most 1000.
   * @default undefined (no client id)
   */
  clientIds?: readonly string[] | undefined
  /** Record the metrics (off when prom-client records them already). @default true */
  metrics?: boolean | undefined
  /** Record the spans. @default true */
  traces?: boolean | undefined
}

const OPTIONS = {
  ...OTEL_ADAPTER_OPTIONS,
  clientIds: true,
} satisfies OptionTable<IssuerInstrumentationOptions>
const WHERE = 'registerIssuerInstrumentation'
const SCOPE = '@ccflow/issuer'

/**
 * Records the issuer's metrics and spans through `@opentelemetry/api`, fed from the
 * `node:diagnostics_channel` channels every token endpoint publishes on (so one call covers
 * every `tokenEndpoint()` in the process). The host owns the SDK: without a registered (or
 * given) meter and tracer provider, the API's no-op ones record nothing.
 *
 * Metrics are the Prometheus adapter's under their OpenTelemetry names
 * (`ccflow.issuer.token_requests`, `ccflow.issuer.token_request.duration` in seconds with the
 * advised buckets, …), whose attributes are the same label names, so the OpenTelemetry
 * Prometheus exporter produces the same series. Spans: `ccflow.token`, `ccflow.revocation`,
 * `ccflow.introspection`, each with `ccflow.outcome`, `error.type` when it failed (status ERROR
 * only for the server's own failures), and a child span per step: `ccflow.client_authentication`,
 * `ccflow.rate_limit`, `ccflow.sign`, `ccflow.revocation_store`.
 *
 * @example
 * ```ts
 * import { registerIssuerInstrumentation } from '@ccflow/issuer/opentelemetry'
 *
 * // After the host's NodeSDK (or providers) started:
 * registerIssuerInstrumentation({ clientIds: ['billing'] })
 * ```
 * @returns A function that stops recording.
 * @throws {TypeError} For an unknown option or a bad value (the message names it).
 */
export function registerIssuerInstrumentation(
  options: IssuerInstrumentationOptions = {},
): () => void {
  const settings = resolveOtelAdapterOptions(options, WHERE, OPTIONS)
  const label = clientIdLabel(options.clientIds, { where: WHERE, path: 'clientIds' })
  return startOtelInstrumentation(
    { context, metrics, trace },
    {
      scope: SCOPE,
      meterProvider: settings.meterProvider,
      tracerProvider: settings.tracerProvider,
      metrics: settings.metrics
        ? {
            set: ISSUER_METRIC_SET,
            clientLabel: label !== undefined,
            subscribe: (recorder) => subscribeIssuerMetrics(recorder, label),
          }
        : undefined,
      traces: settings.traces
        ? { channels: operationChannels('issuer', 'request'), spans: issuerSpans(label) }
        : undefined,
    },
  )
}
