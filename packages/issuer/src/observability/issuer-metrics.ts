import {
  boundedLabel,
  collectSnapshots,
  MAX_LABELLED_CLIENT_IDS,
  NONE_LABEL,
  subscribeChannels,
  type ClientIdLabel,
  type GaugeReading,
  type KeySourceFailureReason,
  type MetricDefinition,
  type MetricLabels,
  type MetricRecorder,
  type MetricSet,
} from '@ccflow/core'
import { isTokenError, type TemporarilyUnavailableError } from '../errors.js'
import type { AuthenticationFailureReason, IssuerEvent } from '../events.js'
import {
  ISSUER_CHANNELS,
  METRIC_EVENT_CHANNEL,
  type IssuerOutcome,
  type IssuerRequestMessage,
  type IssuerSnapshot,
  type SigningKeyState,
} from './channels.js'

/** The issuer's metrics, by key. */
export type IssuerMetricKey =
  | 'tokenRequests'
  | 'tokenRequestDuration'
  | 'clientAuthentications'
  | 'rateLimited'
  | 'storeErrors'
  | 'revocations'
  | 'introspections'
  | 'signingKeys'
  | 'clientJwksFetches'
  | 'legacyAudience'

/**
 * Every metric of the issuer, for both adapters. Names are OpenTelemetry's; the Prometheus names
 * (`ccflow_issuer_token_requests_total`, …) are derived by `prometheusName`.
 */
export const ISSUER_METRICS: Readonly<Record<IssuerMetricKey, MetricDefinition>> = Object.freeze({
  tokenRequests: {
    name: 'ccflow.issuer.token_requests',
    kind: 'counter',
    unit: '{request}',
    description: 'Token requests, by grant type and outcome (success or the OAuth error code).',
    labels: ['grant_type', 'outcome'],
    perClient: true,
  },
  tokenRequestDuration: {
    name: 'ccflow.issuer.token_request.duration',
    kind: 'histogram',
    unit: 's',
    description: 'Time from a token request entering the route to the end of its answer.',
    labels: ['outcome'],
  },
  clientAuthentications: {
    name: 'ccflow.issuer.client_authentications',
    kind: 'counter',
    unit: '{authentication}',
    description: 'Client authentications at the token endpoint, by method, outcome and reason.',
    labels: ['method', 'outcome', 'reason'],
    perClient: true,
  },
  rateLimited: {
    name: 'ccflow.issuer.rate_limited',
    kind: 'counter',
    unit: '{request}',
    description: 'Requests answered 429 by a rate limiter.',
    labels: ['limiter'],
    perClient: true,
  },
  storeErrors: {
    name: 'ccflow.issuer.store_errors',
    kind: 'counter',
    unit: '{error}',
    description:
      'Store failures: 503s a store caused, client stores that threw, rate-limit stores passed over.',
    labels: ['store'],
  },
  revocations: {
    name: 'ccflow.issuer.revocations',
    kind: 'counter',
    unit: '{request}',
    description: 'Revocation requests (RFC 7009), by outcome.',
    labels: ['outcome'],
    perClient: true,
  },
  introspections: {
    name: 'ccflow.issuer.introspections',
    kind: 'counter',
    unit: '{request}',
    description: 'Introspection requests (RFC 7662), by outcome and the active answer.',
    labels: ['outcome', 'active'],
    perClient: true,
  },
  signingKeys: {
    name: 'ccflow.issuer.signing_keys',
    kind: 'gauge',
    unit: '{key}',
    description: 'Signing keys of the token endpoints in this process, by state.',
    labels: ['state'],
  },
  clientJwksFetches: {
    name: 'ccflow.issuer.client_jwks_fetches',
    kind: 'counter',
    unit: '{fetch}',
    description: 'Fetches of client key sets (private_key_jwt jwks_uri), by outcome.',
    labels: ['outcome'],
  },
  legacyAudience: {
    name: 'ccflow.issuer.legacy_audience',
    kind: 'counter',
    unit: '{authentication}',
    description: 'Client assertions accepted only under the legacy audience rule.',
    labels: [],
    perClient: true,
  },
})

// The label vocabularies. Each list is checked against its type, both ways, so a new value in
// the type fails to compile until it is listed here (and in the README's table).
type Exhaustive<T extends string, L extends readonly string[]> =
  Exclude<T, L[number]> extends never ? L : never

