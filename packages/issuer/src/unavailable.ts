import { settleWithin } from '@ccflow/core'
import { TemporarilyUnavailableError, type UnavailableDependency } from './errors.js'

/** How long `findClient` and `extraClaims` may take by default (the `hookTimeoutMs` option). */
export const DEFAULT_HOOK_TIMEOUT_MS = 5000

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
      new TemporarilyUnavailableError(dependency, {
        cause: new Error(`no answer within ${timeoutMs} ms`),
      }),
  )
}
