/**
 * OpenTelemetry for the example servers when `OTEL_EXPORTER_OTLP_ENDPOINT` is set: traces and
 * metrics sent to a collector over OTLP/HTTP (JSON). The servers own the SDK; the ccflow
 * packages only use `@opentelemetry/api`, and get these providers explicitly (nothing global).
 */
import type { MeterProvider as ApiMeterProvider, TracerProvider } from '@opentelemetry/api'
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http'
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics'
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { ConfigError, type Env, optional, url } from './env.js'

/** Where and how often telemetry is sent. */
export interface TelemetryConfig {
  /** `OTEL_EXPORTER_OTLP_ENDPOINT`: the collector's base URL; `/v1/traces`, `/v1/metrics` follow. */
  endpoint: string
  /** `OTEL_SERVICE_NAME`, default the program's name. */
  serviceName: string | undefined
  /** `OTEL_BSP_SCHEDULE_DELAY`: milliseconds between span batches (default 5000). */
  spanDelayMs: number
  /** `OTEL_METRIC_EXPORT_INTERVAL`: milliseconds between metric exports (default 60000). */
  metricIntervalMs: number
}

/**
 * Reads `OTEL_EXPORTER_OTLP_ENDPOINT` (an http(s) URL), `OTEL_SERVICE_NAME`,
 * `OTEL_BSP_SCHEDULE_DELAY` and `OTEL_METRIC_EXPORT_INTERVAL`; `undefined` when no endpoint is
 * set: no OpenTelemetry at all.
 */
export function telemetryConfig(vars: Env): TelemetryConfig | undefined {
  const endpoint = optional(vars, 'OTEL_EXPORTER_OTLP_ENDPOINT')
  if (endpoint === undefined) return undefined
  return {
    endpoint: url(endpoint, 'OTEL_EXPORTER_OTLP_ENDPOINT'),
    serviceName: optional(vars, 'OTEL_SERVICE_NAME'),
    spanDelayMs: milliseconds(vars, 'OTEL_BSP_SCHEDULE_DELAY', 5000),
    metricIntervalMs: milliseconds(vars, 'OTEL_METRIC_EXPORT_INTERVAL', 60_000),
  }
}

function milliseconds(vars: Env, name: string, fallback: number): number {
  const value = optional(vars, name)
  if (value === undefined) return fallback
  const parsed = Number(value)
  if (!/^\d+$/.test(value) || parsed < 1 || parsed > 3_600_000) {
    throw new ConfigError(`${name} must be a whole number of milliseconds from 1 to 3600000`)
  }
  return parsed
}

/** The providers to hand to the ccflow adapters, and how to flush and stop them. */
export interface Telemetry {
  tracerProvider: TracerProvider
  meterProvider: ApiMeterProvider
  /** Sends what is buffered and stops; waits at most 5 s. */
  shutdown(): Promise<void>
}

/** Starts the tracer and meter providers with OTLP/HTTP exporters to `config.endpoint`. */
export function startTelemetry(program: string, config: TelemetryConfig): Telemetry {
  const resource = resourceFromAttributes({ 'service.name': config.serviceName ?? program })
  const base = config.endpoint.endsWith('/') ? config.endpoint : `${config.endpoint}/`
  const tracerProvider = new BasicTracerProvider({
    resource,
    spanProcessors: [
      new BatchSpanProcessor(new OTLPTraceExporter({ url: new URL('v1/traces', base).href }), {
        scheduledDelayMillis: config.spanDelayMs,
      }),
    ],
  })
  const meterProvider = new MeterProvider({
    resource,
    readers: [
      new PeriodicExportingMetricReader({
        exporter: new OTLPMetricExporter({ url: new URL('v1/metrics', base).href }),
        exportIntervalMillis: config.metricIntervalMs,
        exportTimeoutMillis: Math.min(config.metricIntervalMs, 30_000),
      }),
    ],
  })
  return {
    tracerProvider,
    meterProvider,
    async shutdown() {
      let timer: NodeJS.Timeout | undefined
      const late = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, 5000)
      })
      await Promise.race([
        Promise.allSettled([tracerProvider.shutdown(), meterProvider.shutdown()]),
        late,
      ])
      clearTimeout(timer)
    },
  }
}
