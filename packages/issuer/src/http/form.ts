/**
 * Decodes one `application/x-www-form-urlencoded` name or value: `+` is a space, `%XX` is a byte
 * of UTF-8. Strict where the WHATWG parser is lenient: a `%` that does not start a valid escape,
 * or bytes that are not UTF-8, make the whole value invalid instead of passing through.
 *
 * @returns The decoded string, or `undefined` when the value is malformed.
 * @see RFC 6749 Appendix B, HTML Living Standard §application/x-www-form-urlencoded
 */
export function formDecode(value: string): string | undefined {
  const spaced = value.includes('+') ? value.replaceAll('+', ' ') : value
  if (!spaced.includes('%')) return spaced
  try {
    return decodeURIComponent(spaced)
  } catch {
    return undefined
  }
}

/** A parsed form body: the pairs in order, or why it could not be parsed. */
export type FormParseResult =
  | { ok: true; pairs: Array<[name: string, value: string]> }
  | { ok: false; reason: 'too_many_parameters' | 'malformed_body' }

/**
 * Parses a form body into name/value pairs, keeping repeated names (the caller decides whether a
 * repeat is allowed). Empty segments (`a=1&&b=2`) are skipped; a segment without `=` is a name
 * with an empty value.
 */
export function parseForm(body: string, maxParameters: number): FormParseResult {
  const pairs: Array<[string, string]> = []
  if (body === '') return { ok: true, pairs }
  for (const segment of body.split('&')) {
    if (segment === '') continue
    if (pairs.length === maxParameters) return { ok: false, reason: 'too_many_parameters' }
    const eq = segment.indexOf('=')
    const name = formDecode(eq === -1 ? segment : segment.slice(0, eq))
    const value = eq === -1 ? '' : formDecode(segment.slice(eq + 1))
    if (name === undefined || value === undefined) return { ok: false, reason: 'malformed_body' }
    pairs.push([name, value])
  }
  return { ok: true, pairs }
}
