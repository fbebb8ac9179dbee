import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { afterEach, describe, expect, it } from 'vitest'
import { InvalidTokenError } from '../../src/errors.js'
import { GUARD_CHANNELS } from '../../src/observability/channels.js'
import { beginVerifyTrace, endVerifyTrace } from '../../src/observability/verify-trace.js'

const ended: unknown[] = []
const onEnd = (message: unknown): void => void ended.push(message)
afterEach(() => {
  unsubscribe(GUARD_CHANNELS.verifyEnd, onEnd)
  ended.length = 0
})

describe('beginVerifyTrace', () => {
  it('builds nothing when nobody listens', () => {
    expect(beginVerifyTrace()).toBeUndefined()
    endVerifyTrace(undefined, 'success')
    expect(ended).toEqual([])
  })
})

describe('endVerifyTrace', () => {
  it.each([
    ['a success', 'success' as const, undefined, { outcome: 'success', reason: undefined }],
    ['an anonymous pass', 'anonymous' as const, undefined, { outcome: 'anonymous' }],
    [
      'a BearerError by its code and reason',
      'failure' as const,
      new InvalidTokenError('bad_signature'),
      { outcome: 'invalid_token', reason: 'bad_signature' },
    ],
    [
      'anything else as error, without a reason',
      'failure' as const,
      new Error('boom'),
      { outcome: 'error', reason: undefined },
    ],
  ])('publishes %s', (_, outcome, error, expected) => {
    subscribe(GUARD_CHANNELS.verifyEnd, onEnd)
    const trace = beginVerifyTrace()
    expect(trace).toBeDefined()
    endVerifyTrace(trace, outcome, error)
    expect(ended).toEqual([expect.objectContaining(expected)])
    expect(ended[0]).toBe(trace)
  })
})
