import type { OptionPath } from '../options/check.js'
import { checkRedisKeyPrefix, hashedPairKey, isRedisKeyPrefix } from './key.js'

/**
 * The default key prefix of the revocation denylist in Redis, shared by the issuer's
 * `redisDenylist` (which writes it) and the guard's `redisRevocationCheck` (which reads it).
 */
export const DEFAULT_DENYLIST_PREFIX = 'ccflow:revoked:'

/** Whether `value` can be a denylist key prefix: 1–128 printable ASCII characters, no space. */
export function isDenylistPrefix(value: unknown): value is string {
  return isRedisKeyPrefix(value)
}

/**
 * Checks a `prefix` option of the denylist (the issuer's `redisDenylist`, the guard's
 * `redisRevocationCheck`: the two must agree), defaulting to {@link DEFAULT_DENYLIST_PREFIX}.
 *
 * @throws {TypeError} `<where>: option "prefix" must be 1-128 printable ASCII characters without spaces`
 */
export function checkDenylistPrefix(value: unknown, at: OptionPath): string {
  return checkRedisKeyPrefix(value, at, DEFAULT_DENYLIST_PREFIX)
}

/**
 * The key of a token in the denylist, without prefix: base64url(SHA-256(iss + "\n" + jti)).
 * Fixed length (43 characters) whatever the token says, and nothing from the token reaches the
 * key as text, so no `jti` can collide with another key or run into Redis key syntax. This is the
 * contract between the issuer that writes revocations and every guard that reads them
 * (test/token-contract-revocation.test.ts pins it end to end).
 */
export function denylistKey(iss: string, jti: string): string {
  return hashedPairKey(iss, jti)
}
