import { describe, expect, it } from 'vitest'
import type { IssuerRequestMessage } from '../../src/observability/channels.js'
import { issuerSpans } from '../../src/observability/issuer-spans.js'

function message(overrides: Partial<IssuerRequestMessage>): IssuerRequestMessage {
  return {
    route: 'token',
    startTime: 0,
    endTime: 1,
    phases: [],
    outcome: 'success',
    reason: undefined,
    status: 200,
    grantType: 'client_credentials',
    authMethod: undefined,
    authenticated: false,
    clientId: 'secret-looking-client',
    revoked: undefined,
    active: undefined,
    ...overrides,
  }
}

describe('issuerSpans', () => {
  const spans = issuerSpans(undefined)

  it('names the span after the route', () => {
    expect(
      ['token', 'revocation', 'introspection'].map((route) =>
        spans.name(message({ route: route as 'token' })),
      ),
    ).toEqual(['ccflow.token', 'ccflow.revocation', 'ccflow.introspection'])
  })

  it('records no client id without an allow-list, and no reason that is not one of ours', () => {
    const attributes = spans.attributes(
      message({ outcome: 'invalid_client', reason: 'Bearer eyJ...' as never }),
    )
    expect(attributes).toEqual({
      'ccflow.outcome': 'invalid_client',
      'ccflow.grant_type': 'client_credentials',
    })
  })

  it('records the revocation result', () => {
    expect(spans.attributes(message({ route: 'revocation', revoked: true }))).toEqual({
      'ccflow.outcome': 'success',
      'ccflow.revoked': true,
    })
  })

  it('calls an aborted request an error of the caller, a 503 one of the server', () => {
    expect(spans.error(message({ outcome: 'aborted' }))).toEqual({
      type: 'aborted',
      serverFault: false,
    })
    expect(spans.error(message({ outcome: 'temporarily_unavailable' }))).toEqual({
      type: 'temporarily_unavailable',
      serverFault: true,
    })
    expect(spans.error(message({}))).toBeUndefined()
  })

  it('bounds the detail of a step', () => {
    const phase = {
      name: 'rate_limit' as const,
      detail: '10.0.0.1',
      startTime: 0,
      endTime: 1,
      failed: false,
    }
    expect(spans.phaseAttributes(phase, message({}))).toEqual({
      'ccflow.rate_limit.limiter': 'other',
    })
    expect(spans.phaseName(phase)).toBe('ccflow.rate_limit')
  })
})
