import { LRUCache } from 'lru-cache'
import type { AuthInfo } from '../types.js'

/** A verified token kept by the cache, with the times that must be re-checked on every hit. */
export interface CachedToken {
  /** What goes on `req.auth`; `auth.token` is the token itself. */
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

/**
 * How many trailing characters of a token index the cache: 43 base64url characters are 256 bits
 * of the signature (the whole of an HS256 one, the end of an RS/PS/ES one).
 */
export const TOKEN_INDEX_LENGTH = 43

/**
 * The cache index of a token: its last {@link TOKEN_INDEX_LENGTH} characters.
 *
 * Why not a SHA-256 of the token, or the token itself: a JWT ends with its signature, so its
 * tail is as unique as a digest among verified tokens, and far cheaper. Measured on an 800-
 * character RS256 token (isolated, CPU time per lookup): SHA-256 key 1.2 µs, the whole token as
 * a Map key 1.3–1.4 µs (V8 hashes a new header string character by character), the tail plus a
 * full string comparison 0.3 µs.
 *
 * The index only finds a candidate: {@link TokenCache.get} answers only when the whole stored
 * token equals the presented one. Only verified tokens are ever stored, and a forged token that
 * copies a cached token's tail is a miss that goes through full verification (it cannot evict or
 * replace the entry, because it never verifies). Reaching the comparison at all takes knowing
 * 256 bits of a valid token's signature.
 */
export function tokenIndex(token: string): string {
  return token.length > TOKEN_INDEX_LENGTH ? token.slice(-TOKEN_INDEX_LENGTH) : token
}

// lru-cache reads the clock through `perf`; Date.now keeps its TTLs on the same clock as the
// claim checks (and under fake timers in tests), and ttlResolution 0 avoids its debounce timer.
const wallClock = { now: (): number => Date.now() }

/**
 * A bounded LRU of verified tokens. Entries expire with the token (`ttl`), and the caller re-runs
 * the time checks on every hit; failures are never stored.
 */
export class TokenCache {
  readonly #lru: LRUCache<string, CachedToken>

  /** @param max - the most tokens kept; the least recently used is dropped first. */
  constructor(max: number = DEFAULT_CACHE_MAX) {
    this.#lru = new LRUCache<string, CachedToken>({ max, ttlResolution: 0, perf: wallClock })
  }

  /** The entry for exactly this token, or `undefined` (also once its TTL has passed). */
  get(token: string): CachedToken | undefined {
    const entry = this.#lru.get(tokenIndex(token))
    return entry !== undefined && entry.auth.token === token ? entry : undefined
  }

  /** Stores the entry of a verified token for at most `ttlMs` milliseconds (none if under 1). */
  set(entry: CachedToken, ttlMs: number): void {
    if (ttlMs >= 1) this.#lru.set(tokenIndex(entry.auth.token), entry, { ttl: Math.floor(ttlMs) })
  }

  /** Drops the entry of this token, if it is the one stored. */
  delete(token: string): void {
    const index = tokenIndex(token)
    if (this.#lru.peek(index)?.auth.token === token) this.#lru.delete(index)
  }

  /** Number of entries (expired ones may still count until touched or evicted). */
  get size(): number {
    return this.#lru.size
  }
}
