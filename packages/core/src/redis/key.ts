import { createHash } from 'node:crypto'
import { checkString, type OptionPath } from '../options/check.js'

// Printable ASCII without space: a prefix is safe in any Redis tool and in logs.
const PREFIX = /^[\x21-\x7E]{1,128}$/

/** Whether `value` can prefix ccflow's Redis keys: 1–128 printable ASCII characters, no space. */
export function isRedisKeyPrefix(value: unknown): value is string {
  return typeof value === 'string' && PREFIX.test(value)
}

/**
 * Checks a `prefix` option of a Redis-backed store, defaulting to `fallback`.
 *
 * @throws {TypeError} `<where>: option "prefix" must be 1-128 printable ASCII characters without spaces`
 */
export function checkRedisKeyPrefix(value: unknown, at: OptionPath, fallback: string): string {
  return checkString(value, at, fallback, {
    test: isRedisKeyPrefix,
    expected: '1-128 printable ASCII characters without spaces',
  })
}

/**
 * A Redis key (without prefix) for a pair of request-supplied values: base64url(SHA-256(first +
 * "\n" + second)). Fixed length (43 characters) whatever the values hold, and nothing from them
 * reaches the key as text, so no value can collide with another key or run into Redis key syntax.
 */
export function hashedPairKey(first: string, second: string): string {
  return createHash('sha256').update(`${first}\n${second}`).digest('base64url')
}
