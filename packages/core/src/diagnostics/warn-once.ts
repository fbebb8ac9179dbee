// Setup problems that show only at run time (a key source that cannot be reached, a token made
// for another audience, a secret hashed with another pepper) are reported once per distinct
// cause, not once per request. The memory of what was reported is bounded, so no input, however
// hostile, can grow it or flood the log.

/** Most distinct warnings remembered; past it, new ones are dropped after one notice. */
export const MAX_WARNED = 256

const warned = new Set<string>()
let overflowed = false

/**
 * Emits `message` as a process warning with `code` (`process.emitWarning(message, { code })`)
 * unless a warning of the same `code` and `key` was emitted before. `key` names the cause: the
 * values that make two warnings different, never a secret or a whole token.
 *
 * At most {@link MAX_WARNED} warnings are remembered; once that many were emitted, one last
 * warning says so and new causes are dropped until {@link forgetWarnings} frees room.
 *
 * @returns whether the warning was emitted.
 */
export function warnOnce(code: string, key: string, message: string): boolean {
  const id = `${code}\n${key}`
  if (warned.has(id)) return false
  if (warned.size >= MAX_WARNED) {
    if (!overflowed) {
      overflowed = true
      process.emitWarning(
        `ccflow: ${MAX_WARNED} distinct warnings were reported; further ones are not shown`,
        { code: 'CCFLOW_WARNINGS_SUPPRESSED' },
      )
    }
    return false
  }
  warned.add(id)
  process.emitWarning(message, { code })
  return true
}

/**
 * Forgets the warnings of `code` whose key starts with `keyPrefix`, so that they are emitted again
 * when their cause comes back (a key source that recovered and then fails again is a new outage).
 * `forgetWarnings('')` forgets every warning.
 */
export function forgetWarnings(code: string, keyPrefix = ''): void {
  const prefix = code === '' ? '' : `${code}\n${keyPrefix}`
  for (const id of warned) if (id.startsWith(prefix)) warned.delete(id)
  if (warned.size < MAX_WARNED) overflowed = false
}
