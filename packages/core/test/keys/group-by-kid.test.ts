import { describe, expect, it } from 'vitest'
import { groupByKid } from '../../src/keys/group-by-kid.js'

describe('groupByKid', () => {
  it('keeps every key of a kid, in order, and leaves out keys without a kid', () => {
    const a1 = { kid: 'a', n: 1 }
    const a2 = { kid: 'a', n: 2 }
    const b = { kid: 'b', n: 3 }
    const none = { kid: undefined, n: 4 }
    const grouped = groupByKid([a1, none, b, a2])
    expect([...grouped.keys()]).toEqual(['a', 'b'])
    expect(grouped.get('a')).toEqual([a1, a2])
    expect(grouped.get('b')).toEqual([b])
  })
})