const OUTCOMES = [
  'success',
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
  'invalid_target',
  'temporarily_unavailable',
  'too_many_requests',
  'server_error',
  'aborted',
] as const satisfies readonly IssuerOutcome[]

const AUTHENTICATION_FAILURE_REASONS = [
  'no_credentials',
  'malformed_credentials',
  'unknown_client',
  'wrong_secret',
  'expired_secret',
  'disabled_client',
  'auth_method_not_allowed',
  'unsupported_assertion_type',
  'assertion_too_large',
  'malformed_assertion',
  'assertion_duplicate_member',
  'assertion_crit_header',
  'assertion_bad_typ',
  'client_id_mismatch',
  'assertion_alg_not_allowed',
  'assertion_unknown_key',
  'assertion_bad_signature',
  'assertion_wrong_issuer',
  'assertion_wrong_audience',
  'assertion_missing_exp',
  'assertion_expired',
  'assertion_issued_in_future',
  'assertion_not_yet_valid',
  'assertion_lifetime_too_long',
  'assertion_missing_jti',
  'assertion_jti_too_long',
  'assertion_replayed',
] as const satisfies readonly AuthenticationFailureReason[]

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

const KEY_STATES = [
  'active',
  'next',
  'retired',
  'other',
] as const satisfies readonly SigningKeyState[]

/**
 * The vocabularies of the issuer's labels; `authentication_outcome`, `revocation_outcome` and
 * `jwks_outcome` are the `outcome` label of their metric.
 */
export type IssuerLabel =
  | 'grant_type'
  | 'outcome'
  | 'method'
  | 'authentication_outcome'
  | 'reason'
  | 'limiter'
  | 'store'
  | 'revocation_outcome'
  | 'active'
  | 'state'
  | 'jwks_outcome'

/** The values each label can take; anything else becomes `other`, nothing becomes `none`. */
export const ISSUER_LABEL_VALUES: Readonly<Record<IssuerLabel, readonly string[]>> = Object.freeze({
  grant_type: ['client_credentials', 'other', NONE_LABEL],
  outcome: OUTCOMES satisfies Exhaustive<IssuerOutcome, typeof OUTCOMES>,
  method: ['client_secret_basic', 'client_secret_post', 'private_key_jwt', NONE_LABEL],
  authentication_outcome: ['success', 'failure'],
  reason: [
    ...(AUTHENTICATION_FAILURE_REASONS satisfies Exhaustive<
      AuthenticationFailureReason,
      typeof AUTHENTICATION_FAILURE_REASONS
    >),
    NONE_LABEL,
  ],
  limiter: ['failures', 'issuance'],
  store: ['client_store', 'denylist', 'rate_limit', 'replay_store'],
  revocation_outcome: ['revoked', 'ignored', ...OUTCOMES.filter((o) => o !== 'success')],
  active: ['true', 'false', NONE_LABEL],
  state: KEY_STATES satisfies Exhaustive<SigningKeyState, typeof KEY_STATES>,
  jwks_outcome: [
    'success',
    ...(KEY_SOURCE_FAILURES satisfies Exhaustive<
      KeySourceFailureReason,
      typeof KEY_SOURCE_FAILURES
    >),
  ],
})

/** The vocabulary of `label`, as a set. @internal */
export function vocabularyOf(label: IssuerLabel): ReadonlySet<string> {
  return new Set(ISSUER_LABEL_VALUES[label])
}

const OUTCOME = vocabularyOf('outcome')
const GRANT_TYPE = vocabularyOf('grant_type')
const METHOD = vocabularyOf('method')
const REASON = vocabularyOf('reason')
const LIMITER = vocabularyOf('limiter')
const STORE = vocabularyOf('store')
const JWKS_OUTCOME = vocabularyOf('jwks_outcome')

/** The issuer's metric set: definitions and the gauge reader. @internal */
export const ISSUER_METRIC_SET: MetricSet<IssuerMetricKey> = Object.freeze({
  metrics: ISSUER_METRICS,
  gauges: Object.freeze({ signingKeys: readSigningKeys }),
})

