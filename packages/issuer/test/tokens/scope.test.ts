import { describe, expect, it } from 'vitest'
import type { Client } from '../../src/clients/client-store.js'
import { InvalidScopeError, InvalidTargetError } from '../../src/errors.js'
import { grantScope, isResourceIndicator, selectAudience } from '../../src/tokens/scope.js'

const client: Client = {
  client_id: 'c',
  scope: 'a b c:d',
  default_scope: 'b',
  audiences: ['https://one.example', 'https://two.example/api', 'logical'],
  secrets: [],
}

describe('grantScope', () => {
  it('grants the default scope when none is requested', () => {
    expect(grantScope(client, undefined)).toBe('b')
  })
  it('grants the whole scope when there is no default_scope', () => {
    expect(grantScope({ ...client, default_scope: undefined }, undefined)).toBe('a b c:d')
  })
  it('grants a normalized subset', () => {
    expect(grantScope(client, 'c:d a c:d')).toBe('c:d a')
  })
  it('throws invalid_scope for a token outside the client scope', () => {
    expect(() => grantScope(client, 'a z')).toThrow(InvalidScopeError)
  })
  it('throws invalid_scope with reason malformed_scope for bad syntax', () => {
    try {
      grantScope(client, 'a  b')
      expect.unreachable()
    } catch (err) {
      expect(err).toMatchObject({ code: 'invalid_scope', reason: 'malformed_scope' })
    }
  })
  it('grants an empty scope to a client with none', () => {
    expect(grantScope({ ...client, scope: '', default_scope: undefined }, undefined)).toBe('')
  })
})

describe('isResourceIndicator', () => {
  it.each(['https://api.example', 'https://api.example/orders?v=2', 'urn:example:orders'])(
    'accepts the absolute URI %j',
    (value) => {
      expect(isResourceIndicator(value)).toBe(true)
    },
  )
  it.each([
    '/orders',
    'orders',
    'https://api.example/#frag',
    'https://api.example/#',
    '',
    'https://a b',
  ])('refuses %j', (value) => {
    expect(isResourceIndicator(value)).toBe(false)
  })
})

describe('selectAudience', () => {
  it('uses audiences[0] when there is no default_audience', () => {
    expect(selectAudience(client, [], [])).toBe('https://one.example')
  })
  it('uses default_audience', () => {
    expect(selectAudience({ ...client, default_audience: 'logical' }, [], [])).toBe('logical')
  })
  it('returns one target as a string and several as an array', () => {
    expect(selectAudience(client, ['https://two.example/api'], [])).toBe('https://two.example/api')
    expect(selectAudience(client, ['https://two.example/api'], ['logical', 'logical'])).toEqual([
      'https://two.example/api',
      'logical',
    ])
  })
  it('compares targets exactly (no URL normalization)', () => {
    expect(() => selectAudience(client, ['https://one.example/'], [])).toThrow(InvalidTargetError)
    expect(() => selectAudience(client, ['HTTPS://one.example'], [])).toThrow(InvalidTargetError)
  })
  it('refuses a resource that is not an absolute URI even if the client lists it', () => {
    expect(() => selectAudience(client, ['logical'], [])).toThrow(InvalidTargetError)
  })
  it('throws invalid_target with reasons for a malformed and a disallowed target', () => {
    expect(() => selectAudience(client, ['x#y'], [])).toThrow(
      expect.objectContaining({ code: 'invalid_target', reason: 'malformed_resource' }) as Error,
    )
    expect(() => selectAudience(client, [], ['other'])).toThrow(
      expect.objectContaining({ code: 'invalid_target', reason: 'target_not_allowed' }) as Error,
    )
  })
})
