import { createHash } from 'node:crypto'

/** What a cached token stands for; two requests share a token only when all of it is equal. */
export interface CacheKeyParts {
  /** The token endpoint URL, or `issuer:<issuer>` when it is discovered. */
  readonly endpoint: string
  readonly clientId: string
  readonly authMethod: string
  /** The hash of the secret or the thumbprint of the key; never the secret. */
  readonly credential: string
  /** Sorted, without duplicates. */
  readonly scope: readonly string[]
  /** Sorted, without duplicates. */
  readonly resource: readonly string[]
  /** Sorted by name. */
  readonly params: ReadonlyArray<readonly [string, string]>
}

/**
 * The cache key of a token request: base64url(SHA-256) of the JSON of every part, so that a
 * token for one scope set, resource set, client, credential or endpoint is never handed out for
 * another, and nothing of the parts (the secret hash included) can be read from the key.
 */
export function cacheKey(parts: CacheKeyParts): string {
  const canonical = JSON.stringify([
    parts.endpoint,
    parts.clientId,
    parts.authMethod,
    parts.credential,
    parts.scope,
    parts.resource,
    parts.params,
  ])
  return createHash('sha256').update(canonical).digest('base64url')
}
