/**
 * The resource server's guard, observed: its `onEvent` hook (refusals fill in the request's log
 * line, key-set events get a line of their own) and the key-set readiness check.
 */
import type { GuardEvent, GuardStats } from '@ccflow/guard'
import type { ReadinessCheck } from '../shared/health.js'
import type { Logger } from '../shared/log.js'
import { noteRequest } from '../shared/request-log.js'

/** How long the guard keeps serving its last good key set while refreshes fail (its default). */
const STALE_FOR_SECONDS = 3600

/**
 * Whether the guard can verify tokens now, read from its `stats()`: not before its first JWKS
 * fetch succeeded (`key_set_not_loaded`), nor once refreshes have failed past the set's max-age
 * plus the hour the guard serves a stale set (`key_set_stale`). A set past its max-age that
 * nobody has asked for yet is fine: the next request refreshes it.
 *
 * The guard fetches only when a request needs a key, and a server that is not ready gets no
 * requests from its load balancer; so while not ready each check calls `refresh` (server.ts
 * sends the guard a probe request, which makes it fetch again within its own backoff).
 */
export function keySetCheck(
  stats: () => GuardStats,
  refresh: () => void = () => {},
  now: () => number = Date.now,
): ReadinessCheck {
  return {
    name: 'key_set',
    check() {
      const { jwks, keys } = stats()
      let reason: string | undefined
      if (jwks === undefined) reason = keys > 0 ? undefined : 'no_keys'
      else if (jwks.lastSuccessAt === undefined) reason = 'key_set_not_loaded'
      else if (
        jwks.consecutiveFailures > 0 &&
        now() > (jwks.expiresAt ?? jwks.lastSuccessAt) + STALE_FOR_SECONDS * 1000
      ) {
        reason = 'key_set_stale'
      }
      if (reason !== undefined && jwks !== undefined) refresh()
      return reason
    },
  }
}

/** Builds the guard's `onEvent` hook: refusals go to the request's log line, key-set events to `logger`. */
export function logGuardEvents(logger: Logger): (event: GuardEvent) => void {
  return (event) => {
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
