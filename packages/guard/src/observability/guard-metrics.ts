import {
  boundedLabel,
  collectSnapshots,
  NONE_LABEL,
  subscribeChannels,
  type GaugeReading,
  type KeySourceFailureReason,
  type MetricDefinition,
  type MetricRecorder,
  type MetricSet,
} from '@ccflow/core'
import type { BearerErrorReason } from '../errors.js'
import type { GuardEvent } from '../events.js'
import {
  GUARD_CHANNELS,
  type GuardOutcome,
  type GuardSnapshot,
  type GuardVerifyMessage,
} from './channels.js'

/** The guard's metrics, by key. */
export type GuardMetricKey =
  | 'requests'
  | 'verifyDuration'
  | 'jwksFetches'
  | 'jwksLastSuccess'
  | 'jwksKeys'
  | 'jwksStaleServed'
  | 'tokenCacheHits'

/**
 * Bucket boundaries of the verification time, in seconds: 50 µs to 5 s. A cache hit takes
 * microseconds and a signature check tens to hundreds of them, so the request-duration buckets
 * (5 ms and up) would put every verification in the first bucket; the top ones cover a
 * verification that waited for a JWKS fetch (3 s timeout by default).
 */
const VERIFY_BUCKETS_SECONDS: readonly number[] = Object.freeze([
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
  5,
])

/**
 * Every metric of the guard, for both adapters. Names are OpenTelemetry's; the Prometheus names
 * (`ccflow_guard_requests_total`, …) are derived by `prometheusName`.
 */
export const GUARD_METRICS: Readonly<Record<GuardMetricKey, MetricDefinition>> = Object.freeze({
  requests: {
    name: 'ccflow.guard.requests',
    kind: 'counter',
    unit: '{request}',
    description: 'Bearer token verifications, by outcome (success or the error code) and reason.',
    labels: ['outcome', 'reason'],
  },
  verifyDuration: {
    name: 'ccflow.guard.verify.duration',
    kind: 'histogram',
    unit: 's',
    description: 'Time to verify a bearer token, from reading the header to the decision.',
    labels: [],
    buckets: VERIFY_BUCKETS_SECONDS,
  },
  jwksFetches: {
    name: 'ccflow.guard.jwks_fetches',
    kind: 'counter',
    unit: '{fetch}',
    description: 'JWKS fetches (with discovery when configured), by outcome.',
    labels: ['outcome'],
  },
  jwksLastSuccess: {
    name: 'ccflow.guard.jwks.last_success_timestamp',
    kind: 'gauge',
    unit: 's',
    description:
      'Unix time of the last successful JWKS fetch; of the guard that fetched least recently when several run (0 when one never succeeded).',
    labels: [],
  },
  jwksKeys: {
    name: 'ccflow.guard.jwks.keys',
    kind: 'gauge',
    unit: '{key}',
    description:
      'Usable keys in the current JWKS; of the guard with the fewest when several run (0 before the first fetch).',
    labels: [],
  },
  jwksStaleServed: {
    name: 'ccflow.guard.jwks.stale_served',
    kind: 'counter',
    unit: '{lookup}',
    description: 'Key lookups answered from the last-known-good JWKS after it went stale.',
    labels: [],
  },
  tokenCacheHits: {
    name: 'ccflow.guard.token_cache.hits',
    kind: 'counter',
    unit: '{hit}',
    description: 'Verifications answered from the verified-token cache.',
    labels: [],
  },
})

// The label vocabularies. Each list is checked against its type, both ways, so a new value in
// the type fails to compile until it is listed here (and in the README's table).
type Exhaustive<T extends string, L extends readonly string[]> =
  Exclude<T, L[number]> extends never ? L : never

const OUTCOMES = [
  'success',
  'unauthorized',
  'invalid_request',
  'invalid_token',
  'insufficient_scope',
  'temporarily_unavailable',
  'anonymous',
  'error',
] as const satisfies readonly GuardOutcome[]

const REASONS = [
  'missing_token',
  'unsupported_scheme',
  'malformed_authorization',
  'malformed_token_parameter',
  'multiple_authorization_headers',
  'multiple_token_locations',
  'body_token_disabled',
  'query_token_disabled',
  'too_large',
  'malformed',
  'duplicate_member',
  'crit_header',
  'bad_typ',
  'unsupported_alg',
  'unknown_kid',
  'bad_signature',
  'token_expired',
  'token_not_active',
  'iat_in_future',
  'token_too_old',
  'missing_exp',
  'missing_iat',
  'missing_iss',
  'wrong_issuer',
  'missing_aud',
  'wrong_audience',
  'invalid_claims',
  'revoked',
  'insufficient_scope',
  'key_source_unavailable',
  'revocation_check_failed',
] as const satisfies readonly BearerErrorReason[]

const KEY_SOURCE_FAILURES = [
  'timeout',
  'network',
  'aborted',
  'http_status',
  'redirect',
  'too_large',
  'invalid_json',
  'invalid_shape',
  'issuer_mismatch',
  'no_usable_keys',
] as const satisfies readonly KeySourceFailureReason[]

