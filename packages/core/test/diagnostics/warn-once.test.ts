import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { forgetWarnings, MAX_WARNED, warnOnce } from '../../src/index.js'
import { captureWarnings, type CapturedWarning } from '../warnings.js'

let emitted: CapturedWarning[]

beforeEach(() => {
  emitted = captureWarnings()
})

afterEach(() => {
  forgetWarnings('')
  vi.restoreAllMocks()
})

describe('warnOnce', () => {
  it('emits a process warning with its code the first time a cause is seen, and never again', () => {
    expect(warnOnce('CCFLOW_TEST', 'a', 'first')).toBe(true)
    expect(warnOnce('CCFLOW_TEST', 'a', 'first again')).toBe(false)
    expect(emitted).toEqual([{ message: 'first', code: 'CCFLOW_TEST' }])
  })

  it('tells causes apart by code and by key', () => {
    warnOnce('CCFLOW_TEST', 'a', 'one')
    warnOnce('CCFLOW_TEST', 'b', 'two')
    warnOnce('CCFLOW_OTHER', 'a', 'three')
    expect(emitted.map((w) => w.message)).toEqual(['one', 'two', 'three'])
  })

  it(`remembers at most ${MAX_WARNED} causes, says once that more are hidden, then drops new ones`, () => {
    for (let i = 0; i < MAX_WARNED + 50; i++) warnOnce('CCFLOW_TEST', `cause ${i}`, `w${i}`)
    expect(emitted).toHaveLength(MAX_WARNED + 1)
    expect(emitted.at(-1)).toEqual({
      message: `ccflow: ${MAX_WARNED} distinct warnings were reported; further ones are not shown`,
      code: 'CCFLOW_WARNINGS_SUPPRESSED',
    })
  })
})

describe('forgetWarnings', () => {
  it('lets the causes of a code under a key prefix warn again, and leaves the others', () => {
    warnOnce('CCFLOW_TEST', 'https://a.example\nnetwork', 'a down')
    warnOnce('CCFLOW_TEST', 'https://b.example\nnetwork', 'b down')
    forgetWarnings('CCFLOW_TEST', 'https://a.example\n')
    warnOnce('CCFLOW_TEST', 'https://a.example\nnetwork', 'a down again')
    warnOnce('CCFLOW_TEST', 'https://b.example\nnetwork', 'b down again')
    expect(emitted.map((w) => w.message)).toEqual(['a down', 'b down', 'a down again'])
  })

  it('makes room again after the bound was reached', () => {
    for (let i = 0; i <= MAX_WARNED; i++) warnOnce('CCFLOW_TEST', `cause ${i}`, `w${i}`)
    forgetWarnings('CCFLOW_TEST')
    emitted.length = 0
    expect(warnOnce('CCFLOW_TEST', 'new', 'seen')).toBe(true)
    expect(emitted).toEqual([{ message: 'seen', code: 'CCFLOW_TEST' }])
  })
})
