/**
 * Settles like `value` (adopted as a native promise, any thenable accepted), or rejects with
 * `onTimeout()` when `timeoutMs` passes first. The timer is cleared as soon as `value` settles and
 * never keeps the process alive, so a store or hook that never answers cannot hold a request (and
 * its socket) open for ever. A late answer is dropped.
 *
 * @param value What to wait for: a promise, any thenable, or a plain value.
 * @param onTimeout Builds the rejection; called at most once, only on timeout.
 */
export function settleWithin<T>(
  value: T | PromiseLike<T>,
  timeoutMs: number,
  onTimeout: () => Error,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(onTimeout()), timeoutMs)
    timer.unref()
  })
  return Promise.race([value, late]).finally(() => clearTimeout(timer))
}
