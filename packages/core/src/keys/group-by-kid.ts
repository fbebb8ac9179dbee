/**
 * Groups keys by `kid`, in order, leaving out the keys without one. A kid may name several keys
 * (RFC 7517 §4.5 allows one kid for keys of different types, and a static configuration may
 * repeat one during a rotation); the caller picks among them by algorithm.
 */
export function groupByKid<K extends { readonly kid: string | undefined }>(
  keys: readonly K[],
): Map<string, K[]> {
  const byKid = new Map<string, K[]>()
  for (const key of keys) {
    if (key.kid === undefined) continue
    const list = byKid.get(key.kid)
    if (list === undefined) byKid.set(key.kid, [key])
    else list.push(key)
  }
  return byKid
}