function readSigningKeys(): GaugeReading[] {
  const totals: Record<SigningKeyState, number> = { active: 0, next: 0, retired: 0, other: 0 }
  for (const { signingKeys } of collectSnapshots<IssuerSnapshot>(ISSUER_CHANNELS.snapshot)) {
    for (const state of KEY_STATES) totals[state] += signingKeys[state]
  }
  return KEY_STATES.map((state) => ({ labels: { state }, value: totals[state] }))
}

/**
 * Subscribes to the issuer's channels and records every metric of {@link ISSUER_METRICS} on
 * `recorder`; returns the function that unsubscribes. Every label value goes through its
 * vocabulary (a message published by anyone else cannot add a series), and a client id only
 * through `clientLabel`.
 *
 * @internal
 */
export function subscribeIssuerMetrics(
  recorder: MetricRecorder<IssuerMetricKey>,
  clientLabel: ClientIdLabel | undefined,
): () => void {
  const client = (id: string | undefined): Record<string, string> =>
    clientLabel === undefined ? {} : { client_id: clientLabel(id) }
  const recordRequest = requestRecorder(recorder, clientLabel)
  return subscribeChannels({
    [METRIC_EVENT_CHANNEL]: (raw) => {
      const event = raw as IssuerEvent
      switch (event.type) {
        case 'rate_limited':
          recorder.record(
            'rateLimited',
            { limiter: boundedLabel(event.limiter, LIMITER), ...client(event.clientId) },
            1,
          )
          break
        case 'server_error': {
          const store = unavailableStore(event.error)
          if (store !== undefined) recorder.record('storeErrors', { store }, 1)
          break
        }
        case 'store_error':
          recorder.record('storeErrors', { store: boundedLabel(event.store, STORE) }, 1)
          break
        case 'client_jwks': {
          const { detail } = event
          if (detail.type === 'jwks_fetched') {
            recorder.record('clientJwksFetches', { outcome: 'success' }, 1)
          } else if (detail.type === 'jwks_fetch_failed') {
            recorder.record(
              'clientJwksFetches',
              { outcome: boundedLabel(detail.reason, JWKS_OUTCOME) },
              1,
            )
          }
          break
        }
        case 'assertion_legacy_audience':
          recorder.record('legacyAudience', client(event.clientId), 1)
          break
        // Only COUNTED_EVENT_TYPES are published here: requests (issued, refused, revoked) are
        // counted from the request messages, which also see the requests that succeed.
        case 'token_issued':
        case 'token_revoked':
        case 'authentication_failed':
        case 'token_request_rejected':
        default:
          break
      }
    },
    [ISSUER_CHANNELS.requestEnd]: (raw) => {
      recordRequest(raw as IssuerRequestMessage)
    },
  })
}

// Distinct label sets remembered per subscription (see requestRecorder); the vocabularies keep
// real traffic to a few dozen.
const MAX_REMEMBERED_LABEL_SETS = 2000

/** What one request message records: counters (each +1) and the duration's labels. */
interface RequestRecords {
  readonly counts: readonly (readonly [IssuerMetricKey, MetricLabels])[]
  /** The labels of `tokenRequestDuration`, for the token route. */
  readonly duration: MetricLabels | undefined
}

/**
 * Numbers the values of a label: a vocabulary value its position, anything else one code for
 * `other` and `undefined` one for `none` (so `radix` codes in all). Codes of several labels make
 * one number, a cheaper cache key than the joined strings.
 */
function labelCoder(vocabulary: ReadonlySet<string>): {
  code: (value: string | undefined) => number
  radix: number
} {
  const codes = new Map([...vocabulary].map((value, index) => [value, index]))
  const other = vocabulary.size
  const none = other + 1
  return {
    code: (value) => (value === undefined ? none : (codes.get(value) ?? other)),
    radix: none + 1,
  }
}

const ROUTE = labelCoder(new Set(['token', 'revocation', 'introspection']))
const OUTCOME_CODE = labelCoder(OUTCOME)
const METHOD_CODE = labelCoder(METHOD)
const REASON_CODE = labelCoder(REASON)
const GRANT_TYPE_CODE = labelCoder(GRANT_TYPE)

/** 0, 1 or 2 for `undefined`, `false` or `true`. */
function flag(value: boolean | undefined): number {
  return value === undefined ? 0 : value ? 2 : 1
}

