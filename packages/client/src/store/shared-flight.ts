import { settleWithin } from '@ccflow/core'
import type { EmitEvent, StoreErrorEvent } from '../events.js'
import { sleep } from '../sleep.js'
import type { StoredToken, TokenStore } from './token-store.js'

/** A token just obtained: cacheable when it has deadlines. */
export interface FlightToken {
  readonly value: string
  readonly type: 'Bearer' | 'DPoP'
  readonly scope: string | undefined
  readonly expiresAt: number | undefined
  readonly refreshAt: number | undefined
  readonly hardExpiry: number | undefined
}

/** What a flight came to, and where from. */
export interface FlightResult {
  readonly token: FlightToken
  readonly source: 'network' | 'store'
}

/** One flight through the shared store. */
export interface SharedFlight {
  readonly store: TokenStore
  readonly key: string
  /** Requests a token from the token endpoint. */
  readonly fromNetwork: () => Promise<FlightToken>
  readonly signal: AbortSignal
  readonly deadlineAt: number
  readonly minTtlMs: number
  /** A background refresh waits for another process's new token rather than take the old one. */
  readonly background: boolean
  readonly emit: EmitEvent | undefined
}

// How often a process that waits for another one's refresh looks for its token.
const POLL_MS = 50
const FAILED = Symbol('store failed')

/**
 * Gets a token through the shared store, so that a fleet makes one request per key:
 *
 * 1. a fresh token in the store (before its `refreshAt`) is taken as is;
 * 2. otherwise the process that takes the refresh lock (`SET NX PX`, for the deadline) requests
 *    a token, stores it and releases the lock;
 * 3. the others take the stored token while it is still usable (stale-while-revalidate), or
 *    poll for the new one; a background refresh always waits for the new one.
 *
 * When the store fails, or another process's refresh takes more than half the deadline, the
 * process requests a token itself: the store saves requests, it never stops a process from getting a token.
 */
export async function sharedFlight(flight: SharedFlight): Promise<FlightResult> {
  const { store, key } = flight
  const call = async <T>(operation: StoreErrorEvent['operation'], run: () => Promise<T>) => {
    try {
      const remaining = Math.max(1, flight.deadlineAt - Date.now())
      return await settleWithin(run(), remaining, () => new Error('token store did not answer'))
    } catch (error) {
      flight.emit?.({ type: 'store_error', key, operation, error })
      return FAILED
    }
  }
  const alone = async (): Promise<FlightResult> => ({
    token: await flight.fromNetwork(),
    source: 'network',
  })
  const usable = (token: StoredToken, now: number): boolean =>
    now < token.hardExpiry && token.expiresAt - now >= flight.minTtlMs

  // Past half the deadline, a process stops waiting for another's refresh and asks itself,
  // with the other half left for its own request.
  const waitUntil = Date.now() + (flight.deadlineAt - Date.now()) / 2
  for (;;) {
    const stored = await call('read', () => store.get(key))
    if (stored === FAILED) return alone()
    if (stored !== undefined && usable(stored, Date.now()) && Date.now() < stored.refreshAt) {
      return { token: stored, source: 'store' }
    }
    const lockId = await call('lock', () => store.lock(key, flight.deadlineAt - Date.now()))
    if (lockId === FAILED) return alone()
    if (lockId !== undefined) {
      try {
        const token = await flight.fromNetwork()
        if (token.hardExpiry !== undefined) {
          await call('write', () => store.set(key, token as StoredToken))
        }
        return { token, source: 'network' }
      } finally {
        await call('lock', () => store.unlock(key, lockId))
      }
    }
    if (!flight.background && stored !== undefined && usable(stored, Date.now())) {
      return { token: stored, source: 'store' }
    }
    if (Date.now() + POLL_MS >= waitUntil) return alone()
    await sleep(POLL_MS, flight.signal)
  }
}
