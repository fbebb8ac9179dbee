import { describe, expect, it, vi } from 'vitest'
import type { ClientStore } from '../../src/clients/client-store.js'
import { findClientWithin } from '../../src/clients/find-client.js'
import { TemporarilyUnavailableError } from '../../src/errors.js'
import { clientStore } from '../helpers.js'

describe('findClientWithin', () => {
  it('resolves the record the store finds and reports nothing', async () => {
    const onRejected = vi.fn()
    await expect(
      findClientWithin(clientStore, 'reporter', 1000, onRejected),
    ).resolves.toMatchObject({ client_id: 'reporter' })
    expect(onRejected).not.toHaveBeenCalled()
  })

  it('reports a rejection with the client id, then rethrows it unchanged', async () => {
    const failure = new Error('db down')
    const onRejected = vi.fn()
    const store: ClientStore = { findClient: () => Promise.reject(failure) }
    await expect(findClientWithin(store, 'reporter', 1000, onRejected)).rejects.toBe(failure)
    expect(onRejected).toHaveBeenCalledWith(failure, 'reporter')
  })

  it('reports a store that throws synchronously', async () => {
    const onRejected = vi.fn()
    const store: ClientStore = {
      findClient: () => {
        throw new Error('not connected')
      },
    }
    await expect(findClientWithin(store, 'reporter', 1000, onRejected)).rejects.toThrow(
      'not connected',
    )
    expect(onRejected).toHaveBeenCalledTimes(1)
  })

  it('rethrows without a listener', async () => {
    const store: ClientStore = { findClient: () => Promise.reject(new Error('down')) }
    await expect(findClientWithin(store, 'reporter', 1000)).rejects.toThrow('down')
  })

  it("leaves a timeout and the store's own 503 to the answer they make", async () => {
    vi.useFakeTimers()
    try {
      const onRejected = vi.fn()
      const slow: ClientStore = { findClient: () => new Promise<undefined>(() => {}) }
      const waiting = findClientWithin(slow, 'reporter', 50, onRejected)
      const settled = expect(waiting).rejects.toMatchObject({ dependency: 'client_store' })
      await vi.advanceTimersByTimeAsync(50)
      await settled
      const own: ClientStore = {
        findClient: () => Promise.reject(new TemporarilyUnavailableError('client_store')),
      }
      await expect(findClientWithin(own, 'reporter', 50, onRejected)).rejects.toMatchObject({
        code: 'temporarily_unavailable',
      })
      expect(onRejected).not.toHaveBeenCalled()
    } finally {
      vi.useRealTimers()
    }
  })
})