/** The guard's labels; `jwks_outcome` is the `outcome` label of the JWKS fetch counter. */
export type GuardLabel = 'outcome' | 'reason' | 'jwks_outcome'

/** The values each label can take; anything else becomes `other`, nothing becomes `none`. */
export const GUARD_LABEL_VALUES: Readonly<Record<GuardLabel, readonly string[]>> = Object.freeze({
  outcome: OUTCOMES satisfies Exhaustive<GuardOutcome, typeof OUTCOMES>,
  reason: [...(REASONS satisfies Exhaustive<BearerErrorReason, typeof REASONS>), NONE_LABEL],
  jwks_outcome: [
    'success',
    ...(KEY_SOURCE_FAILURES satisfies Exhaustive<
      KeySourceFailureReason,
      typeof KEY_SOURCE_FAILURES
    >),
  ],
})

/** The vocabulary of `label`, as a set. @internal */
export function vocabularyOf(label: GuardLabel): ReadonlySet<string> {
  return new Set(GUARD_LABEL_VALUES[label])
}

const OUTCOME = vocabularyOf('outcome')
const REASON = vocabularyOf('reason')
const JWKS_OUTCOME = vocabularyOf('jwks_outcome')

/** The guard's metric set: definitions and the gauge readers. @internal */
export const GUARD_METRIC_SET: MetricSet<GuardMetricKey> = Object.freeze({
  metrics: GUARD_METRICS,
  gauges: Object.freeze({ jwksLastSuccess: readLastSuccess, jwksKeys: readKeys }),
})

function liveSnapshots(): GuardSnapshot[] {
  // A closed guard answers `undefined`.
  return collectSnapshots<GuardSnapshot | undefined>(GUARD_CHANNELS.snapshot).filter(
    (s): s is GuardSnapshot => s !== undefined,
  )
}

// The stalest guard decides: an alert on the age of the last success must see the worst one.
function readLastSuccess(): GaugeReading[] {
  const snapshots = liveSnapshots()
  if (snapshots.length === 0) return []
  const oldest = Math.min(...snapshots.map((s) => s.lastSuccessAt ?? 0))
  return [{ labels: {}, value: oldest / 1000 }]
}

function readKeys(): GaugeReading[] {
  const snapshots = liveSnapshots()
  if (snapshots.length === 0) return []
  return [{ labels: {}, value: Math.min(...snapshots.map((s) => s.keys)) }]
}

// One labels object per (outcome, reason) pair, built once: the hot path allocates none.
const requestLabels = new Map<string, Readonly<Record<string, string>>>()
const SUCCESS_LABELS: Readonly<Record<string, string>> = Object.freeze({
  outcome: 'success',
  reason: NONE_LABEL,
})
function labelsOf(message: GuardVerifyMessage): Readonly<Record<string, string>> {
  // Most requests pass: their labels need no lookup at all.
  if (message.outcome === 'success' && message.reason === undefined) return SUCCESS_LABELS
  const outcome = boundedLabel(message.outcome, OUTCOME)
  const reason = boundedLabel(message.reason, REASON)
  const key = `${outcome} ${reason}`
  let labels = requestLabels.get(key)
  if (labels === undefined) {
    labels = Object.freeze({ outcome, reason })
    requestLabels.set(key, labels)
  }
  return labels
}

const NO_LABELS: Readonly<Record<string, string>> = Object.freeze({})

/**
 * Subscribes to the guard's channels and records every metric of {@link GUARD_METRICS} on
 * `recorder`; returns the function that unsubscribes. Every label value goes through its
 * vocabulary, so a message published by anyone else cannot add a series.
 *
 * @internal
 */
export function subscribeGuardMetrics(recorder: MetricRecorder<GuardMetricKey>): () => void {
  return subscribeChannels({
    [GUARD_CHANNELS.verifyEnd]: (raw) => {
      const message = raw as GuardVerifyMessage
      recorder.record('requests', labelsOf(message), 1)
      if (message.cacheHit) recorder.record('tokenCacheHits', NO_LABELS, 1)
      if (message.endTime !== undefined) {
        recorder.record('verifyDuration', NO_LABELS, (message.endTime - message.startTime) / 1000)
      }
    },
    [GUARD_CHANNELS.staleServed]: () => {
      recorder.record('jwksStaleServed', NO_LABELS, 1)
    },
    [GUARD_CHANNELS.event]: (raw) => {
      const event = raw as GuardEvent
      switch (event.type) {
        case 'jwks_fetched':
          recorder.record('jwksFetches', { outcome: 'success' }, 1)
          break
        case 'jwks_fetch_failed':
        case 'discovery_failed':
          recorder.record('jwksFetches', { outcome: boundedLabel(event.reason, JWKS_OUTCOME) }, 1)
          break
        // Counted from the verify messages, which also see the tokens that pass.
        case 'token_rejected':
        case 'jwks_key_skipped':
        default:
          break
      }
    },
  })
}
