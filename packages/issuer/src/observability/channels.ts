import { channelName, type OperationMessage } from '@ccflow/core'
import type { TokenErrorCode, TokenErrorReason } from '../errors.js'
import type { ClientAuthMethod, IssuerEvent } from '../events.js'

/**
 * The `node:diagnostics_channel` channels of `@ccflow/issuer` (names `ccflow:issuer:<topic>`).
 * Subscribe with `diagnostics_channel.subscribe(name, fn)`; nothing is built or timed for a
 * channel nobody listens to.
 *
 * - `event`: every `IssuerEvent`, the same objects `onEvent` receives, from every token
 *   endpoint and strategy in the process.
 * - `requestStart`, `requestEnd`: one {@link IssuerRequestMessage} per `POST` to the token,
 *   revocation or introspection route, published when the request enters the route and again,
 *   completed, when its response ends.
 * - `snapshot`: collection requests for gauges; every live token endpoint pushes its
 *   {@link IssuerSnapshot} onto the array published there.
 */
export const ISSUER_CHANNELS: Readonly<{
  event: string
  requestStart: string
  requestEnd: string
  snapshot: string
}> = Object.freeze({
  event: channelName('issuer', 'event'),
  requestStart: channelName('issuer', 'request:start'),
  requestEnd: channelName('issuer', 'request:end'),
  snapshot: channelName('issuer', 'snapshot'),
})

/**
 * `ccflow:issuer:metric-event`: the events the metrics adapters count (see
 * {@link COUNTED_EVENT_TYPES}), published beside `ccflow:issuer:event`. The adapters listen here
 * rather than on the public channel, whose subscribers make every success build its
 * `token_issued` event (and resolve `req.ip`) for nothing. Internal to ccflow.
 *
 * @internal
 */
export const METRIC_EVENT_CHANNEL: string = channelName('issuer', 'metric-event')

/**
 * The event types the metrics count: rare ones (refusals by a limiter, store failures, key-set
 * fetches); everything per request is counted from the request messages.
 *
 * @internal
 */
export const COUNTED_EVENT_TYPES: ReadonlySet<IssuerEvent['type']> = new Set<IssuerEvent['type']>([
  'rate_limited',
  'server_error',
  'store_error',
  'client_jwks',
  'assertion_legacy_audience',
])

/** The routes whose requests are traced. */
export type IssuerRoute = 'token' | 'revocation' | 'introspection'

/** The timed steps of a request (see {@link IssuerRequestMessage}). */
export type IssuerPhaseName = 'client_authentication' | 'rate_limit' | 'sign' | 'revocation_store'

/**
 * How a request ended: `success`, the `error` code of the JSON answer (an RFC 6749 code,
 * `too_many_requests` for 429, `server_error` for 500), or `aborted` when the client went away
 * before the answer was written.
 */
export type IssuerOutcome =
  'success' | TokenErrorCode | 'too_many_requests' | 'server_error' | 'aborted'

/**
 * One request to the token, revocation or introspection route. Published on
 * `ccflow:issuer:request:start` when it enters the route (only `route`, `startTime` and
 * `phases` are set then) and, the same object completed, on `ccflow:issuer:request:end`.
 *
 * Every field holds a value from a fixed vocabulary except `clientId`, which is what the request
 * named: label it only through an allow-list. No token, secret or assertion is ever in it.
 *
 * Steps (`phases`): `client_authentication`, `rate_limit` (detail `failures` or `issuance`),
 * `sign`, `revocation_store` (detail `add` or `has`).
 */
export interface IssuerRequestMessage extends OperationMessage<IssuerPhaseName> {
  readonly route: IssuerRoute
  /** How it ended; set at the end. */
  outcome: IssuerOutcome | undefined
  /**
   * The stable reason of a refusal, when there is one: the `TokenError`'s `reason`, or
   * `body_too_large` / `unreadable_body` for a body the reader refused.
   */
  reason: TokenErrorReason | 'body_too_large' | 'unreadable_body' | undefined
  /** The HTTP status of the answer; `0` when the client went away first. */
  status: number
  /** `grant_type`: `client_credentials`, `other` for any other value, `undefined` when absent. */
  grantType: 'client_credentials' | 'other' | undefined
  /** The client authentication method the request used, once known. */
  authMethod: ClientAuthMethod | undefined
  /** Whether the client authenticated. */
  authenticated: boolean
  /** The client id the request named (authenticated or not). Raw: label through an allow-list. */
  clientId: string | undefined
  /** Revocation route: whether a token was put on the denylist. */
  revoked: boolean | undefined
  /** Introspection route: the `active` member of the answer. */
  active: boolean | undefined
}

/** The state a signing key is in; `other` is a key that is not active and has no status. */
export type SigningKeyState = 'active' | 'next' | 'retired' | 'other'

/** What one token endpoint reports when gauges are collected. */
export interface IssuerSnapshot {
  /** Its signing keys, counted by state. */
  readonly signingKeys: Readonly<Record<SigningKeyState, number>>
}
