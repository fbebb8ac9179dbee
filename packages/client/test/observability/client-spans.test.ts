import { describe, expect, it } from 'vitest'
import type { TokenFetchMessage } from '../../src/observability/channels.js'
import { clientSpans } from '../../src/observability/client-spans.js'

const spans = clientSpans()
const message = (fields: Partial<TokenFetchMessage>): TokenFetchMessage => ({
  key: 'k',
  background: false,
  startTime: 0,
  endTime: 1,
  phases: [],
  outcome: 'success',
  transportReason: undefined,
  oauthError: undefined,
  status: undefined,
  ...fields,
})
const failedAttempt = {
  name: 'attempt',
  detail: undefined,
  startTime: 0,
  endTime: 1,
  failed: true,
} as const

describe('clientSpans', () => {
  it('names every fetch ccflow.client.token_fetch and every attempt ccflow.client.token_request', () => {
    expect(spans.name(message({}))).toBe('ccflow.client.token_fetch')
    expect(spans.phaseName(failedAttempt)).toBe('ccflow.client.token_request')
  })

  it('tells a background refresh apart', () => {
    expect(spans.attributes(message({ background: true }))).toMatchObject({
      'ccflow.client.background': true,
    })
  })

  it('types a throttled fetch, a transport failure and an out-of-vocabulary one', () => {
    expect(spans.error(message({ outcome: 'throttled' }))).toEqual({
      type: 'throttled',
      serverFault: true,
    })
    expect(
      spans.error(message({ outcome: 'transport_error', transportReason: 'deadline' }))?.type,
    ).toBe('deadline')
    expect(spans.error(message({ outcome: 'made-up' as never }))?.type).toBe('other')
  })

  it("gives a failed attempt its fetch's error type, or attempt_failed when the fetch succeeded", () => {
    const failed = message({ outcome: 'oauth_error', oauthError: 'invalid_scope' })
    expect(spans.phaseAttributes(failedAttempt, failed)).toEqual({ 'error.type': 'invalid_scope' })
    expect(spans.phaseAttributes(failedAttempt, message({}))).toEqual({
      'error.type': 'attempt_failed',
    })
    expect(spans.phaseAttributes({ ...failedAttempt, failed: false }, failed)).toEqual({})
  })
})
