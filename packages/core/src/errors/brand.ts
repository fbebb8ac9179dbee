/**
 * The brand of one error class of a ccflow package: the registered symbol
 * `Symbol.for('ccflow.<name>')`.
 *
 * A package ships an ESM and a CJS build, and an app can load both (one module imports, a
 * dependency requires), so there are two copies of each error class and `instanceof` fails across
 * them. A registered symbol is the same in both builds (and in every copy of this package), so an
 * error marked by one build is recognized by the other.
 *
 * @param name The package and class, for example `issuer.TokenError`.
 */
export function brand(name: string): symbol {
  return Symbol.for(`ccflow.${name}`)
}

/**
 * Marks `target` with `symbol`, as a non-enumerable, read-only property, so that it shows neither
 * in `JSON.stringify`, `Object.keys` nor a test's `toEqual`.
 */
export function markBranded(target: object, symbol: symbol): void {
  Object.defineProperty(target, symbol, { value: true })
}

/**
 * Whether `value` carries the brand `symbol`. A look-alike (an object or an `Error` with the same
 * `code`, `status` and `reason`) does not: only {@link markBranded} sets the brand.
 */
export function isBranded(value: unknown, symbol: symbol): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<symbol, unknown>)[symbol] === true
  )
}