/**
 * Records each request message: `clientAuthentications` when the client authenticated or was
 * refused as `invalid_client`, and by route `tokenRequests` with `tokenRequestDuration`,
 * `revocations` or `introspections`.
 *
 * The labels objects are frozen and remembered per distinct combination of bounded values (at
 * most {@link MAX_REMEMBERED_LABEL_SETS}), so that a recorder counts a request without building
 * or hashing labels: the Prometheus adapter adds it to a sum kept per labels object (see
 * `registerPrometheusMetrics`).
 */
function requestRecorder(
  recorder: MetricRecorder<IssuerMetricKey>,
  clientLabel: ClientIdLabel | undefined,
): (message: IssuerRequestMessage) => void {
  const remembered = new Map<number, RequestRecords>()
  // Client label values: the listed ids and `other`, so at most MAX_LABELLED_CLIENT_IDS + 1.
  const clientCodes = new Map<string, number>()
  const clientCode = (id: string | undefined): number => {
    if (clientLabel === undefined) return 0
    const value = clientLabel(id)
    let code = clientCodes.get(value)
    if (code === undefined) clientCodes.set(value, (code = clientCodes.size))
    return code
  }
  return (message) => {
    let key = ROUTE.code(message.route)
    key = key * OUTCOME_CODE.radix + OUTCOME_CODE.code(message.outcome)
    key = key * METHOD_CODE.radix + METHOD_CODE.code(message.authMethod)
    key = key * REASON_CODE.radix + REASON_CODE.code(message.reason)
    key = key * GRANT_TYPE_CODE.radix + GRANT_TYPE_CODE.code(message.grantType)
    key = ((key * 2 + (message.authenticated ? 1 : 0)) * 3 + flag(message.revoked)) * 3
    key =
      (key + flag(message.active)) * (MAX_LABELLED_CLIENT_IDS + 1) + clientCode(message.clientId)
    let records = remembered.get(key)
    if (records === undefined) {
      records = requestRecords(message, clientLabel)
      if (remembered.size < MAX_REMEMBERED_LABEL_SETS) remembered.set(key, records)
    }
    for (const [metric, labels] of records.counts) recorder.record(metric, labels, 1)
    if (records.duration !== undefined) {
      const seconds = ((message.endTime ?? message.startTime) - message.startTime) / 1000
      recorder.record('tokenRequestDuration', records.duration, seconds)
    }
  }
}

function requestRecords(
  message: IssuerRequestMessage,
  clientLabel: ClientIdLabel | undefined,
): RequestRecords {
  const outcome = boundedLabel(message.outcome, OUTCOME)
  const method = boundedLabel(message.authMethod, METHOD)
  const reason = boundedLabel(message.reason, REASON)
  const grantType = boundedLabel(message.grantType, GRANT_TYPE)
  const perClient: Record<string, string> =
    clientLabel === undefined ? {} : { client_id: clientLabel(message.clientId) }
  const counts: [IssuerMetricKey, MetricLabels][] = []
  if (message.authenticated) {
    counts.push([
      'clientAuthentications',
      Object.freeze({ method, outcome: 'success', reason: NONE_LABEL, ...perClient }),
    ])
  } else if (message.outcome === 'invalid_client') {
    counts.push([
      'clientAuthentications',
      Object.freeze({ method, outcome: 'failure', reason, ...perClient }),
    ])
  }
  let duration: MetricLabels | undefined
  switch (message.route) {
    case 'token':
      counts.push([
        'tokenRequests',
        Object.freeze({ grant_type: grantType, outcome, ...perClient }),
      ])
      duration = Object.freeze({ outcome })
      break
    case 'revocation': {
      const result =
        outcome === 'success' ? (message.revoked === true ? 'revoked' : 'ignored') : outcome
      counts.push(['revocations', Object.freeze({ outcome: result, ...perClient })])
      break
    }
    case 'introspection': {
      const active = message.active === undefined ? NONE_LABEL : String(message.active === true)
      counts.push(['introspections', Object.freeze({ outcome, active, ...perClient })])
      break
    }
    default:
      break
  }
  return { counts, duration }
}

/** The store behind a 503, when a store (not a hook or a client's key set) was the cause. */
function unavailableStore(error: unknown): string | undefined {
  if (!isTokenError(error) || error.code !== 'temporarily_unavailable') return undefined
  const { dependency } = error as TemporarilyUnavailableError
  return STORE.has(dependency) ? dependency : undefined
}
