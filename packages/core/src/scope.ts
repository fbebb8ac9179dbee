// RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ), i.e. visible ASCII except '"' and
// '\'. Tokens are separated by a single space.
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/

/**
 * Whether `value` is one RFC 6749 §3.3 scope token.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-3.3
 */
export function isScopeToken(value: unknown): value is string {
  return typeof value === 'string' && SCOPE_TOKEN.test(value)
}

/**
 * Splits a space-delimited scope string into its tokens, first occurrence order, duplicates
 * collapsed (scope is a set, RFC 6749 §3.3).
 *
 * @returns The tokens, or `undefined` when the string is not RFC 6749 §3.3 syntax (leading,
 *   trailing or doubled spaces, or a character outside the scope-token set).
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-3.3
 */
export function parseScope(value: string): string[] | undefined {
  const tokens = value.split(' ')
  const seen = new Set<string>()
  for (const token of tokens) {
    if (!SCOPE_TOKEN.test(token)) return undefined
    seen.add(token)
  }
  return [...seen]
}
