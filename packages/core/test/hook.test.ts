import { describe, expect, it, vi } from 'vitest'
import { guardHook } from '../src/hook.js'

describe('guardHook', () => {
  it('delivers each event synchronously', () => {
    const hook = vi.fn()
    guardHook(hook)('event')
    expect(hook).toHaveBeenCalledWith('event')
  })

  it('swallows a throwing hook', () => {
    const guarded = guardHook(() => {
      throw new Error('hook failed')
    })
    expect(() => guarded('event')).not.toThrow()
  })

  it('swallows a rejected promise from an async hook (no unhandled rejection)', async () => {
    const unhandled = vi.fn()
    process.on('unhandledRejection', unhandled)
    try {
      const asyncHook = (() => Promise.reject(new Error('async hook failed'))) as unknown as (
        event: string,
      ) => void
      guardHook(asyncHook)('event')
      await new Promise((resolve) => setTimeout(resolve, 10))
      expect(unhandled).not.toHaveBeenCalled()
    } finally {
      process.off('unhandledRejection', unhandled)
    }
  })
})
