import { errorBody } from './http.js'

/**
 * A store the endpoint depends on (the denylist, a rate-limit store configured to fail closed)
 * could not answer. The router answers 503 with `Retry-After`, as RFC 7009 §2.2.1 describes for
 * revocation: the client must assume nothing happened and may retry.
 *
 * @internal
 */
export class TemporarilyUnavailableError extends Error {
  override readonly name = 'TemporarilyUnavailableError'
  readonly code = 'temporarily_unavailable'
  readonly status = 503
  /** Which store failed, for the event hook. */
  readonly store: 'denylist' | 'rate_limit'

  constructor(store: 'denylist' | 'rate_limit', cause: unknown) {
    super(`the ${store} store is unavailable`, { cause })
    this.store = store
  }
}

/** The 503 body: nothing about the cause. */
export const TEMPORARILY_UNAVAILABLE_BODY: Buffer = errorBody(
  'temporarily_unavailable',
  'The service is temporarily unavailable. Retry after the number of seconds in the Retry-After header.',
)

/** Seconds a client should wait after a 503. */
export const RETRY_AFTER_SECONDS = 1
