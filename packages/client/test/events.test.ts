import { describe, expect, it, vi } from 'vitest'
import { createEmitter, type TokenClientEvent } from '../src/events.js'

const event: TokenClientEvent = { type: 'acquired', key: 'k', source: 'cache', expiresAt: 1 }

describe('createEmitter', () => {
  it('builds nothing without a hook', () => {
    expect(createEmitter(undefined)).toBeUndefined()
  })

  it('delivers each event synchronously', () => {
    const hook = vi.fn()
    createEmitter(hook)?.(event)
    expect(hook).toHaveBeenCalledWith(event)
  })

  it('swallows a throwing hook', () => {
    const emit = createEmitter(() => {
      throw new Error('hook failed')
    })
    expect(() => emit?.(event)).not.toThrow()
  })

  it('swallows a hook that returns a rejected promise (no unhandled rejection)', async () => {
    const unhandled = vi.fn()
    process.on('unhandledRejection', unhandled)
    try {
      // An async hook, as apps write them: typed as returning void, returning a promise.
      const asyncHook = (() => Promise.reject(new Error('async hook failed'))) as unknown as (
        event: TokenClientEvent,
      ) => void
      createEmitter(asyncHook)?.(event)
      await new Promise((resolve) => setTimeout(resolve, 10))
      expect(unhandled).not.toHaveBeenCalled()
    } finally {
      process.off('unhandledRejection', unhandled)
    }
  })
})
