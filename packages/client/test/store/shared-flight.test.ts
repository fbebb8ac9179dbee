import { describe, expect, it, vi } from 'vitest'
import type { TokenClientEvent } from '../../src/events.js'
import { type FlightToken, type SharedFlight, sharedFlight } from '../../src/store/shared-flight.js'
import type { StoredToken, TokenStore } from '../../src/store/token-store.js'

/** A store in memory, for the protocol; the Redis one is tested against a real Redis. */
function memoryStore(): TokenStore & {
  tokens: Map<string, StoredToken>
  locks: Map<string, string>
} {
  const tokens = new Map<string, StoredToken>()
  const locks = new Map<string, string>()
  let ids = 0
  return {
    tokens,
    locks,
    get: (key) => Promise.resolve(tokens.get(key)),
    set: (key, token) => {
      tokens.set(key, token)
      return Promise.resolve()
    },
    delete: (key, value) => {
      if (tokens.get(key)?.value === value) tokens.delete(key)
      return Promise.resolve()
    },
    lock: (key) => {
      if (locks.has(key)) return Promise.resolve(undefined)
      const id = `lock${++ids}`
      locks.set(key, id)
      return Promise.resolve(id)
    },
    unlock: (key, id) => {
      if (locks.get(key) === id) locks.delete(key)
      return Promise.resolve()
    },
  }
}

const fresh = (value: string, now = Date.now()): StoredToken => ({
  value,
  type: 'Bearer',
  scope: undefined,
  expiresAt: now + 300_000,
  refreshAt: now + 240_000,
  hardExpiry: now + 295_000,
})
const stale = (value: string, now = Date.now()): StoredToken => ({
  ...fresh(value, now),
  refreshAt: now - 1000,
})

function flight(store: TokenStore, extra: Partial<SharedFlight> = {}): SharedFlight {
  return {
    store,
    key: 'k',
    fromNetwork: () => Promise.resolve(fresh('network') as FlightToken),
    signal: new AbortController().signal,
    deadlineAt: Date.now() + 2000,
    minTtlMs: 0,
    background: false,
    emit: undefined,
    ...extra,
  }
}

describe('sharedFlight', () => {
  it('takes a fresh stored token without a request', async () => {
    const store = memoryStore()
    store.tokens.set('k', fresh('stored'))
    const fromNetwork = vi.fn()
    await expect(sharedFlight(flight(store, { fromNetwork }))).resolves.toMatchObject({
      token: { value: 'stored' },
      source: 'store',
    })
    expect(fromNetwork).not.toHaveBeenCalled()
  })

  it('requests under the lock, stores the token and releases the lock', async () => {
    const store = memoryStore()
    await expect(sharedFlight(flight(store))).resolves.toMatchObject({ source: 'network' })
    expect(store.tokens.get('k')?.value).toBe('network')
    expect(store.locks.size).toBe(0)
  })

  it('does not store a token that cannot be cached, and releases the lock after a failure', async () => {
    const store = memoryStore()
    const uncached = { ...fresh('x'), hardExpiry: undefined } as unknown as FlightToken
    await sharedFlight(flight(store, { fromNetwork: () => Promise.resolve(uncached) }))
    expect(store.tokens.size).toBe(0)
    await expect(
      sharedFlight(flight(store, { fromNetwork: () => Promise.reject(new Error('down')) })),
    ).rejects.toThrow('down')
    expect(store.locks.size).toBe(0)
  })

  it('serves a usable stored token while another process holds the lock', async () => {
    const store = memoryStore()
    store.tokens.set('k', stale('old'))
    store.locks.set('k', 'other')
    await expect(sharedFlight(flight(store))).resolves.toMatchObject({
      token: { value: 'old' },
      source: 'store',
    })
  })

  it('polls for the new token of the lock holder in a background refresh', async () => {
    const store = memoryStore()
    store.tokens.set('k', stale('old'))
    store.locks.set('k', 'other')
    const fromNetwork = vi.fn()
    const pending = sharedFlight(flight(store, { background: true, fromNetwork }))
    setTimeout(() => {
      store.tokens.set('k', fresh('new'))
      store.locks.delete('k')
    }, 120)
    await expect(pending).resolves.toMatchObject({ token: { value: 'new' }, source: 'store' })
    expect(fromNetwork).not.toHaveBeenCalled()
  })

  it('asks itself when the lock holder takes more than half the deadline', async () => {
    const store = memoryStore()
    store.locks.set('k', 'stuck')
    await expect(
      sharedFlight(flight(store, { deadlineAt: Date.now() + 300 })),
    ).resolves.toMatchObject({ token: { value: 'network' }, source: 'network' })
  })

  it('refuses a stored token shorter than minTtl', async () => {
    const store = memoryStore()
    store.tokens.set('k', fresh('short'))
    await expect(sharedFlight(flight(store, { minTtlMs: 400_000 }))).resolves.toMatchObject({
      source: 'network',
    })
  })

  it.each(['get', 'lock'] as const)(
    'carries on alone, reporting store_error, when %s fails or hangs',
    async (method) => {
      for (const failure of [
        () => Promise.reject(new Error('redis down')),
        () => new Promise<never>(() => {}),
      ]) {
        const store = { ...memoryStore(), [method]: failure }
        const events: TokenClientEvent[] = []
        await expect(
          sharedFlight(
            flight(store, { emit: (event) => events.push(event), deadlineAt: Date.now() + 200 }),
          ),
        ).resolves.toMatchObject({ source: 'network' })
        expect(events).toEqual([
          expect.objectContaining({
            type: 'store_error',
            operation: method === 'get' ? 'read' : 'lock',
          }),
        ])
      }
    },
  )

  it('still answers the token when writing it fails', async () => {
    const events: TokenClientEvent[] = []
    const store = { ...memoryStore(), set: () => Promise.reject(new Error('read-only replica')) }
    await expect(
      sharedFlight(flight(store, { emit: (event) => events.push(event) })),
    ).resolves.toMatchObject({ source: 'network' })
    expect(events).toMatchObject([{ type: 'store_error', operation: 'write' }])
  })
})
