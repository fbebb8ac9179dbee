import { isScopeToken } from '@ccflow/core'

/**
 * The scopes a token grants, from the given claims in order: a space-delimited string (RFC 9068
 * `scope`) or an array of strings (`scp` as Azure AD and Okta send it; never `scope`, which
 * RFC 9068 defines as a string). Duplicates are dropped; values of any other type are ignored.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9068#section-2.2.3
 */
export function readScopes(
  claims: Readonly<Record<string, unknown>>,
  scopeClaims: readonly string[],
): string[] {
  let scopes: string[] | undefined
  for (const name of scopeClaims) {
    const value = claims[name]
    let found: readonly unknown[]
    // split(' ') with the empty strings of repeated spaces skipped below: a regex split costs more.
    if (typeof value === 'string') found = value.split(' ')
    // RFC 9068 §2.2.3.1 (RFC 8693 §4.2): `scope` is a JSON string. An array there is read by no
    // other RFC 9068 resource server, so it grants nothing here either; arrays are for `scp`.
    else if (Array.isArray(value) && name !== 'scope') found = value
    else continue
    for (const scope of found) {
      if (typeof scope !== 'string' || scope === '') continue
      scopes ??= []
      if (!scopes.includes(scope)) scopes.push(scope)
    }
  }
  return scopes ?? []
}

/**
 * Checks the scopes a route requires, once at setup. The two likeliest mistakes get their own
 * message: a space-delimited string (`'a b'`, the token's own format) and an array (`['a']`),
 * both of which must be separate arguments.
 *
 * @throws {TypeError} `<caller>: …` when the list is empty or a scope is not a valid RFC 6749
 * scope-token (not a string, empty, or holding whitespace, `"` or `\`).
 */
export function checkRequiredScopes(scopes: readonly unknown[], caller: string): string[] {
  if (scopes.length === 0) {
    throw new TypeError(`${caller}: give at least one scope, as ${caller}('reports:read')`)
  }
  for (const scope of scopes) {
    if (isScopeToken(scope)) continue
    throw new TypeError(`${caller}: ${scopeProblem(scope, caller)}`)
  }
  return [...new Set(scopes as string[])]
}

function scopeProblem(scope: unknown, caller: string): string {
  // Scope tokens hold no quote or backslash, so they can be shown in quotes as they are.
  const separate = (parts: readonly string[]): string =>
    `${caller}(${parts.map((part) => `'${part}'`).join(', ')})`
  if (Array.isArray(scope)) {
    const parts = scope as unknown[]
    if (parts.length > 0 && parts.every(isScopeToken)) {
      return (
        `pass each scope as a separate argument, not an array: ${separate(parts)}` +
        ` (or ${caller}(...scopes) for a list)`
      )
    }
    return 'pass each scope as a separate string argument, not an array'
  }
  if (typeof scope === 'string') {
    const parts = scope.split(/\s+/).filter((part) => part !== '')
    if (parts.length > 1 && parts.every(isScopeToken)) {
      return `'${parts.join(' ')}' holds ${parts.length} scopes; pass each as a separate argument: ${separate(parts)}`
    }
  }
  return 'every scope must be a non-empty string without spaces, quotes or backslashes (RFC 6749 §3.3)'
}
