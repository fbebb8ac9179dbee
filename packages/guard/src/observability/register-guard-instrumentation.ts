import {
  checkBoolean,
  checkKnownKeys,
  checkObject,
  checkOtelProvider,
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

const OPTIONS = {
  meterProvider: true,
  tracerProvider: true,
  metrics: true,
  traces: true,
} satisfies OptionTable<GuardInstrumentationOptions>
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
  checkObject(options, WHERE)
  checkKnownKeys(options, OPTIONS, WHERE)
  const meterProvider = checkOtelProvider(options.meterProvider, WHERE, 'meterProvider', 'getMeter')
  const tracerProvider = checkOtelProvider(
    options.tracerProvider,
    WHERE,
    'tracerProvider',
    'getTracer',
  )
  const withMetrics = checkBoolean(options.metrics, { where: WHERE, path: 'metrics' }, true)
  const withTraces = checkBoolean(options.traces, { where: WHERE, path: 'traces' }, true)

  const stops: (() => void)[] = []
  if (withMetrics) {
    const meter = (meterProvider ?? metrics.getMeterProvider()).getMeter(SCOPE)
    const { recorder, unregister } = createOtelInstruments(meter, GUARD_METRIC_SET, {
      clientLabel: false,
    })
    stops.push(subscribeGuardMetrics(recorder), unregister)
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
        operationChannels('guard', 'verify'),
        guardSpans(),
      ),
    )
  }
  return () => {
    for (const stop of stops.splice(0)) stop()
  }
}
