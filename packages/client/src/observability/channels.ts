import { channelName, type OperationMessage } from '@ccflow/core'
import type { TokenClientErrorCode, TransportErrorReason } from '../errors.js'
import type { TokenSource } from '../events.js'

/**
 * The `node:diagnostics_channel` channels of `@ccflow/client` (names `ccflow:client:<topic>`).
 * Subscribe with `diagnostics_channel.subscribe(name, fn)`; nothing is built or timed for a
 * channel nobody listens to.
 *
 * - `event`: every `TokenClientEvent`, the same objects `onEvent` receives, from every token
 *   client in the process.
 * - `acquisition`: one {@link TokenAcquisitionMessage} per `getToken()` call (and per call
 *   `fetch()` makes), when it resolves or rejects.
 * - `fetchStart`, `fetchEnd`: one {@link TokenFetchMessage} per token request the client sends
 *   (with its retries), published when it starts and again, completed, when it ends.
 */
export const CLIENT_CHANNELS: Readonly<{
  event: string
  acquisition: string
  fetchStart: string
  fetchEnd: string
}> = Object.freeze({
  event: channelName('client', 'event'),
  acquisition: channelName('client', 'acquisition'),
  fetchStart: channelName('client', 'token-fetch:start'),
  fetchEnd: channelName('client', 'token-fetch:end'),
})

/**
 * How a `getToken()` call or a token request ended: `success`, the `code` of the
 * `TokenClientError` it rejected with, or `aborted` when the caller's own `AbortSignal` ended it
 * (or anything else that is no `TokenClientError`).
 */
export type TokenOutcome = 'success' | TokenClientErrorCode | 'aborted'

/** One `getToken()` call, published on `ccflow:client:acquisition` when it settles. */
export interface TokenAcquisitionMessage {
  /** The cache key (a hash). */
  readonly key: string
  /** Where the token came from, or, for a failure, the request the call waited for. */
  readonly source: TokenSource
  readonly outcome: TokenOutcome
}

/** The timed steps of a token request: each HTTP `attempt` (retries are further attempts). */
export type TokenFetchPhaseName = 'attempt'

/**
 * One token request to the token endpoint, with its retries: published on
 * `ccflow:client:token-fetch:start` when it starts (only `key`, `background`, `startTime` and
 * `phases` are set then) and, the same object completed, on `ccflow:client:token-fetch:end`.
 * Every field is from a fixed vocabulary or a number: no token, secret or assertion is in it.
 */
export interface TokenFetchMessage extends OperationMessage<TokenFetchPhaseName> {
  /** The cache key (a hash). */
  readonly key: string
  /** Whether it is a background refresh that no caller waits for. */
  readonly background: boolean
  /** How it ended; set at the end. */
  outcome: TokenOutcome | undefined
  /** For `transport_error`, its `reason`. */
  transportReason: TransportErrorReason | undefined
  /** For `oauth_error`, the RFC 6749 §5.2 code the server sent (label it through a vocabulary). */
  oauthError: string | undefined
  /** The HTTP status of the last answer, when one came. */
  status: number | undefined
}
