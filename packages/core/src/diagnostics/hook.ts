/**
 * Wraps an observer hook (`onEvent`) so that it can neither break nor delay the caller: it is
 * called synchronously, a throw is swallowed, and a returned promise is not awaited (its
 * rejection is swallowed too, so it cannot become an unhandled rejection).
 */
export function wrapHook<E>(hook: (event: E) => void): (event: E) => void {
  return (event) => {
    try {
      const result: unknown = hook(event)
      if (isThenable(result)) result.then(undefined, swallow)
    } catch {
      // The hook is for observation only; its failure must not change the answer.
    }
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  )
}

function swallow(): void {}
