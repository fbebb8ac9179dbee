import { describe, expect, it } from 'vitest'
import { isScopeToken, parseScope } from '../src/scope.js'

describe('isScopeToken', () => {
  it.each(['a', 'orders:read', 'https://x.example/scope', '!#$%&()*+,-./'])('accepts %j', (t) => {
    expect(isScopeToken(t)).toBe(true)
  })
  it.each(['', 'a b', 'a"b', 'a\\b', 'ä', 'a\tb', 42])('refuses %j', (t) => {
    expect(isScopeToken(t)).toBe(false)
  })
})

describe('parseScope', () => {
  it('splits on single spaces and collapses duplicates in first-seen order', () => {
    expect(parseScope('b a b c a')).toEqual(['b', 'a', 'c'])
  })
  it.each(['', ' a', 'a ', 'a  b', 'a\tb', 'a\nb', 'a"b'])('refuses %j', (value) => {
    expect(parseScope(value)).toBeUndefined()
  })
})
