/** The fields of a canonical client record (see `Client`). */
export const CLIENT_KEYS: ReadonlySet<string> = new Set([
  'client_id',
  'client_name',
  'scope',
  'default_scope',
  'token_endpoint_auth_method',
  'grant_types',
  'audiences',
  'default_audience',
  'access_token_ttl',
  'disabled',
  'introspection',
  'secrets',
])

/**
 * The message for a key that is not one of `known`: `unknown key "audiances" (did you mean
 * "audiences"?)`, with the hint only when one known name is close (at most two edits, ignoring
 * case and `-` for `_`).
 */
export function unknownKey(key: string, known: Iterable<string>, noun = 'key'): string {
  const close = closest(key, known)
  const hint = close === undefined ? '' : ` (did you mean ${JSON.stringify(close)}?)`
  return `unknown ${noun} ${JSON.stringify(key)}${hint}`
}

function closest(key: string, known: Iterable<string>): string | undefined {
  const wanted = normalise(key)
  // Short names are close to everything; two edits of "scope" could be any word.
  const limit = wanted.length <= 4 ? 1 : 2
  let best: string | undefined
  let bestDistance = limit + 1
  for (const name of known) {
    const distance = editDistance(wanted, normalise(name))
    if (distance < bestDistance) {
      best = name
      bestDistance = distance
    }
  }
  return best
}

function normalise(name: string): string {
  return name.toLowerCase().replaceAll('-', '_')
}

/** Levenshtein distance (insert, delete, substitute), one row at a time. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      const substitute = (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1)
      current[j] = Math.min(substitute, (previous[j] as number) + 1, (current[j - 1] as number) + 1)
    }
    previous = current
  }
  return previous[b.length] as number
}
