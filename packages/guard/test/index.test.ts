// The expectTypeOf and @ts-expect-error checks below are type assertions: vitest's typecheck mode
// runs them (typecheck.include in ../vitest.config.ts), and so does `pnpm typecheck`.
import type { CompactJwsRejection, JwsHeader } from '@ccflow/core'
import { describe, expect, expectTypeOf, it } from 'vitest'
import * as guard from '../src/index.js'
import type { BearerErrorCode, UnavailableDependency } from '../src/index.js'

describe('@ccflow/guard exports', () => {
  it('exports exactly the public API', () => {
    expect(Object.keys(guard).sort()).toEqual([
      'BearerError',
      'BearerJwtStrategy',
      'GUARD_CHANNELS',
      'InsufficientScopeError',
      'InvalidRequestError',
      'InvalidTokenError',
      'KeySourceUnavailableError',
      'ServiceUnavailableError',
      'UnauthorizedError',
      'createTokenVerifier',
      'isBearerError',
      'redisRevocationCheck',
      'requireAnyScope',
      'requireScopes',
      'requireToken',
    ])
  })

  it('types BearerError.code as the wire code union, narrowed by each class', () => {
    expectTypeOf<guard.BearerError['code']>().toEqualTypeOf<BearerErrorCode>()
    expectTypeOf<guard.UnauthorizedError['code']>().toEqualTypeOf<'unauthorized'>()
    expectTypeOf<guard.InvalidTokenError['code']>().toEqualTypeOf<'invalid_token'>()
    expectTypeOf<guard.ServiceUnavailableError['code']>().toEqualTypeOf<'temporarily_unavailable'>()
    expectTypeOf<guard.BearerErrorBody['error']>().toEqualTypeOf<BearerErrorCode>()
  })

  it('types the 503 dependency as its union', () => {
    expectTypeOf<
      guard.ServiceUnavailableError['dependency']
    >().toEqualTypeOf<UnavailableDependency>()
    expectTypeOf<guard.KeySourceUnavailableError['dependency']>().toEqualTypeOf<'key_source'>()
    // @ts-expect-error: a reason outside the union
    void new guard.InvalidTokenError('made_up')
  })

  it("keeps JwtHeader equal to core's JwsHeader and every core JWS rejection a reason", () => {
    // The verifier hands core's decoded header to req.auth and core's rejection to
    // InvalidTokenError: the public types must not drift from core's.
    expectTypeOf<guard.JwtHeader>().toEqualTypeOf<JwsHeader>()
    expectTypeOf<CompactJwsRejection>().toExtend<guard.InvalidTokenReason>()
  })

  it('types onEvent to take every GuardEvent, discriminated by type', () => {
    expectTypeOf<guard.RequireTokenOptions['onEvent']>().toEqualTypeOf<
      ((event: guard.GuardEvent) => void) | undefined
    >()
    expectTypeOf<
      Extract<guard.GuardEvent, { type: 'token_rejected' }>
    >().toEqualTypeOf<guard.TokenRejectedEvent>()
    expectTypeOf<
      Extract<guard.GuardEvent, { type: 'discovery_failed' }>['metadataIssuer']
    >().toEqualTypeOf<string | undefined>()
  })

  it('narrows an unknown value to BearerError with isBearerError', () => {
    const value: unknown = new guard.InvalidTokenError('malformed')
    if (guard.isBearerError(value)) expectTypeOf(value).toEqualTypeOf<guard.BearerError>()
    expect(guard.isBearerError(value)).toBe(true)
  })
})
