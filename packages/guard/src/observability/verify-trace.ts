import {
  isOperationObserved,
  operationChannels,
  phaseListFor,
  publishEnd,
  publishStart,
} from '@ccflow/core'
import { performance } from 'node:perf_hooks'
import { isBearerError } from '../errors.js'
import type { GuardVerifyMessage } from './channels.js'

// `ccflow:guard:verify:start` and `…:end` (GUARD_CHANNELS.verifyStart/verifyEnd).
const verifyChannels = operationChannels('guard', 'verify')

/**
 * Starts the trace of one verification, or returns `undefined` (and does nothing, not even read
 * the clock) when nobody listens to the verify channels.
 *
 * @internal
 */
export function beginVerifyTrace(): GuardVerifyMessage | undefined {
  if (!isOperationObserved(verifyChannels)) return undefined
  const message: GuardVerifyMessage = {
    startTime: performance.now(),
    endTime: undefined,
    phases: phaseListFor(verifyChannels),
    outcome: undefined,
    reason: undefined,
    cacheHit: false,
  }
  publishStart(verifyChannels, message)
  return message
}

/**
 * Ends a verification's trace: a success without `error`, else the refusal's code and reason
 * (`error` for an exception that is not a `BearerError`). A no-op without a trace.
 *
 * @internal
 */
export function endVerifyTrace(
  trace: GuardVerifyMessage | undefined,
  outcome: 'success' | 'anonymous' | 'failure',
  error?: unknown,
): void {
  if (trace === undefined) return
  if (outcome !== 'failure') {
    trace.outcome = outcome
  } else if (isBearerError(error)) {
    trace.outcome = error.code
    trace.reason = error.reason
  } else {
    trace.outcome = 'error'
  }
  publishEnd(verifyChannels, trace)
}
