import * as crypto from 'node:crypto'
import { LRUCache } from 'lru-cache'
import type { AuthInfo } from '../types.js'

/** A verified token kept by the cache, with the times that must be re-checked on every hit. */
export interface CachedToken {
  /** What goes on `req.auth`. */
  auth: AuthInfo
  /** `exp` claim (seconds). */
  exp: number
  /** `nbf` claim (seconds), if any. */
  nbf: number | undefined
  /** `iat` claim (seconds), if any. */
  iat: number | undefined
}

/** Default number of verified tokens kept. */
export const DEFAULT_CACHE_MAX = 1000

// crypto.hash (Node ≥ 20.12) is a one-shot digest without a Hash object per call.
const oneShotHash = (crypto as { hash?: typeof crypto.hash }).hash

/**
 * The cache key of a token: its SHA-256 (base64), a fixed 44 characters whatever the token
 * length, so an 8 KiB token costs no more to look up than a short one.
 */
export function tokenCacheKey(token: string): string {
  return oneShotHash !== undefined
    ? oneShotHash('sha256', token, 'base64')
    : crypto.createHash('sha256').update(token).digest('base64')
}

// lru-cache reads the clock through `perf`; Date.now keeps its TTLs on the same clock as the
// claim checks (and under fake timers in tests), and ttlResolution 0 avoids its debounce timer.
const wallClock = { now: (): number => Date.now() }

/**
 * A bounded LRU of verified tokens keyed by {@link tokenCacheKey}. Entries expire with the token
 * (`ttl`), and the caller re-runs the time checks on every hit; failures are never stored.
 */
export class TokenCache {
  readonly #lru: LRUCache<string, CachedToken>

  /** @param max - the most tokens kept; the least recently used is dropped first. */
  constructor(max: number = DEFAULT_CACHE_MAX) {
    this.#lru = new LRUCache<string, CachedToken>({ max, ttlResolution: 0, perf: wallClock })
  }

  /** The entry for a key, or `undefined` (also once its TTL has passed). */
  get(key: string): CachedToken | undefined {
    return this.#lru.get(key)
  }

  /** Stores an entry for at most `ttlMs` milliseconds; a non-positive TTL stores nothing. */
  set(key: string, entry: CachedToken, ttlMs: number): void {
    if (ttlMs >= 1) this.#lru.set(key, entry, { ttl: Math.floor(ttlMs) })
  }

  /** Drops one entry. */
  delete(key: string): void {
    this.#lru.delete(key)
  }

  /** Number of entries (expired ones may still count until touched or evicted). */
  get size(): number {
    return this.#lru.size
  }
}
