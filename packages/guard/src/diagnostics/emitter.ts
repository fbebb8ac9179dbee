import { channel } from 'node:diagnostics_channel'
import type { InvalidTokenReason } from '../errors.js'
import { wrapHook } from '@ccflow/core'
import { GUARD_CHANNELS } from '../observability/channels.js'
import type { EmitGuardEvent, KeySourceEvent, TokenRejectedEvent } from '../events.js'
import type { VerifierConfig } from '../options/resolve.js'
import { defaultReport } from './warnings.js'

/** Where a verifier sends its events, decided once when it is built. */
export interface GuardEmitter {
  /** For the remote key set's `onEvent`: the hook, or the default warnings. */
  readonly keySource: (event: KeySourceEvent) => void
  /**
   * Reports a 401 `invalid_token`. When nobody receives rejections (no hook, in production, and
   * no subscriber of the event channel) it builds no event at all.
   */
  readonly rejected: (
    reason: InvalidTokenReason,
    payload: Record<string, unknown> | undefined,
  ) => void
}

// `ccflow:guard:event` (GUARD_CHANNELS.event): every event of every guard, for the adapters.
const eventChannel = channel(GUARD_CHANNELS.event)

/**
 * The hook when one is set; else the default warnings, whose `aud`/`iss` mismatch lines are
 * written only outside production (`NODE_ENV` is read once, here). Either way, every event is
 * also published on the `ccflow:guard:event` diagnostics channel when anything subscribes there.
 */
export function createGuardEmitter(config: VerifierConfig): GuardEmitter {
  const production = process.env.NODE_ENV === 'production'
  const source = config.keySource
  const deliver: EmitGuardEvent =
    config.onEvent === undefined
      ? defaultReport(
          config.where,
          source.type === 'remote' ? (source.jwksUri ?? source.issuer) : '',
          !production,
        )
      : wrapHook(config.onEvent)
  const emit: EmitGuardEvent = (event) => {
    if (eventChannel.hasSubscribers) eventChannel.publish(event)
    deliver(event)
  }
  const observed = config.onEvent !== undefined || !production
  return {
    keySource: emit,
    rejected: (reason, payload) => {
      if (observed) emit(rejection(reason, payload, config))
      else if (eventChannel.hasSubscribers) eventChannel.publish(rejection(reason, payload, config))
    },
  }
}

function rejection(
  reason: InvalidTokenReason,
  payload: Record<string, unknown> | undefined,
  config: VerifierConfig,
): TokenRejectedEvent {
  if (payload !== undefined && reason === 'wrong_audience') {
    return {
      type: 'token_rejected',
      reason,
      mismatch: {
        claim: 'aud',
        expected: [...config.audiences],
        actual: payload.aud,
      },
    }
  }
  if (payload !== undefined && reason === 'wrong_issuer') {
    return {
      type: 'token_rejected',
      reason,
      mismatch: { claim: 'iss', expected: [...config.issuers], actual: payload.iss },
    }
  }
  return { type: 'token_rejected', reason }
}
