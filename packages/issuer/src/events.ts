import { type RemoteKeySetEvent, wrapHook } from '@ccflow/core'
import { channel } from 'node:diagnostics_channel'
import type { TokenErrorCode } from './errors.js'
import { type SetupFacts, warnAuthenticationFailure } from './diagnostics/auth-warnings.js'
import {
  COUNTED_EVENT_TYPES,
  ISSUER_CHANNELS,
  METRIC_EVENT_CHANNEL,
} from './observability/channels.js'

/** Why a client authentication attempt failed. Sent to `onEvent` only, never to the client. */
export type AuthenticationFailureReason =
  | 'no_credentials'
  | 'malformed_credentials'
  | 'unknown_client'
  | 'wrong_secret'
  | 'expired_secret'
  | 'disabled_client'
  | 'auth_method_not_allowed'
  // private_key_jwt (RFC 7523 §3), in the order the checks run
  | 'unsupported_assertion_type'
  | 'assertion_too_large'
  | 'malformed_assertion'
  | 'assertion_duplicate_member'
  | 'assertion_crit_header'
  | 'assertion_bad_typ'
  | 'client_id_mismatch'
  | 'assertion_alg_not_allowed'
  | 'assertion_unknown_key'
  | 'assertion_bad_signature'
  | 'assertion_wrong_issuer'
  | 'assertion_wrong_audience'
  | 'assertion_missing_exp'
  | 'assertion_expired'
  | 'assertion_issued_in_future'
  | 'assertion_not_yet_valid'
  | 'assertion_lifetime_too_long'
  | 'assertion_missing_jti'
  | 'assertion_jti_too_long'
  | 'assertion_replayed'

/** The client authentication method a request used (RFC 7591 names). */
export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt'

/** An access token was issued. */
export interface TokenIssuedEvent {
  type: 'token_issued'
  clientId: string
  scope: string
  audience: string | string[]
  /** The token's `jti`, for correlating with later use or revocation. */
  jti: string
  /** The token's `exp` (epoch seconds). */
  expiresAt: number
  /** `req.ip`, which follows the app's `trust proxy` setting. */
  ip: string | undefined
}

/**
 * A client revoked one of its own tokens (RFC 7009); it is on the denylist until `expiresAt`.
 * Requests that name any other token answer the same 200 and report nothing.
 */
export interface TokenRevokedEvent {
  type: 'token_revoked'
  clientId: string
  /** The revoked token's `jti`. */
  jti: string
  /** The revoked token's `exp` (epoch seconds). */
  expiresAt: number
  ip: string | undefined
}

/** Client authentication failed; the client got the uniform `invalid_client` answer. */
export interface AuthenticationFailedEvent {
  type: 'authentication_failed'
  reason: AuthenticationFailureReason
  /** The client id the request named, when it could be read. */
  clientId?: string
  method?: ClientAuthMethod
  ip: string | undefined
}

/** The request was refused with an OAuth error other than `invalid_client`. */
export interface TokenRequestRejectedEvent {
  type: 'token_request_rejected'
  error: TokenErrorCode
  /** A stable detail such as `duplicate_parameter` or `scope_not_allowed`. */
  reason: string
  clientId?: string
  ip: string | undefined
}

/**
 * A client authenticated with an assertion whose `aud` was the token endpoint URL, accepted only
 * under `privateKeyJwt.assertionAudience: 'legacy'`: the client must move to the issuer
 * identifier before the rule can be tightened.
 */
export interface AssertionLegacyAudienceEvent {
  type: 'assertion_legacy_audience'
  clientId: string
  ip: string | undefined
}

/**
 * What happened to a client's `jwks_uri` key set (`private_key_jwt`): fetched (with the number
 * of usable keys), a failed fetch (with its reason and the time of the next attempt) or a key
 * skipped (with why). `detail` is the shared remote key set's event.
 */
export interface ClientJwksEvent {
  type: 'client_jwks'
  jwksUri: string
  detail: RemoteKeySetEvent
}

/** A rate limiter answered 429. */
export interface RateLimitedEvent {
  type: 'rate_limited'
  limiter: 'failures' | 'issuance'
  clientId?: string
  ip: string | undefined
}

/**
 * Something unexpected failed (a client store, a hook, the signer); the client got a generic 500.
 * `error` is the thrown value, for your logs; it is never sent to the client.
 */
export interface ServerErrorEvent {
  type: 'server_error'
  error: unknown
  clientId?: string
  ip: string | undefined
}

