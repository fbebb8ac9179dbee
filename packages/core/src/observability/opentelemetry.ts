import { subscribeChannels } from './channels.js'
import {
  DURATION_BUCKETS_SECONDS,
  labelNames,
  pickLabels,
  type MetricLabels,
  type MetricRecorder,
  type MetricSet,
  type RegisteredMetrics,
} from './metrics.js'
import { epochMilliseconds, type OperationChannels, type OperationMessage } from './operation.js'

/** Span and metric attributes, as `@opentelemetry/api` takes them. */
export type OtelAttributes = Record<string, string | number | boolean>

/** The result an observable instrument's callback reports to. */
export interface OtelObservableResult {
  observe(value: number, attributes?: OtelAttributes): void
}

/** The part of an `@opentelemetry/api` `Meter` used here; structural, so core needs no OTel. */
export interface OtelMeter {
  createCounter(
    name: string,
    options?: { description?: string; unit?: string },
  ): { add(value: number, attributes?: OtelAttributes): void }
  createHistogram(
    name: string,
    options?: {
      description?: string
      unit?: string
      advice?: { explicitBucketBoundaries?: number[] }
    },
  ): { record(value: number, attributes?: OtelAttributes): void }
  createObservableGauge(
    name: string,
    options?: { description?: string; unit?: string },
  ): {
    addCallback(callback: (result: OtelObservableResult) => void): void
    removeCallback(callback: (result: OtelObservableResult) => void): void
  }
}

/**
 * Creates an OpenTelemetry instrument for every metric of `set` (gauges as observable gauges
 * read at collection) and returns the recorder that feeds them. `unregister` detaches the gauge
 * callbacks; the API has no way to delete the other instruments, which simply stop receiving.
 */
export function createOtelInstruments<K extends string>(
  meter: OtelMeter,
  set: MetricSet<K>,
  options: { readonly clientLabel: boolean },
): RegisteredMetrics<K> {
  const writers = new Map<K, (labels: MetricLabels, value: number) => void>()
  const detach: (() => void)[] = []
  for (const key of Object.keys(set.metrics) as K[]) {
    const metric = set.metrics[key]
    const labels = labelNames(metric, options.clientLabel)
    const described = { description: metric.description, unit: metric.unit }
    if (metric.kind === 'counter') {
      const counter = meter.createCounter(metric.name, described)
      writers.set(key, (values, value) => counter.add(value, pickLabels(labels, values)))
    } else if (metric.kind === 'histogram') {
      const explicitBucketBoundaries = [...(metric.buckets ?? DURATION_BUCKETS_SECONDS)]
      const histogram = meter.createHistogram(metric.name, {
        ...described,
        advice: { explicitBucketBoundaries },
      })
      writers.set(key, (values, value) => histogram.record(value, pickLabels(labels, values)))
    } else {
      const read = set.gauges[key]
      const gauge = meter.createObservableGauge(metric.name, described)
      const callback = (result: OtelObservableResult): void => {
        for (const reading of read?.() ?? []) {
          result.observe(reading.value, pickLabels(labels, reading.labels))
        }
      }
      gauge.addCallback(callback)
      detach.push(() => gauge.removeCallback(callback))
    }
  }
  return {
    recorder: {
      record(metric, labels, value) {
        writers.get(metric)?.(labels, value)
      },
    },
    unregister: () => {
      for (const remove of detach.splice(0)) remove()
    },
  }
}

/** The span operations used here, from `@opentelemetry/api` (`S`: its Span, `C`: its Context). */
export interface OtelSpan {
  setAttributes(attributes: OtelAttributes): unknown
  setStatus(status: { code: number }): unknown
  end(endTime?: number): void
}

/**
 * What tracing needs from `@opentelemetry/api`: a tracer, and the context functions. Build it
 * as `{ tracer, activeContext: () => context.active(), setSpan: (c, s) => trace.setSpan(c, s) }`.
 */
export interface OtelTracing<S extends OtelSpan, C> {
  readonly tracer: {
    startSpan(
      name: string,
      options?: { startTime?: number; attributes?: OtelAttributes },
      context?: C,
    ): S
  }
  readonly activeContext: () => C
  readonly setSpan: (context: C, span: S) => C
}

/** How a package turns one kind of operation message into spans. */
export interface SpanDescription<M extends OperationMessage> {
  /** The name of the operation's span (`ccflow.token`). */
  name(message: M): string
  /** Its attributes, read when the operation ends; never a token, secret or raw client id. */
  attributes(message: M): OtelAttributes
  /**
   * The `error.type` of a failed operation, and whether the failure was the server's (span
   * status ERROR, as for an HTTP 5xx) rather than the caller's (status left unset).
   */
  error(message: M): { type: string; serverFault: boolean } | undefined
  /** The name of a step's child span (`ccflow.client_authentication`). */
  phaseName(phase: M['phases'][number]): string
  /** A step's attributes (and `error.type` when it failed). */
  phaseAttributes(phase: M['phases'][number], message: M): OtelAttributes
}

/** SpanStatusCode.ERROR of the OpenTelemetry API (a stable protocol value). */
const STATUS_ERROR = 2

