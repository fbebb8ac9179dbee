import { describe, expect, it, vi } from 'vitest'
import { raceSignal } from '../src/race-signal.js'

describe('raceSignal', () => {
  it('settles like the promise when no signal is given', async () => {
    await expect(raceSignal(Promise.resolve('value'), undefined)).resolves.toBe('value')
  })

  it('settles like the promise while the signal stays unaborted', async () => {
    const signal = new AbortController().signal
    await expect(raceSignal(Promise.resolve('value'), signal)).resolves.toBe('value')
    await expect(raceSignal(Promise.reject(new Error('failed')), signal)).rejects.toThrow('failed')
  })

  it("rejects with the signal's reason as soon as it aborts, before the promise settles", async () => {
    const controller = new AbortController()
    const never = new Promise<string>(() => {})
    const raced = raceSignal(never, controller.signal)
    controller.abort(new Error('gave up'))
    await expect(raced).rejects.toThrow('gave up')
  })

  it("rejects at once with an already aborted signal's reason", async () => {
    await expect(
      raceSignal(Promise.resolve('value'), AbortSignal.abort(new Error('too late'))),
    ).rejects.toThrow('too late')
  })

  it('stops listening to the signal once the promise settled', async () => {
    const { signal } = new AbortController()
    const removed = vi.spyOn(signal, 'removeEventListener')
    await raceSignal(Promise.resolve(1), signal)
    await vi.waitFor(() => expect(removed).toHaveBeenCalledWith('abort', expect.any(Function)))
  })
})