/**
 * A store failed and the request did not answer 503 for it: a rate-limit store threw while its
 * limiter fails open (`passOnStoreError`, the default; the request went on without that limit)
 * or while a request was uncounted (express-rate-limit only logs that), or `clients.findClient` threw or rejected (the client got a generic 500, also reported as
 * `server_error`). A store that makes the request answer 503 (a timeout, the denylist, a
 * rate-limit store that fails closed) is reported as `server_error` with a
 * `TemporarilyUnavailableError` instead.
 */
export interface StoreErrorEvent {
  type: 'store_error'
  store: 'client_store' | 'rate_limit'
  /** The limiter whose store failed, for `rate_limit`. */
  limiter?: 'failures' | 'issuance'
  /** The thrown value, for your logs only. */
  error: unknown
  clientId?: string
  /** `req.ip`; `undefined` for `rate_limit`, whose store is called with a key only. */
  ip: string | undefined
}

/**
 * Everything the token endpoint reports to the `onEvent` hook, for audit logs and metrics.
 *
 * @example
 * ```ts
 * tokenEndpoint({ ...options, onEvent: (e) => logger.info(e, `oauth ${e.type}`) })
 * ```
 */
export type IssuerEvent =
  | TokenIssuedEvent
  | TokenRevokedEvent
  | AuthenticationFailedEvent
  | TokenRequestRejectedEvent
  | RateLimitedEvent
  | ServerErrorEvent
  | StoreErrorEvent
  | AssertionLegacyAudienceEvent
  | ClientJwksEvent

/** Delivers one event; never throws and never waits. */
export type EmitEvent = (event: IssuerEvent) => void

// `ccflow:issuer:event` (ISSUER_CHANNELS.event): every event, for anyone.
const eventChannel = channel(ISSUER_CHANNELS.event)
// The rare events the metrics adapters count, on a channel of their own (METRIC_EVENT_CHANNEL).
const metricEventChannel = channel(METRIC_EVENT_CHANNEL)

function publish(event: IssuerEvent): void {
  if (eventChannel.hasSubscribers) eventChannel.publish(event)
  if (metricEventChannel.hasSubscribers && COUNTED_EVENT_TYPES.has(event.type)) {
    metricEventChannel.publish(event)
  }
}

/**
 * Wraps the user's hook so that it can neither break nor delay a request: it is called
 * synchronously, a throw is swallowed, and a returned promise is not awaited (its rejection is
 * swallowed too, so it cannot become an unhandled rejection). Every event is also published on
 * the `ccflow:issuer:event` diagnostics channel, when anything subscribes there.
 *
 * Without a hook, `server_error` is reported on `console.error`, so that an unexpected failure
 * is never silent (the message carries the error and no request data); and, given `setup` and
 * outside production (`NODE_ENV !== 'production'`, read here), each refused client
 * authentication is explained once per client and reason in a process warning
 * (`CCFLOW_ISSUER_CLIENT_AUTH`).
 */
export function createEmitter(
  onEvent: ((event: IssuerEvent) => void) | undefined,
  setup?: SetupFacts,
): EmitEvent {
  if (onEvent === undefined) {
    const explain = setup !== undefined && process.env.NODE_ENV !== 'production' ? setup : undefined
    const where = setup?.where ?? 'tokenEndpoint'
    const emit: EmitEvent = (event) => {
      publish(event)
      if (event.type === 'server_error') {
        console.error(`${where}: unexpected error (the client got a generic 500)`, event.error)
      } else if (event.type === 'authentication_failed' && explain !== undefined) {
        warnAuthenticationFailure(event, explain)
      }
    }
    withoutHook.add(emit)
    return emit
  }
  const hook = wrapHook(onEvent)
  return (event) => {
    publish(event)
    hook(event)
  }
}

// Emitters made without a hook: they deliver `server_error` to the console (and explain
// refused authentications outside production), nothing else.
const withoutHook = new WeakSet<EmitEvent>()

/**
 * Whether `emit` delivers events of `type` anywhere (a hook, a subscriber of the event channel,
 * or the console for `server_error`), so that a hot path can skip building an event nobody
 * receives (for `token_issued`, that includes resolving `req.ip` through the app's
 * `trust proxy` setting). Any emitter not made by {@link createEmitter} counts as listening.
 */
export function isObserved(emit: EmitEvent, type: IssuerEvent['type']): boolean {
  return type === 'server_error' || !withoutHook.has(emit) || eventChannel.hasSubscribers
}
