/**
 * How many `Authorization` header lines a request carries. Node keeps only the first in
 * `req.headers`, but RFC 9110 §5.3 allows repeating only list-based fields, and a proxy in front
 * may have read (and logged, or authorized) another one; both packages refuse such a request.
 *
 * @param rawHeaders `req.rawHeaders`: names and values alternating, as received.
 */
export function countAuthorizationHeaders(rawHeaders: readonly string[]): number {
  let count = 0
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string
    if (name.length === 13 && name.toLowerCase() === 'authorization') count += 1
  }
  return count
}
