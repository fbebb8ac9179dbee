import {
  boundedLabel,
  type ClientIdLabel,
  type OtelAttributes,
  type SpanDescription,
} from '@ccflow/core'
import { vocabularyOf } from './issuer-metrics.js'
import type { IssuerRequestMessage } from './channels.js'

const OUTCOME = vocabularyOf('outcome')
const GRANT_TYPE = vocabularyOf('grant_type')
const METHOD = vocabularyOf('method')
const LIMITER = vocabularyOf('limiter')
const STORE_CALLS = new Set(['add', 'has'])
// A refusal reason is one of ours (lowercase words); anything else is not put on a span.
const REASON = /^[a-z][a-z_]{0,63}$/

const ROOT_NAMES = {
  token: 'ccflow.token',
  revocation: 'ccflow.revocation',
  introspection: 'ccflow.introspection',
} as const

// Failures that are the server's, not the caller's: span status ERROR, as for an HTTP 5xx.
const SERVER_FAULTS: ReadonlySet<string> = new Set(['server_error', 'temporarily_unavailable'])

/**
 * How a request of the issuer becomes spans: `ccflow.token` (or `ccflow.revocation`,
 * `ccflow.introspection`) with one child per step: `ccflow.client_authentication`,
 * `ccflow.rate_limit`, `ccflow.sign`, `ccflow.revocation_store`. Attributes hold outcomes,
 * reasons, methods and listed client ids only: never a token, secret, assertion or jti.
 *
 * @internal
 */
export function issuerSpans(
  clientLabel: ClientIdLabel | undefined,
): SpanDescription<IssuerRequestMessage> {
  return {
    name: (message) => ROOT_NAMES[message.route],
    attributes(message) {
      const attributes: OtelAttributes = {
        'ccflow.outcome': boundedLabel(message.outcome, OUTCOME),
      }
      if (message.route === 'token') {
        attributes['ccflow.grant_type'] = boundedLabel(message.grantType, GRANT_TYPE)
      }
      if (message.authMethod !== undefined) {
        attributes['ccflow.client_auth.method'] = boundedLabel(message.authMethod, METHOD)
      }
      if (message.reason !== undefined && REASON.test(message.reason)) {
        attributes['ccflow.reason'] = message.reason
      }
      if (clientLabel !== undefined) attributes['ccflow.client_id'] = clientLabel(message.clientId)
      if (message.revoked !== undefined) attributes['ccflow.revoked'] = message.revoked === true
      if (message.active !== undefined) attributes['ccflow.active'] = message.active === true
      return attributes
    },
    error(message) {
      const outcome = boundedLabel(message.outcome, OUTCOME)
      if (outcome === 'success') return undefined
      return { type: outcome, serverFault: SERVER_FAULTS.has(outcome) }
    },
    phaseName: (phase) => `ccflow.${phase.name}`,
    phaseAttributes(phase, message) {
      const attributes: OtelAttributes = {}
      if (phase.name === 'rate_limit') {
        attributes['ccflow.rate_limit.limiter'] = boundedLabel(phase.detail, LIMITER)
      } else if (phase.name === 'revocation_store') {
        attributes['ccflow.revocation_store.operation'] = boundedLabel(phase.detail, STORE_CALLS)
      } else if (phase.name === 'client_authentication' && message.authMethod !== undefined) {
        attributes['ccflow.client_auth.method'] = boundedLabel(message.authMethod, METHOD)
      }
      if (phase.failed) attributes['error.type'] = boundedLabel(message.outcome, OUTCOME)
      return attributes
    },
  }
}
