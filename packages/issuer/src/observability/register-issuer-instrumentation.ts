import {
  checkBoolean,
  checkKnownKeys,
  checkObject,
  checkOtelProvider,
  clientIdLabel,
  createOtelInstruments,
  operationChannels,
  traceOperations,
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
  meterProvider: true,
  tracerProvider: true,
  clientIds: true,
  metrics: true,
  traces: true,
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
  checkObject(options, WHERE)
  checkKnownKeys(options, OPTIONS, WHERE)
  const meterProvider = checkOtelProvider(options.meterProvider, WHERE, 'meterProvider', 'getMeter')
  const tracerProvider = checkOtelProvider(
    options.tracerProvider,
    WHERE,
    'tracerProvider',
    'getTracer',
  )
  const label = clientIdLabel(options.clientIds, { where: WHERE, path: 'clientIds' })
  const withMetrics = checkBoolean(options.metrics, { where: WHERE, path: 'metrics' }, true)
  const withTraces = checkBoolean(options.traces, { where: WHERE, path: 'traces' }, true)

  const stops: (() => void)[] = []
  if (withMetrics) {
    const meter = (meterProvider ?? metrics.getMeterProvider()).getMeter(SCOPE)
    const { recorder, unregister } = createOtelInstruments(meter, ISSUER_METRIC_SET, {
      clientLabel: label !== undefined,
    })
    stops.push(subscribeIssuerMetrics(recorder, label), unregister)
  }
  if (withTraces) {
    const tracer = (tracerProvider ?? trace.getTracerProvider()).getTracer(SCOPE)
    stops.push(
      traceOperations(
        {
          tracer,
          activeContext: () => context.active(),
          setSpan: (parent, span) => trace.setSpan(parent, span),
        },
        operationChannels('issuer', 'request'),
        issuerSpans(label),
      ),
    )
  }
  return () => {
    for (const stop of stops.splice(0)) stop()
  }
}
