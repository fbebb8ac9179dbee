import {
  boundedLabel,
  subscribeChannels,
  type MetricDefinition,
  type MetricRecorder,
  type MetricSet,
} from '@ccflow/core'
import type { TransportErrorReason } from '../errors.js'
import type { RetryEvent, TokenClientEvent, TokenSource } from '../events.js'
import {
  CLIENT_CHANNELS,
  type TokenAcquisitionMessage,
  type TokenFetchMessage,
  type TokenOutcome,
} from './channels.js'

/** The client's metrics, by key. */
export type ClientMetricKey = 'acquisitions' | 'fetchDuration' | 'retries' | 'throttled'

/**
 * Every metric of the client, for both adapters. Names are OpenTelemetry's; the Prometheus names
 * (`ccflow_client_token_acquisitions_total`, …) are derived by `prometheusName`.
 */
export const CLIENT_METRICS: Readonly<Record<ClientMetricKey, MetricDefinition>> = Object.freeze({
  acquisitions: {
    name: 'ccflow.client.token_acquisitions',
    kind: 'counter',
    unit: '{acquisition}',
    description: 'getToken() calls, by where the token came from and how the call ended.',
    labels: ['source', 'outcome'],
  },
  fetchDuration: {
    name: 'ccflow.client.token_fetch.duration',
    kind: 'histogram',
    unit: 's',
    description: 'Time a token request to the token endpoint took, retries included.',
    labels: ['outcome'],
  },
  retries: {
    name: 'ccflow.client.token_retries',
    kind: 'counter',
    unit: '{retry}',
    description: 'Token request attempts retried, by why the previous attempt failed.',
    labels: ['reason'],
  },
  throttled: {
    name: 'ccflow.client.throttled',
    kind: 'counter',
    unit: '{response}',
    description: 'Token endpoint answers of 429 or 503 with Retry-After.',
    labels: [],
  },
})

// The label vocabularies, each checked against its type both ways: a new value in the type
// fails to compile until it is listed here (and in the README's table).
type Exhaustive<T extends string, L extends readonly string[]> =
  Exclude<T, L[number]> extends never ? L : never

const SOURCES = ['cache', 'network', 'coalesced', 'store'] as const satisfies readonly TokenSource[]
const OUTCOMES = [
  'success',
  'oauth_error',
  'throttled',
  'transport_error',
  'aborted',
] as const satisfies readonly TokenOutcome[]
const RETRY_REASONS = ['network', 'http_status'] as const satisfies readonly RetryEvent['reason'][]

/** The labels of the client's metrics. */
export type ClientLabel = 'source' | 'outcome' | 'reason'

/** The values each label can take; anything else becomes `other`. */
export const CLIENT_LABEL_VALUES: Readonly<Record<ClientLabel, readonly string[]>> = Object.freeze({
  source: SOURCES satisfies Exhaustive<TokenSource, typeof SOURCES>,
  outcome: OUTCOMES satisfies Exhaustive<TokenOutcome, typeof OUTCOMES>,
  reason: RETRY_REASONS satisfies Exhaustive<RetryEvent['reason'], typeof RETRY_REASONS>,
})

/** The vocabulary of `label`, as a set. @internal */
export function vocabularyOf(label: ClientLabel): ReadonlySet<string> {
  return new Set(CLIENT_LABEL_VALUES[label])
}

/** The transport reasons, for span attributes. @internal */
export const TRANSPORT_REASONS: ReadonlySet<TransportErrorReason> = new Set([
  'network',
  'deadline',
  'http_status',
  'invalid_response',
  'too_large',
  'discovery',
  'closed',
] as const satisfies readonly TransportErrorReason[])

const SOURCE = vocabularyOf('source')
const OUTCOME = vocabularyOf('outcome')
const REASON = vocabularyOf('reason')

/** The client's metric set (it has no gauges). @internal */
export const CLIENT_METRIC_SET: MetricSet<ClientMetricKey> = Object.freeze({
  metrics: CLIENT_METRICS,
  gauges: Object.freeze({}),
})

/**
 * Subscribes to the client's channels and records every metric of {@link CLIENT_METRICS} on
 * `recorder`; returns the function that unsubscribes. Every label value goes through its
 * vocabulary, so a message published by anyone else cannot add a series.
 *
 * @internal
 */
export function subscribeClientMetrics(recorder: MetricRecorder<ClientMetricKey>): () => void {
  return subscribeChannels({
    [CLIENT_CHANNELS.event]: (raw) => {
      const event = raw as TokenClientEvent
      if (event.type === 'retry') {
        recorder.record('retries', { reason: boundedLabel(event.reason, REASON) }, 1)
      } else if (event.type === 'throttled') {
        recorder.record('throttled', {}, 1)
      }
    },
    [CLIENT_CHANNELS.acquisition]: (raw) => {
      const message = raw as TokenAcquisitionMessage
      recorder.record(
        'acquisitions',
        {
          source: boundedLabel(message.source, SOURCE),
          outcome: boundedLabel(message.outcome, OUTCOME),
        },
        1,
      )
    },
    [CLIENT_CHANNELS.fetchEnd]: (raw) => {
      const message = raw as TokenFetchMessage
      const seconds = ((message.endTime ?? message.startTime) - message.startTime) / 1000
      recorder.record('fetchDuration', { outcome: boundedLabel(message.outcome, OUTCOME) }, seconds)
    },
  })
}
