import { boundedLabel, type OtelAttributes, type SpanDescription } from '@ccflow/core'
import type { TokenFetchMessage } from './channels.js'
import { TRANSPORT_REASONS, vocabularyOf } from './client-metrics.js'

const OUTCOME = vocabularyOf('outcome')
// RFC 6749 §5.2 and RFC 8707 §2 error codes; anything else a server sends is `other`.
const OAUTH_ERRORS: ReadonlySet<string> = new Set([
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
  'invalid_target',
])

const FETCH_SPAN = 'ccflow.client.token_fetch'

/**
 * How a token request of the client becomes spans: `ccflow.client.token_fetch` with
 * `ccflow.outcome`, `ccflow.client.background`, `ccflow.client.attempts`, the HTTP status of the
 * failed answer, and for a failure `error.type` (the transport reason, the OAuth error code, or
 * `throttled`) with status ERROR; one child `ccflow.client.token_request` per attempt. Never a token, secret,
 * assertion, scope or URL.
 *
 * @internal
 */
export function clientSpans(): SpanDescription<TokenFetchMessage> {
  return {
    name: () => FETCH_SPAN,
    attributes(message) {
      const attributes: OtelAttributes = {
        'ccflow.outcome': boundedLabel(message.outcome, OUTCOME),
        'ccflow.client.background': message.background === true,
        'ccflow.client.attempts': message.phases.length,
      }
      if (typeof message.status === 'number') {
        attributes['http.response.status_code'] = message.status
      }
      return attributes
    },
    error(message) {
      const outcome = boundedLabel(message.outcome, OUTCOME)
      if (outcome === 'success') return undefined
      // Span status ERROR for every failure: the caller got no token, whoever was at fault.
      return { type: errorType(message, outcome), serverFault: true }
    },
    phaseName: () => 'ccflow.client.token_request',
    phaseAttributes(phase, message) {
      if (!phase.failed) return {}
      const outcome = boundedLabel(message.outcome, OUTCOME)
      // An earlier attempt of a request that went on to succeed was retried; which failure it was
      // is in the `retry` event.
      return {
        'error.type': outcome === 'success' ? 'attempt_failed' : errorType(message, outcome),
      }
    },
  }
}

function errorType(message: TokenFetchMessage, outcome: string): string {
  if (outcome === 'transport_error') return boundedLabel(message.transportReason, TRANSPORT_REASONS)
  if (outcome === 'oauth_error') return boundedLabel(message.oauthError, OAUTH_ERRORS)
  return outcome
}
