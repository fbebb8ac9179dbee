import { wrapHook } from '@ccflow/core'
import { channel } from 'node:diagnostics_channel'
import type { TokenClientError } from './errors.js'
import { CLIENT_CHANNELS } from './observability/channels.js'

/**
 * Where a token handed to a caller came from:
 *
 * - `cache`: this process's cache, at once (also between `refreshAt` and `hardExpiry`, while a
 *   background refresh runs);
 * - `network`: a token request this call started;
 * - `coalesced`: a token request another call had started (single flight);
 * - `store`: the shared store, written by another process (see `redisTokenStore`).
 */
export type TokenSource = 'cache' | 'network' | 'coalesced' | 'store'

/**
 * A caller got a token. `key` identifies the cache entry (a hash: safe to log; `inspect()` tells
 * which scope and resource it stands for).
 */
export interface TokenAcquiredEvent {
  type: 'acquired'
  key: string
  source: TokenSource
  /** When the token expires (epoch milliseconds); `undefined` when the server gave no lifetime. */
  expiresAt: number | undefined
}

/** A cached token passed its `refreshAt`: a background refresh started and nobody waits for it. */
export interface RefreshStartedEvent {
  type: 'refresh_started'
  key: string
  /** When the cached token expires (epoch milliseconds). */
  expiresAt: number
}

/** A token request attempt failed in a way worth retrying; the next attempt starts after `delayMs`. */
export interface RetryEvent {
  type: 'retry'
  key: string
  /** The attempt that failed: 1 for the first request. */
  attempt: number
  delayMs: number
  /** The failure: `network` (no answer) or `http_status` (429 or a retryable 5xx). */
  reason: 'network' | 'http_status'
  /** The status of the failed attempt, when one came. */
  status: number | undefined
}

/**
 * The token endpoint answered 429 or 503 with `Retry-After`: no new request for this key is sent
 * before `until` (epoch milliseconds).
 */
export interface ThrottledEvent {
  type: 'throttled'
  key: string
  status: number
  /** Seconds the server asked to wait. */
  retryAfter: number
  until: number
}

/**
 * Getting a token failed: `background` tells whether it was a background refresh (its failure
 * reaches nobody else: the cached token keeps being served until its hard expiry).
 */
export interface TokenFailedEvent {
  type: 'failed'
  key: string
  background: boolean
  error: TokenClientError
}

/**
 * The shared store failed (Redis down, timeout, a reply it could not read): the client carries
 * on without it, with its own cache and its own token requests.
 */
export interface StoreErrorEvent {
  type: 'store_error'
  key: string
  /** What the client was doing. */
  operation: 'read' | 'write' | 'lock' | 'delete'
  error: unknown
}

/**
 * Everything a token client reports to its `onEvent` hook, for logs and metrics.
 *
 * @example
 * ```ts
 * createTokenClient({ ...options, onEvent: (e) => e.type === 'failed' && log.warn(e.error) })
 * ```
 */
export type TokenClientEvent =
  | TokenAcquiredEvent
  | RefreshStartedEvent
  | RetryEvent
  | ThrottledEvent
  | TokenFailedEvent
  | StoreErrorEvent

/** Delivers one event; never throws and never waits. */
export type EmitEvent = (event: TokenClientEvent) => void

// `ccflow:client:event` (CLIENT_CHANNELS.event): every event of every client, for the adapters.
const eventChannel = channel(CLIENT_CHANNELS.event)

// Emitters made without a hook: they only publish on the event channel.
const withoutHook = new WeakSet<EmitEvent>()

/**
 * Wraps the user's hook (core's wrapHook) so that it can neither break nor delay `getToken()`:
 * called synchronously, a throw or a rejected promise ignored. Every event is also published on
 * the `ccflow:client:event` diagnostics channel, when anything subscribes there.
 */
export function createEmitter(onEvent: ((event: TokenClientEvent) => void) | undefined): EmitEvent {
  if (onEvent === undefined) {
    const publish: EmitEvent = (event) => {
      if (eventChannel.hasSubscribers) eventChannel.publish(event)
    }
    withoutHook.add(publish)
    return publish
  }
  const hook = wrapHook(onEvent)
  return (event) => {
    if (eventChannel.hasSubscribers) eventChannel.publish(event)
    hook(event)
  }
}

/**
 * Whether `emit` delivers events anywhere (a hook, or a subscriber of the event channel), so
 * that the cache-hit path builds no event nobody receives.
 */
export function isObserved(emit: EmitEvent): boolean {
  return !withoutHook.has(emit) || eventChannel.hasSubscribers
}
