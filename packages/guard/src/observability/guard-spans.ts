import { boundedLabel, type OtelAttributes, type SpanDescription } from '@ccflow/core'
import { vocabularyOf } from './guard-metrics.js'
import type { GuardVerifyMessage } from './channels.js'

const OUTCOME = vocabularyOf('outcome')
const REASON = vocabularyOf('reason')

// Failures that are the server's, not the caller's: span status ERROR, as for an HTTP 5xx.
const SERVER_FAULTS: ReadonlySet<string> = new Set(['temporarily_unavailable', 'error', 'other'])
// Outcomes that let the request through.
const PASSED: ReadonlySet<string> = new Set(['success', 'anonymous'])

/**
 * How a verification becomes a span: `ccflow.guard.verify`, with `ccflow.outcome`,
 * `ccflow.reason` for a refusal, `ccflow.guard.cache_hit`, and `error.type` (the error code)
 * when the token was refused. Attributes hold values from fixed vocabularies only: never a
 * token, claim or jti.
 *
 * @internal
 */
export function guardSpans(): SpanDescription<GuardVerifyMessage> {
  return {
    name: () => 'ccflow.guard.verify',
    attributes(message) {
      const attributes: OtelAttributes = {
        'ccflow.outcome': boundedLabel(message.outcome, OUTCOME),
        'ccflow.guard.cache_hit': message.cacheHit === true,
      }
      if (message.reason !== undefined) {
        attributes['ccflow.reason'] = boundedLabel(message.reason, REASON)
      }
      return attributes
    },
    error(message) {
      const outcome = boundedLabel(message.outcome, OUTCOME)
      if (PASSED.has(outcome)) return undefined
      return { type: outcome, serverFault: SERVER_FAULTS.has(outcome) }
    },
    // A verification has no child steps.
    phaseName: () => 'ccflow.guard.verify',
    phaseAttributes: () => ({}),
  }
}
