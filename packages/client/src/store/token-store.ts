/** A token as the shared store keeps it: everything a process needs to serve it from its cache. */
export interface StoredToken {
  /** The access token. */
  readonly value: string
  /** The token type, `Bearer` or `DPoP`. */
  readonly type: 'Bearer' | 'DPoP'
  /** The granted scope; `undefined` when neither the server nor the request named one. */
  readonly scope: string | undefined
  /** Epoch milliseconds: when the token expires. */
  readonly expiresAt: number
  /** Epoch milliseconds: from when a background refresh starts. */
  readonly refreshAt: number
  /** Epoch milliseconds: from when the token is no longer handed out. */
  readonly hardExpiry: number
}

/**
 * Where a fleet of processes shares its tokens, so that they make one token request between them
 * for each key and refresh it once. {@link redisTokenStore} is the one built in; implement it for
 * another database with the same guarantees:
 *
 * - `lock` is atomic: of concurrent calls for one key, one resolves an id, the others `undefined`,
 *   until that id is unlocked or `ttlMs` passes;
 * - `delete` and `unlock` compare before they delete, so they never remove a newer token or
 *   another process's lock;
 * - every method rejects (never hangs) when the store cannot answer: the client then carries on
 *   alone, with its own cache and its own token requests.
 */
export interface TokenStore {
  /** The token stored under `key`, if any. */
  get(key: string): Promise<StoredToken | undefined>
  /** Stores `token` under `key` until its `hardExpiry`. */
  set(key: string, token: StoredToken): Promise<void>
  /** Deletes the token under `key` only while it is still `value`. */
  delete(key: string, value: string): Promise<void>
  /** Takes the refresh lock of `key` for `ttlMs`; resolves its id, or `undefined` when it is held. */
  lock(key: string, ttlMs: number): Promise<string | undefined>
  /** Releases the lock of `key` only while it is still held under `lockId`. */
  unlock(key: string, lockId: string): Promise<void>
}
