import { describe, expect, it } from 'vitest'
import * as guard from '../src/index.js'

describe('@ccflow/guard exports', () => {
  it('exports exactly the public API', () => {
    expect(Object.keys(guard).sort()).toEqual([
      'BearerError',
      'BearerJwtStrategy',
      'InsufficientScopeError',
      'InvalidRequestError',
      'InvalidTokenError',
      'KeySourceUnavailableError',
      'ServiceUnavailableError',
      'UnauthorizedError',
      'createTokenVerifier',
      'redisRevocationCheck',
      'requireAnyScope',
      'requireScopes',
      'requireToken',
    ])
  })
})
