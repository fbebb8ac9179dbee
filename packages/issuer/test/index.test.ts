// The expectTypeOf and @ts-expect-error checks below are type assertions: vitest's typecheck mode
// runs them (typecheck.include in ../vitest.config.ts), and so does `pnpm typecheck`.
import type { Router } from 'express'
import { describe, expect, expectTypeOf, it } from 'vitest'
import * as issuer from '../src/index.js'
import type passport from 'passport'
import type {
  Client,
  ClientSecretStrategyOptions,
  IssuerEvent,
  TokenEndpointOptions,
  TokenErrorCode,
  TokenErrorReason,
  UnavailableDependency,
} from '../src/index.js'

describe('@ccflow/issuer', () => {
  it('exports exactly the public API', () => {
    expect(Object.keys(issuer).sort()).toEqual(
      [
        'ASSERTION_ALGORITHMS',
        'CLIENT_JWKS_DEFAULTS',
        'DEFAULT_REPLAY_PREFIX',
        'DEFAULT_SIGNING_ALGORITHM',
        'ISSUER_CHANNELS',
        'PRIVATE_KEY_JWT_DEFAULTS',
        'InvalidClientError',
        'InvalidGrantError',
        'InvalidRequestError',
        'InvalidScopeError',
        'InvalidTargetError',
        'TemporarilyUnavailableError',
        'TokenError',
        'UnauthorizedClientError',
        'UnsupportedGrantTypeError',
        'clientSecretBasicStrategy',
        'clientSecretPostStrategy',
        'generateClientSecret',
        'generateSigningKey',
        'hashClientSecret',
        'importSigningKeys',
        'isTokenError',
        'jsonFileClientStore',
        'memoryDenylist',
        'memoryReplayStore',
        'parseSecretId',
        'rateLimitRedisCommand',
        'readClientsFile',
        'redisDenylist',
        'redisReplayStore',
        'staticClientStore',
        'tokenEndpoint',
        'validateClient',
        'verifyClientSecret',
      ].sort(),
    )
  })

  it('does not export internals such as signAccessToken or the strategies', () => {
    expect(issuer).not.toHaveProperty('signAccessToken')
    expect(issuer).not.toHaveProperty('resolveOptions')
    expect(issuer).not.toHaveProperty('ClientSecretBasicStrategy')
    expect(issuer).not.toHaveProperty('createClientAuthentication')
    expect(issuer).not.toHaveProperty('burnSecretCheck')
  })

  it('exports nothing metrics-related: the adapters are the subpaths /prometheus and /opentelemetry', () => {
    for (const name of Object.keys(issuer)) {
      expect(name).not.toMatch(/metric|prometheus|telemetry|instrument|registry/i)
    }
  })

  it('types the strategy factories as options in, passport strategy out', () => {
    expectTypeOf(issuer.clientSecretBasicStrategy)
      .parameter(0)
      .toEqualTypeOf<ClientSecretStrategyOptions>()
    expectTypeOf(issuer.clientSecretPostStrategy).returns.toExtend<passport.Strategy>()
  })

  it('types tokenEndpoint as options in, Router out', () => {
    expectTypeOf(issuer.tokenEndpoint).parameter(0).toEqualTypeOf<TokenEndpointOptions>()
    expectTypeOf(issuer.tokenEndpoint).returns.toEqualTypeOf<Router>()
  })

  it('types the extraClaims hook context and the event union', () => {
    type Hook = NonNullable<TokenEndpointOptions['extraClaims']>
    expectTypeOf<Parameters<Hook>[0]>().toEqualTypeOf<{
      client: Client
      scope: string
      audience: string | string[]
    }>()
    expectTypeOf<IssuerEvent['type']>().toEqualTypeOf<
      | 'token_issued'
      | 'token_revoked'
      | 'authentication_failed'
      | 'token_request_rejected'
      | 'rate_limited'
      | 'server_error'
      | 'store_error'
      | 'assertion_legacy_audience'
      | 'client_jwks'
    >()
  })

  it('types TokenError.code as the RFC code union', () => {
    expectTypeOf<issuer.TokenError['code']>().toEqualTypeOf<TokenErrorCode>()
    expectTypeOf<issuer.InvalidScopeError['code']>().toEqualTypeOf<'invalid_scope'>()
    expectTypeOf<
      issuer.TemporarilyUnavailableError['code']
    >().toEqualTypeOf<'temporarily_unavailable'>()
  })

  it('types reason as the reason union and the 503 dependency as its union', () => {
    expectTypeOf<issuer.TokenError['reason']>().toEqualTypeOf<TokenErrorReason | undefined>()
    expectTypeOf<
      issuer.TemporarilyUnavailableError['dependency']
    >().toEqualTypeOf<UnavailableDependency>()
    // @ts-expect-error: a reason outside the union
    void new issuer.InvalidRequestError(undefined, { reason: 'made_up' })
  })

  it('narrows an unknown value to TokenError with isTokenError', () => {
    const value: unknown = new issuer.InvalidScopeError()
    if (issuer.isTokenError(value)) expectTypeOf(value).toEqualTypeOf<issuer.TokenError>()
    expect(issuer.isTokenError(value)).toBe(true)
  })

  it('rejects an option object with a misspelt key at compile time and at run time', () => {
    // @ts-expect-error: "audiance" is not an option
    const bad: TokenEndpointOptions = { issuer: 'x', clients: {} as never, keys: [], audiance: 1 }
    expect(() => issuer.tokenEndpoint(bad)).toThrow(/unknown option "audiance"/)
  })
})
