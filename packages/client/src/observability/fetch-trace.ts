import { isOperationObserved, operationChannels, publishEnd, publishStart } from '@ccflow/core'
import { channel } from 'node:diagnostics_channel'
import { performance } from 'node:perf_hooks'
import { isTokenClientError, OAuthError, ThrottledError, TransportError } from '../errors.js'
import type { TokenSource } from '../events.js'
import { CLIENT_CHANNELS, type TokenFetchMessage, type TokenOutcome } from './channels.js'

// `ccflow:client:token-fetch:start` and `…:end` (CLIENT_CHANNELS.fetchStart/fetchEnd).
const fetchChannels = operationChannels('client', 'token-fetch')
const acquisitionChannel = channel(CLIENT_CHANNELS.acquisition)

/**
 * Starts the trace of a token request, or returns `undefined` (and does nothing, not even read
 * the clock) when nobody listens to the token-fetch channels.
 *
 * @internal
 */
export function beginFetchTrace(key: string, background: boolean): TokenFetchMessage | undefined {
  if (!isOperationObserved(fetchChannels)) return undefined
  const message: TokenFetchMessage = {
    key,
    background,
    startTime: performance.now(),
    endTime: undefined,
    phases: [],
    outcome: undefined,
    transportReason: undefined,
    oauthError: undefined,
    status: undefined,
  }
  publishStart(fetchChannels, message)
  return message
}

/**
 * Ends a token request's trace: a success without `error`, else the failure's code, reason or
 * OAuth error and status. A no-op for a request that is not traced.
 *
 * @internal
 */
export function endFetchTrace(message: TokenFetchMessage | undefined, error?: unknown): void {
  if (message === undefined) return
  message.outcome = error === undefined ? 'success' : outcomeOf(error)
  if (error instanceof TransportError) {
    message.transportReason = error.reason
    message.status = error.status
  } else if (error instanceof OAuthError) {
    message.oauthError = error.error
    message.status = error.status
  } else if (error instanceof ThrottledError) {
    message.status = error.status
  }
  publishEnd(fetchChannels, message)
}

/**
 * Publishes how a `getToken()` call ended on `ccflow:client:acquisition`, when anything listens.
 *
 * @internal
 */
export function publishAcquisition(key: string, source: TokenSource, outcome: TokenOutcome): void {
  if (acquisitionChannel.hasSubscribers) acquisitionChannel.publish({ key, source, outcome })
}

/** Whether anything listens for acquisitions: a cache hit then builds no message at all. */
export function isAcquisitionObserved(): boolean {
  return acquisitionChannel.hasSubscribers
}

/**
 * The outcome of a failure: the code of a `TokenClientError` (from either build), else
 * `aborted` (the caller's own signal reason, or anything else).
 *
 * @internal
 */
export function outcomeOf(error: unknown): TokenOutcome {
  return isTokenClientError(error) ? error.code : 'aborted'
}
