/**
 * The table of a factory's option names. Write it as
 * `const X_OPTIONS = { … } satisfies OptionTable<XOptions>`: a new option missing from the table
 * (or a name that is not an option) then fails to compile, instead of being refused as unknown
 * at run time.
 */
export type OptionTable<T> = { readonly [K in keyof Required<T>]: true }

/**
 * Refuses the first key of `options` that is not in `table`, suggesting the nearest known name.
 * `prefix` is the dotted path of a nested object (`"jwks."`); names listed in `hidden` (deprecated
 * aliases, mapped to their replacements) are accepted but never suggested: a near miss of one
 * suggests its replacement. `hint` may add a sentence for a key it recognises.
 */
export function checkKnownKeys(
  options: object,
  table: Readonly<Record<string, true>>,
  where: string,
  prefix = '',
  extra?: {
    hidden?: Readonly<Record<string, unknown>> | undefined
    hint?: ((key: string) => string | undefined) | undefined
  },
): void {
  for (const key of Object.keys(options)) {
    if (Object.hasOwn(table, key)) continue
    const known = extra?.hint?.(key)
    const hidden = extra?.hidden ?? {}
    const names = Object.keys(table)
    // Current names first; a near miss of a deprecated name then suggests its replacement.
    let near: string | undefined
    if (known === undefined) {
      near = nearestName(
        key,
        names.filter((name) => !Object.hasOwn(hidden, name)),
      )
      const old = near === undefined ? nearestName(key, Object.keys(hidden)) : undefined
      if (old !== undefined) near = String(hidden[old])
    }
    const detail =
      known !== undefined
        ? ` (${known})`
        : near === undefined
          ? ''
          : ` (did you mean "${prefix}${near}"?)`
    throw new TypeError(`${where}: unknown option "${prefix}${key}"${detail}`)
  }
}

/**
 * The near-miss hint for a value that is not one of `candidates`: ` (did you mean "x"?)` when
 * {@link nearestName} finds one, else an empty string. `quote` is the quote the surrounding
 * message uses for the candidates (`'` where a list of values is written as `'a', 'b'`). A
 * candidate that differs only in its digits is another version (`draft-9` is not `draft-8`),
 * not a typo, and is never suggested.
 */
export function didYouMean(value: unknown, candidates: readonly string[], quote = '"'): string {
  if (typeof value !== 'string') return ''
  const near = nearestName(value, candidates)
  if (near === undefined) return ''
  const shape = (text: string): string => text.toLowerCase().replace(/[0-9]/g, '0')
  if (shape(near) === shape(value) && near.toLowerCase() !== value.toLowerCase()) return ''
  return ` (did you mean ${quote}${near}${quote}?)`
}

/**
 * The candidate nearest to `name`: case-insensitive Levenshtein distance ≤ 2 (≤ 1 for a name of
 * four characters or fewer, which two edits turn into almost anything), or, failing that,
 * the only candidate that `name` starts (or that starts `name`) with at least 4 characters in
 * common — so `hookTimeout` finds `hookTimeoutMs` and `timeoutMillis` finds `timeoutMs`.
 */
export function nearestName(name: string, candidates: readonly string[]): string | undefined {
  const lower = name.toLowerCase()
  let best: string | undefined
  let bestDistance = lower.length <= 4 ? 2 : 3
  for (const candidate of candidates) {
    const distance = levenshtein(lower, candidate.toLowerCase(), bestDistance)
    if (distance < bestDistance) {
      best = candidate
      bestDistance = distance
    }
  }
  if (best !== undefined) return best
  const prefixed = candidates.filter((candidate) => {
    const c = candidate.toLowerCase()
    const shorter = Math.min(c.length, lower.length)
    return shorter >= 4 && commonPrefix(c, lower) >= Math.max(4, shorter - 2)
  })
  return prefixed.length === 1 ? prefixed[0] : undefined
}

function commonPrefix(a: string, b: string): number {
  let i = 0
  while (i < a.length && i < b.length && a[i] === b[i]) i++
  return i
}

// Edit distance, giving up (returning `limit`) once every path exceeds it.
function levenshtein(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) >= limit) return limit
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    let rowMin = i
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      const value = Math.min(
        (previous[j] as number) + 1,
        (current[j - 1] as number) + 1,
        (previous[j - 1] as number) + cost,
      )
      current.push(value)
      rowMin = Math.min(rowMin, value)
    }
    if (rowMin >= limit) return limit
    previous = current
  }
  return Math.min(previous[b.length] as number, limit)
}
