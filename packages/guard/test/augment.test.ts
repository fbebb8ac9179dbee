// Every check in this file is a type assertion (expectTypeOf): vitest's typecheck mode runs them
// (typecheck.include in ../vitest.config.ts), and so does `pnpm typecheck`.
import type { Request } from 'express'
import { describe, expectTypeOf, it } from 'vitest'
import type { AccessTokenClaims, AuthInfo, JwtHeader } from '../src/index.js'

describe('Express.Request augmentation', () => {
  it('types req.auth as optional AuthInfo', () => {
    expectTypeOf<Request['auth']>().toEqualTypeOf<AuthInfo | undefined>()
    expectTypeOf<NonNullable<Request['auth']>['claims']>().toEqualTypeOf<AccessTokenClaims>()
    expectTypeOf<NonNullable<Request['auth']>['header']>().toEqualTypeOf<JwtHeader>()
    expectTypeOf<NonNullable<Request['auth']>['scopes']>().toEqualTypeOf<string[]>()
    expectTypeOf<NonNullable<Request['auth']>['clientId']>().toEqualTypeOf<string | undefined>()
  })

  it('is generic over custom claims', () => {
    interface TenantClaims extends AccessTokenClaims {
      tenant: string
    }
    expectTypeOf<AuthInfo<TenantClaims>['claims']['tenant']>().toEqualTypeOf<string>()
  })
})