/**
 * Turns every operation published on `channels` into spans: the operation's span starts when
 * the `:start` message arrives (as a child of the span active then, such as the HTTP server
 * span) and ends with the `:end` message, which also adds one child span per recorded step,
 * with the step's own start and end times. Returns the function that unsubscribes.
 *
 * The spans are not made active while the request runs (diagnostics channels cannot change the
 * caller's context); work the host's other instrumentations trace inside a step is parented to
 * the HTTP span, not to the step.
 */
export function traceOperations<M extends OperationMessage, S extends OtelSpan, C>(
  tracing: OtelTracing<S, C>,
  channels: OperationChannels,
  describe: SpanDescription<M>,
): () => void {
  const started = new WeakMap<object, S>()
  const open = (message: M): S =>
    tracing.tracer.startSpan(
      describe.name(message),
      { startTime: epochMilliseconds(message.startTime) },
      tracing.activeContext(),
    )
  return subscribeChannels({
    [channels.start.name as string]: (message) => {
      started.set(message as M, open(message as M))
    },
    [channels.end.name as string]: (raw) => {
      const message = raw as M
      const span = started.get(message) ?? open(message)
      started.delete(message)
      span.setAttributes(describe.attributes(message))
      const error = describe.error(message)
      if (error !== undefined) {
        span.setAttributes({ 'error.type': error.type })
        if (error.serverFault) span.setStatus({ code: STATUS_ERROR })
      }
      const parent = tracing.setSpan(tracing.activeContext(), span)
      for (const phase of message.phases) {
        const child = tracing.tracer.startSpan(
          describe.phaseName(phase),
          {
            startTime: epochMilliseconds(phase.startTime),
            attributes: describe.phaseAttributes(phase, message),
          },
          parent,
        )
        child.end(epochMilliseconds(phase.endTime ?? phase.startTime))
      }
      span.end(epochMilliseconds(message.endTime ?? message.startTime))
    },
  })
}

/**
 * The parts of `@opentelemetry/api` an adapter uses; the package that owns the adapter passes
 * its own import (`{ context, metrics, trace }`), so core needs no OpenTelemetry.
 */
export interface OtelApi<S extends OtelSpan, C> {
  readonly metrics: { getMeterProvider(): OtelMeterProvider }
  readonly trace: {
    getTracerProvider(): OtelTracerProvider<S, C>
    setSpan(context: C, span: S): C
  }
  readonly context: { active(): C }
}

/** A meter provider: `getMeter(name)`. */
export interface OtelMeterProvider {
  getMeter(name: string): OtelMeter
}

/** A tracer provider: `getTracer(name)`. */
export interface OtelTracerProvider<S extends OtelSpan, C> {
  getTracer(name: string): OtelTracing<S, C>['tracer']
}

/** What a package instruments, its options already checked. */
export interface OtelInstrumentation<
  K extends string,
  M extends OperationMessage,
  S extends OtelSpan,
  C,
> {
  /** The instrumentation scope: the package name (`@ccflow/client`). */
  readonly scope: string
  /** `undefined`: the API's global one. */
  readonly meterProvider: OtelMeterProvider | undefined
  /** `undefined`: the API's global one. */
  readonly tracerProvider: OtelTracerProvider<S, C> | undefined
  /** The metrics and what feeds them; `undefined` records none. */
  readonly metrics:
    | {
        readonly set: MetricSet<K>
        readonly clientLabel: boolean
        /** Subscribes the package's translation of its channels; returns the unsubscribe. */
        readonly subscribe: (recorder: MetricRecorder<K>) => () => void
      }
    | undefined
  /** The traced operation and how it becomes spans; `undefined` records none. */
  readonly traces:
    { readonly channels: OperationChannels; readonly spans: SpanDescription<M> } | undefined
}

/**
 * Starts a package's OpenTelemetry adapter: its instruments on a meter of `scope`, fed by the
 * package's channel translation, and its spans on a tracer of `scope`. Returns the function
 * that stops both (a second call does nothing).
 */
export function startOtelInstrumentation<
  K extends string,
  M extends OperationMessage,
  S extends OtelSpan,
  C,
>(api: OtelApi<S, C>, setup: OtelInstrumentation<K, M, S, C>): () => void {
  const stops: (() => void)[] = []
  if (setup.metrics !== undefined) {
    const meter = (setup.meterProvider ?? api.metrics.getMeterProvider()).getMeter(setup.scope)
    const { recorder, unregister } = createOtelInstruments(meter, setup.metrics.set, {
      clientLabel: setup.metrics.clientLabel,
    })
    stops.push(setup.metrics.subscribe(recorder), unregister)
  }
  if (setup.traces !== undefined) {
    const tracer = (setup.tracerProvider ?? api.trace.getTracerProvider()).getTracer(setup.scope)
    stops.push(
      traceOperations(
        {
          tracer,
          activeContext: () => api.context.active(),
          setSpan: (parent, span) => api.trace.setSpan(parent, span),
        },
        setup.traces.channels,
        setup.traces.spans,
      ),
    )
  }
  return () => {
    for (const stop of stops.splice(0)) stop()
  }
}
