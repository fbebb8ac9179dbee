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

// Fields of other client formats (the RFC 7591 registration response, earlier ccflow files) that
// people write into records, and where their value goes in this one.
const OTHER_FORMAT_FIELDS: Readonly<Record<string, string>> = {
  audience: 'list every allowed audience in audiences: ["https://…"] (the first is the default)',
  client_secret_hash: 'put the hash in secrets: [{ id, hash }]',
  client_secret_id: 'it is the id in secrets: [{ id, hash }]',
  client_secret:
    'records hold only hashes: hash the secret with `ccflow hash` (or hashClientSecret) and ' +
    'put it in secrets: [{ id, hash }]',
}

/**
 * The message for a field that is not a client record field: for a field of another client format
 * (`audience`, `client_secret_hash`, `client_secret_id`, `client_secret`), where its value goes
 * instead; for any other, {@link unknownKey} with the nearest field.
 */
export function unknownRecordField(key: string): string {
  const instead = Object.hasOwn(OTHER_FORMAT_FIELDS, key) ? OTHER_FORMAT_FIELDS[key] : undefined
  return instead === undefined
    ? unknownKey(key, CLIENT_KEYS)
    : `${key} is not a record field; ${instead}`
}
