import { afterEach, describe, expect, it, vi } from 'vitest'
import { sleep } from '../src/sleep.js'

afterEach(() => {
  vi.useRealTimers()
})

describe('sleep', () => {
  it('resolves after the time', async () => {
    vi.useFakeTimers()
    let done = false
    const waiting = sleep(1000, new AbortController().signal).then(() => (done = true))
    await vi.advanceTimersByTimeAsync(999)
    expect(done).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    await waiting
    expect(done).toBe(true)
  })

  it('rejects with the reason when the signal aborts', async () => {
    const controller = new AbortController()
    const waiting = sleep(60_000, controller.signal)
    controller.abort(new Error('deadline'))
    await expect(waiting).rejects.toThrow('deadline')
  })

  it('rejects at once for an aborted signal', async () => {
    await expect(sleep(10, AbortSignal.abort(new Error('closed')))).rejects.toThrow('closed')
  })
})
