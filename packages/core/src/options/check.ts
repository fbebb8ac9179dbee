import { isPlainObject } from '../objects.js'
import { didYouMean } from './keys.js'

// One message format for every factory of every ccflow package:
//   <factory>: option "<path>" <problem>
//   <factory>: unknown option "<path>" (did you mean "<known>"?)
//   <factory>: options must be an object
// `path` is dotted from the factory's options object ("jwks.timeoutMs"). Every check throws a
// TypeError: a misconfiguration is a programmer mistake, never an OAuth error.

/** Where an option is read: the public factory's name and the option's dotted path. */
export interface OptionPath {
  /** The public factory, as the user calls it (`tokenEndpoint`, `requireToken`, …). */
  readonly where: string
  /** The option's dotted path in that factory's options (`jwks.timeoutMs`). */
  readonly path: string
}

/** The TypeError every option check throws: `<where>: option "<path>" <problem>`. */
export function optionError(where: string, path: string, problem: string): TypeError {
  return new TypeError(`${where}: option "${path}" ${problem}`)
}

/**
 * Checks that `value` is a plain object (`{…}`, not an array, class instance or `null`). With an
 * empty `path` it is the factory's options object itself.
 */
export function checkObject(
  value: unknown,
  where: string,
  path = '',
  expected = 'an object',
): Record<string, unknown> {
  if (isPlainObject(value)) return value
  if (path === '') throw new TypeError(`${where}: options must be ${expected}`)
  throw optionError(where, path, `must be ${expected}`)
}

/** Range of a numeric option; `max` may be omitted for "at least `min`". */
export interface NumberRange {
  readonly min: number
  readonly max?: number | undefined
}

function describeRange(kind: string, { min, max }: NumberRange): string {
  return max === undefined ? `must be ${kind} ≥ ${min}` : `must be ${kind} from ${min} to ${max}`
}

/** An integer within `range`, or `fallback` when `value` is `undefined`. */
export function checkInteger<F extends number | undefined>(
  value: unknown,
  at: OptionPath,
  range: NumberRange,
  fallback: F,
): number | F {
  return checkInRange(value, at, range, fallback, Number.isSafeInteger, 'an integer')
}

/** A finite number within `range`, or `fallback` when `value` is `undefined`. */
export function checkNumber<F extends number | undefined>(
  value: unknown,
  at: OptionPath,
  range: NumberRange,
  fallback: F,
): number | F {
  return checkInRange(value, at, range, fallback, Number.isFinite, 'a number')
}

function checkInRange<F extends number | undefined>(
  value: unknown,
  at: OptionPath,
  range: NumberRange,
  fallback: F,
  isKind: (value: number) => boolean,
  kind: string,
): number | F {
  if (value === undefined) return fallback
  if (
    typeof value !== 'number' ||
    !isKind(value) ||
    value < range.min ||
    (range.max !== undefined && value > range.max)
  ) {
    throw optionError(at.where, at.path, describeRange(kind, range))
  }
  return value
}

/** A boolean, or `fallback` when `value` is `undefined`. */
export function checkBoolean(value: unknown, at: OptionPath, fallback: boolean): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') throw optionError(at.where, at.path, 'must be a boolean')
  return value
}

/** A non-empty string; required unless a `fallback` is given. */
export function checkString<F extends string | undefined>(
  value: unknown,
  at: OptionPath,
  fallback: F,
  rule?: { test: (value: string) => boolean; expected: string },
): string | F {
  if (value === undefined && fallback !== undefined) return fallback
  const expected = rule?.expected ?? 'a non-empty string'
  if (typeof value !== 'string' || value === '' || (rule !== undefined && !rule.test(value))) {
    throw optionError(
      at.where,
      at.path,
      value === undefined ? `is required: ${expected}` : `must be ${expected}`,
    )
  }
  return value
}

/** A function, or `undefined` when not given (pass `required` to refuse that). */
export function checkFunction<F>(
  value: F | undefined,
  at: OptionPath,
  required?: { expected: string },
): F | undefined {
  if (value === undefined && required === undefined) return undefined
  if (typeof value !== 'function') {
    throw optionError(
      at.where,
      at.path,
      required === undefined
        ? 'must be a function'
        : `is required and must be ${required.expected}`,
    )
  }
  return value
}

/** One of `allowed` (compared with `===`), or `fallback` when `value` is `undefined`. */
export function checkOneOf<T, F extends T | undefined>(
  value: unknown,
  at: OptionPath,
  allowed: readonly T[],
  fallback: F,
): T | F {
  if (value === undefined) return fallback
  if (!allowed.includes(value as T)) {
    const list = allowed.map((item) => (typeof item === 'string' ? `'${item}'` : String(item)))
    const last = list.pop()
    const choices = list.length === 0 ? String(last) : `${list.join(', ')} or ${String(last)}`
    const strings = allowed.filter((item): item is T & string => typeof item === 'string')
    throw optionError(at.where, at.path, `must be ${choices}${didYouMean(value, strings, "'")}`)
  }
  return value as T
}

/**
 * An absolute URL string; `check` adds the caller's rule (for example https-or-loopback) and
 * returns the problem, if any.
 */
export function checkUrl(
  value: unknown,
  at: OptionPath,
  check?: (url: URL) => string | undefined,
): URL {
  if (typeof value !== 'string' || value === '') {
    throw optionError(at.where, at.path, 'must be a non-empty URL string')
  }
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw optionError(at.where, at.path, 'must be an absolute URL')
  }
  const problem = check?.(url)
  if (problem !== undefined) throw optionError(at.where, at.path, problem)
  return url
}
