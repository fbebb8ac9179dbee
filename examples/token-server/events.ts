/**
 * The token server's `onEvent` hook: each issuer event fills in the request's log line (outcome,
 * reason, client id) and the rare ones get a line of their own. Never a token, secret, assertion
 * or `jti` (the events carry no secret, and the `jti` of `token_issued` is not copied).
 */
import type { IssuerEvent } from '@ccflow/issuer'
import type { Logger } from '../shared/log.js'
import { noteRequest } from '../shared/request-log.js'

/** Builds the hook for `tokenEndpoint({ onEvent })` that writes to `logger`. */
export function logIssuerEvents(logger: Logger): (event: IssuerEvent) => void {
  return (event) => {
    switch (event.type) {
      case 'token_issued':
      case 'token_revoked':
        noteRequest({ outcome: 'success', clientId: event.clientId })
        break
      case 'authentication_failed':
        noteRequest({ outcome: 'invalid_client', reason: event.reason, clientId: event.clientId })
        break
      case 'token_request_rejected':
        noteRequest({ outcome: event.error, reason: event.reason, clientId: event.clientId })
        break
      case 'rate_limited':
        noteRequest({
          outcome: 'too_many_requests',
          reason: `${event.limiter}_limit`,
          clientId: event.clientId,
        })
        break
      case 'server_error': {
        // A store or hook that did not answer is a 503 temporarily_unavailable, not a bug.
        const { error } = event
        const unavailable = error instanceof Error && (error as { status?: unknown }).status === 503
        noteRequest({
          outcome: unavailable ? 'temporarily_unavailable' : 'server_error',
          clientId: event.clientId,
        })
        if (unavailable) {
          logger.warn({ err: error }, 'a dependency did not answer (the client got a 503)')
        } else logger.error({ err: error }, 'unexpected error (the client got a generic 500)')
        break
      }
      case 'store_error':
        // The request itself ends as a 500 or 503 (reported as server_error) or goes through
        // unlimited (a rate-limit store failing open); this line says which store failed.
        logger.warn(
          {
            store: event.store,
            limiter: event.limiter,
            client_id: event.clientId,
            err: event.error,
          },
          'store error',
        )
        break
      case 'assertion_legacy_audience':
        logger.warn(
          { client_id: event.clientId },
          'client assertion addressed to the token endpoint URL instead of the issuer',
        )
        break
      case 'client_jwks': {
        const { detail } = event
        const fields = { jwks_uri: event.jwksUri, event: detail.type }
        if (detail.type === 'jwks_fetched')
          logger.debug({ ...fields, keys: detail.keys }, 'client jwks fetched')
        else if (detail.type === 'jwks_key_skipped')
          logger.warn({ ...fields, reason: detail.reason }, 'client jwks key skipped')
        else logger.warn({ ...fields, reason: detail.reason }, 'client jwks unavailable')
        break
      }
    }
  }
}
