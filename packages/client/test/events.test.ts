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

  it('ignores a throwing hook', () => {
    const emit = createEmitter(() => {
      throw new Error('hook failed')
    })
    expect(() => emit?.(event)).not.toThrow()
  })
})
