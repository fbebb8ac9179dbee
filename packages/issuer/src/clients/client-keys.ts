import { nearestName } from '@ccflow/core'

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
  'jwks',
  'jwks_uri',
  'token_endpoint_auth_signing_alg',
  'max_assertion_lifetime',
])

/**
 * The message for a key that is not one of `known`: `unknown key "audiances" (did you mean
 * "audiences"?)`, with the hint only when a known name is close (core's `nearestName`, the rule
 * every option message uses too).
 */
export function unknownKey(key: string, known: Iterable<string>, noun = 'key'): string {
  const close = nearestName(key, [...known])
  const hint = close === undefined ? '' : ` (did you mean ${JSON.stringify(close)}?)`
  return `unknown ${noun} ${JSON.stringify(key)}${hint}`
}
