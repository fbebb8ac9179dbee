import { describe, expect, it, vi } from 'vitest'
import { wrapHook } from '../../src/index.js'

const event = { type: 'token_rejected', reason: 'token_expired' }

describe('wrapHook', () => {
  it('calls the hook synchronously with the event', () => {
    const onEvent = vi.fn()
    wrapHook(onEvent)(event)
    expect(onEvent).toHaveBeenCalledWith(event)
  })

  it('swallows a throwing hook', () => {
    const emit = wrapHook(() => {
      throw new Error('boom')
    })
    expect(() => emit(event)).not.toThrow()
  })

  it('does not leave an unhandled rejection behind when the hook returns a rejected promise', async () => {
    const unhandled = vi.fn()
    process.on('unhandledRejection', unhandled)
    try {
      const hook = (): Promise<void> => Promise.reject(new Error('async boom'))
      // eslint-disable-next-line @typescript-eslint/no-misused-promises
      wrapHook(hook)(event)
      await new Promise((resolve) => setTimeout(resolve, 10))
      expect(unhandled).not.toHaveBeenCalled()
    } finally {
      process.off('unhandledRejection', unhandled)
    }
  })
})
