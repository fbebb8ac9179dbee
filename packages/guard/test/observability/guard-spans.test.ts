import { describe, expect, it } from 'vitest'
import type { GuardVerifyMessage } from '../../src/observability/channels.js'
import { guardSpans } from '../../src/observability/guard-spans.js'

const message = (fields: Partial<GuardVerifyMessage>): GuardVerifyMessage => ({
  startTime: 0,
  endTime: 1,
  phases: [],
  outcome: undefined,
  reason: undefined,
  cacheHit: false,
  ...fields,
})

describe('guardSpans', () => {
  const spans = guardSpans()

  it('names every verification ccflow.guard.verify, a step included (it has none)', () => {
    expect(spans.name(message({}))).toBe('ccflow.guard.verify')
    expect(spans.phaseName(undefined as never)).toBe('ccflow.guard.verify')
    expect(spans.phaseAttributes(undefined as never, message({}))).toEqual({})
  })

  it.each([
    ['success', undefined],
    ['anonymous', undefined],
    ['invalid_token', { type: 'invalid_token', serverFault: false }],
    ['temporarily_unavailable', { type: 'temporarily_unavailable', serverFault: true }],
    ['error', { type: 'error', serverFault: true }],
  ] as const)('describes the outcome %s', (outcome, error) => {
    expect(spans.error(message({ outcome }))).toEqual(error)
  })

  it('turns a made-up outcome or reason into other', () => {
    const made = message({ outcome: 'eyJ' as never, reason: 'Bearer x' as never })
    expect(spans.attributes(made)).toEqual({
      'ccflow.outcome': 'other',
      'ccflow.guard.cache_hit': false,
      'ccflow.reason': 'other',
    })
    expect(spans.error(made)).toEqual({ type: 'other', serverFault: true })
  })
})
