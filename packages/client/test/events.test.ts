import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createEmitter, isObserved, type TokenClientEvent } from '../src/events.js'
import { CLIENT_CHANNELS } from '../src/observability/channels.js'

const event: TokenClientEvent = { type: 'acquired', key: 'k', source: 'cache', expiresAt: 1 }

const published: unknown[] = []
const listener = (message: unknown): void => {
  published.push(message)
}
afterEach(() => {
  unsubscribe(CLIENT_CHANNELS.event, listener)
  published.length = 0
})

describe('createEmitter', () => {
  it('delivers each event synchronously', () => {
    const hook = vi.fn()
    createEmitter(hook)(event)
    expect(hook).toHaveBeenCalledWith(event)
  })

  it('ignores a throwing hook', () => {
    const emit = createEmitter(() => {
      throw new Error('hook failed')
    })
    expect(() => emit(event)).not.toThrow()
  })

  it('publishes every event on ccflow:client:event, with a hook and without', () => {
    subscribe(CLIENT_CHANNELS.event, listener)
    const hook = vi.fn()
    createEmitter(hook)(event)
    createEmitter(undefined)(event)
    expect(published).toEqual([event, event])
    expect(hook).toHaveBeenCalledTimes(1)
  })
})

describe('isObserved', () => {
  it('is true for an emitter with a hook', () => {
    expect(isObserved(createEmitter(() => undefined))).toBe(true)
  })

  it('is true without a hook only while the event channel has a subscriber', () => {
    const emit = createEmitter(undefined)
    expect(isObserved(emit)).toBe(false)
    subscribe(CLIENT_CHANNELS.event, listener)
    expect(isObserved(emit)).toBe(true)
  })
})
