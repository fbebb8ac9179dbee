/**
 * The seconds a `Retry-After` header asks to wait (RFC 9110 §10.2.3): delay-seconds, or an
 * HTTP-date counted from `now`; `undefined` when absent or malformed. A date in the past is 0.
 */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null) return undefined
  const text = value.trim()
  if (/^\d{1,10}$/.test(text)) return Number(text)
  // HTTP-date is one of three fixed formats; anything Date.parse accepts beyond them is as
  // harmless as it is rare, and a number was handled above.
  if (!/^[A-Za-z]{3},? /.test(text)) return undefined
  const at = Date.parse(text)
  if (Number.isNaN(at)) return undefined
  return Math.max(0, Math.ceil((at - now) / 1000))
}
