import { settleWithin } from '@ccflow/core'
import { errorBody } from './http/respond.js'

/** What could not answer in time: a store or one of the application's hooks. @internal */
export type UnavailableDependency = 'denylist' | 'rate_limit' | 'client_store' | 'extra_claims'

/**
 * A store the endpoint depends on (the denylist, a rate-limit store configured to fail closed)
 * or one of the application's hooks (`findClient`, `extraClaims`) could not answer in time. The
 * router answers 503 with `Retry-After`, as RFC 7009 §2.2.1 describes for revocation: the
 * client must assume nothing happened and may retry.
 *
 * @internal
 */
export class TemporarilyUnavailableError extends Error {
  override readonly name = 'TemporarilyUnavailableError'
  readonly code = 'temporarily_unavailable'
  readonly status = 503
  /** Which store or hook failed, for the event hook. */
  readonly store: UnavailableDependency

  constructor(store: UnavailableDependency, cause: unknown) {
    super(`the ${store} store is unavailable`, { cause })
    this.store = store
  }
}

/** The 503 body: nothing about the cause. */
export const TEMPORARILY_UNAVAILABLE_BODY: Buffer = errorBody(
  'temporarily_unavailable',
  'The service is temporarily unavailable. Retry after the number of seconds in the Retry-After header.',
)

/** How long `findClient` and `extraClaims` may take by default (the `hookTimeoutMs` option). */
export const DEFAULT_HOOK_TIMEOUT_MS = 5000

/** Seconds a client should wait after a 503. */
export const RETRY_AFTER_SECONDS = 1

/**
 * Settles like `value`, or rejects with {@link TemporarilyUnavailableError} when `timeoutMs`
 * passes first, so a client store or hook that never answers cannot hold a request (and its
 * socket) open for ever.
 *
 * @internal
 */
export function withinTime<T>(
  value: T | PromiseLike<T>,
  timeoutMs: number,
  dependency: UnavailableDependency,
): Promise<T> {
  return settleWithin(
    value,
    timeoutMs,
    () =>
      new TemporarilyUnavailableError(dependency, new Error(`no answer within ${timeoutMs} ms`)),
  )
}
