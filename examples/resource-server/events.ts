/**
 * The resource server's `onEvent` hook for the guard: refusals fill in the request's log line,
 * key-set events get a line of their own and feed the key-set readiness check.
 */
import type { GuardEvent } from '@ccflow/guard'
import type { ReadinessCheck } from '../shared/health.js'
import type { Logger } from '../shared/log.js'
import { noteRequest } from '../shared/request-log.js'

/** How long the guard keeps serving its last good key set while refreshes fail (its default). */
const STALE_FOR_SECONDS = 3600

/**
 * Whether the guard can verify tokens now, from its key-set events: not before its first JWKS
 * fetch succeeded (`key_set_not_loaded`), nor once refreshes have failed for longer than the
 * set's max-age plus the hour the guard serves a stale set (`key_set_stale`).
 */
export class KeySetReadiness implements ReadinessCheck {
  readonly name = 'key_set'
  private lastSuccess: { at: number; maxAge: number } | undefined
  private failing = false

  private readonly now: () => number

  /** @param now - the clock, in epoch milliseconds (tests pass their own). */
  constructor(now: () => number = Date.now) {
    this.now = now
  }

  /** Takes in one guard event (only key-set events matter). */
  observe(event: GuardEvent): void {
    if (event.type === 'jwks_fetched') {
      this.lastSuccess = { at: this.now(), maxAge: event.maxAge }
      this.failing = false
    } else if (event.type === 'jwks_fetch_failed' || event.type === 'discovery_failed') {
      this.failing = true
    }
  }

  check(): string | undefined {
    if (this.lastSuccess === undefined) return 'key_set_not_loaded'
    const usableUntil = this.lastSuccess.at + (this.lastSuccess.maxAge + STALE_FOR_SECONDS) * 1000
    return this.failing && this.now() > usableUntil ? 'key_set_stale' : undefined
  }
}

/** Builds the guard's `onEvent` hook: logs to `logger` and tells `keySet` what happened. */
export function logGuardEvents(
  logger: Logger,
  keySet: KeySetReadiness,
): (event: GuardEvent) => void {
  return (event) => {
    keySet.observe(event)
    switch (event.type) {
      case 'token_rejected':
        noteRequest({ outcome: 'invalid_token', reason: event.reason })
        break
      case 'jwks_fetched':
        logger.info(
          { jwks_uri: event.uri, keys: event.keys, max_age: event.maxAge },
          'jwks fetched',
        )
        break
      case 'jwks_fetch_failed':
        logger.warn(
          { jwks_uri: event.uri, reason: event.reason, status: event.status },
          'jwks fetch failed',
        )
        break
      case 'discovery_failed':
        logger.warn(
          { metadata_uri: event.uri, reason: event.reason, status: event.status },
          'issuer metadata unusable',
        )
        break
      case 'jwks_key_skipped':
        logger.warn(
          { jwks_uri: event.uri, kid: event.kid, reason: event.reason },
          'jwks key skipped',
        )
        break
    }
  }
}
