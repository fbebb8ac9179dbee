// Values that reach a log line may come from a remote document or a signed token: quoted, with
// control and line-separator characters escaped, and cut to a bounded length, so they can
// neither forge a log line nor flood one.

/** Longest quoted value written into a log line, in characters (before the closing quote). */
const MAX_LOG_VALUE = 200

/**
 * A value as it may appear in a log line: JSON-quoted (strings) or JSON (arrays of strings),
 * with U+2028/U+2029 escaped too, and cut at 200 characters with `…`.
 */
export function logValue(value: unknown): string {
  const text =
    (JSON.stringify(value) as string | undefined)?.replace(/[\u2028\u2029]/g, (c) =>
      c === '\u2028' ? '\\u2028' : '\\u2029',
    ) ?? String(value)
  return text.length > MAX_LOG_VALUE ? `${text.slice(0, MAX_LOG_VALUE)}…` : text
}
