import { describe, expect, it } from 'vitest'
import { checkRequiredScopes, readScopes } from '../../src/verify/scopes.js'

describe('readScopes', () => {
  it('splits a space-delimited scope claim', () => {
    expect(readScopes({ scope: 'a  b c' }, ['scope'])).toEqual(['a', 'b', 'c'])
  })

  it('reads scp as an array or a string and merges without duplicates', () => {
    expect(readScopes({ scope: 'a b', scp: ['b', 'c'] }, ['scope', 'scp'])).toEqual(['a', 'b', 'c'])
    expect(readScopes({ scp: 'd e' }, ['scope', 'scp'])).toEqual(['d', 'e'])
  })

  it('ignores claims that are not in the list or of another type', () => {
    expect(readScopes({ scope: 'a', scp: 'b' }, ['scope'])).toEqual(['a'])
    expect(readScopes({ scope: 7, scp: [1, 'x', null] }, ['scope', 'scp'])).toEqual(['x'])
    expect(readScopes({}, ['scope'])).toEqual([])
  })
})

describe('checkRequiredScopes', () => {
  it('ignores a scope claim that is an array, which RFC 9068 defines as a string', () => {
    expect(readScopes({ scope: ['admin'], scp: ['a'] }, ['scope', 'scp'])).toEqual(['a'])
    expect(readScopes({ scope: ['admin'] }, ['scope'])).toEqual([])
  })

  it('returns the scopes without duplicates', () => {
    expect(checkRequiredScopes(['a', 'b', 'a'], 'requireScopes')).toEqual(['a', 'b'])
  })

  it('throws a TypeError for an empty list', () => {
    expect(() => checkRequiredScopes([], 'requireScopes')).toThrow(
      "requireScopes: give at least one scope, as requireScopes('reports:read')",
    )
  })

  it('explains that a space-delimited string holds several scopes to pass separately', () => {
    expect(() => checkRequiredScopes(['reports:read  reports:write'], 'requireScopes')).toThrow(
      "requireScopes: 'reports:read reports:write' holds 2 scopes; pass each as a separate " +
        "argument: requireScopes('reports:read', 'reports:write')",
    )
  })

  it('explains that an array must be passed as separate arguments', () => {
    expect(() => checkRequiredScopes([['a', 'b']], 'requireAnyScope')).toThrow(
      "requireAnyScope: pass each scope as a separate argument, not an array: requireAnyScope('a', 'b') (or requireAnyScope(...scopes) for a list)",
    )
    expect(() => checkRequiredScopes([[]], 'requireScopes')).toThrow(
      'requireScopes: pass each scope as a separate string argument, not an array',
    )
    expect(() => checkRequiredScopes([['a b']], 'requireScopes')).toThrow(
      'requireScopes: pass each scope as a separate string argument, not an array',
    )
  })

  it.each([[''], [' '], ['a b'], ['a"b'], ['a\\b'], [7], [undefined]])(
    'throws a TypeError for the scope %j',
    (scope) => {
      expect(() => checkRequiredScopes([scope], 'requireAnyScope')).toThrow(TypeError)
    },
  )
})
