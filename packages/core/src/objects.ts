/**
 * Whether `value` is a plain object (`{…}` or `Object.create(null)`): not `null`, an array, a
 * class instance, a `Map` or a proxy of one. Options, client records and key inputs must be
 * plain data; anything else could run code when read (getters, `toJSON`).
 */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const proto = Object.getPrototypeOf(value) as unknown
  return proto === Object.prototype || proto === null
}

/**
 * Whether `value` is an object that is not an array (any prototype). For parsed JSON, where every
 * object is plain, this is the cheaper check.
 */
export function isObjectRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
