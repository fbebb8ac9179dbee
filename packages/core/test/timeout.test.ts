import { afterEach, describe, expect, it, vi } from 'vitest'
import { settleWithin } from '../src/timeout.js'

afterEach(() => {
  vi.useRealTimers()
})

describe('settleWithin', () => {
  it('settles like the value when it answers in time', async () => {
    await expect(settleWithin(Promise.resolve('ok'), 50, () => new Error('late'))).resolves.toBe(
      'ok',
    )
    await expect(settleWithin('sync', 50, () => new Error('late'))).resolves.toBe('sync')
  })

  it('passes the rejection of a value that fails in time', async () => {
    const failed = Promise.reject(new Error('store down'))
    await expect(settleWithin(failed, 50, () => new Error('late'))).rejects.toThrow('store down')
  })

  it('adopts any thenable', async () => {
    const thenable = { then: (resolve: (v: number) => void) => resolve(7) } as PromiseLike<number>
    await expect(settleWithin(thenable, 50, () => new Error('late'))).resolves.toBe(7)
  })

  it('rejects with the timeout error exactly when the time runs out', async () => {
    vi.useFakeTimers()
    const onTimeout = vi.fn(() => new Error('no answer'))
    const settled = settleWithin(new Promise<never>(() => {}), 100, onTimeout)
    const outcome = expect(settled).rejects.toThrow('no answer')
    await vi.advanceTimersByTimeAsync(99)
    expect(onTimeout).not.toHaveBeenCalled()
    await vi.advanceTimersByTimeAsync(1)
    await outcome
    expect(onTimeout).toHaveBeenCalledTimes(1)
  })

  it('clears its timer once the value settles', async () => {
    vi.useFakeTimers()
    await settleWithin(Promise.resolve(1), 1000, () => new Error('late'))
    expect(vi.getTimerCount()).toBe(0)
  })
})
