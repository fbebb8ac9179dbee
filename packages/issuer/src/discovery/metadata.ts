import { createHash } from 'node:crypto'
import type { RequestHandler } from 'express'
import { JSON_TYPE } from '../http/respond.js'
import type { TokenEndpointConfig } from '../options/resolve.js'

const AUTH_METHODS = ['client_secret_basic', 'client_secret_post'] as const

/**
 * The RFC 8414 §2 authorization server metadata for this endpoint.
 *
 * `authorization_endpoint` is left out: §2 requires it only when a grant uses it, and the
 * client credentials grant does not. `response_types_supported` is left out too: §2 calls it
 * REQUIRED, but with no authorization endpoint the list is empty, §3.2 says members with zero
 * elements MUST be omitted, and RFC errata 7793 proposes making it conditional exactly like
 * `authorization_endpoint`.
 *
 * @see RFC 8414 §2, §3.2
 */
export function buildMetadata(config: TokenEndpointConfig): Record<string, unknown> {
  return {
    issuer: config.issuer,
    token_endpoint: config.urls.token,
    jwks_uri: config.urls.jwks,
    grant_types_supported: ['client_credentials'],
    token_endpoint_auth_methods_supported: [...AUTH_METHODS],
    ...(config.scopesSupported === undefined || config.scopesSupported.length === 0
      ? {}
      : { scopes_supported: [...config.scopesSupported] }),
    // RFC 8414 §2: the revocation and introspection endpoints take the same client
    // authentication as the token endpoint.
    ...(config.revocation === undefined
      ? {}
      : {
          revocation_endpoint: config.urls.revocation,
          revocation_endpoint_auth_methods_supported: [...AUTH_METHODS],
        }),
    ...(config.introspection
      ? {
          introspection_endpoint: config.urls.introspection,
          introspection_endpoint_auth_methods_supported: [...AUTH_METHODS],
        }
      : {}),
  }
}

/**
 * A GET handler for a document serialized once at creation, with an ETag and
 * `Cache-Control: public, max-age` so that verifiers and caches can keep it.
 *
 * @internal
 */
export function staticJsonHandler(document: unknown, maxAge: number): RequestHandler {
  const body = Buffer.from(JSON.stringify(document))
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`
  const cacheControl = `public, max-age=${maxAge}`
  return (req, res) => {
    res.setHeader('Cache-Control', cacheControl)
    res.setHeader('ETag', etag)
    const match = req.headers['if-none-match']
    if (
      match !== undefined &&
      match.split(',').some((tag) => tag.trim() === etag || tag.trim() === '*')
    ) {
      res.statusCode = 304
      res.end()
      return
    }
    res.statusCode = 200
    res.setHeader('Content-Type', JSON_TYPE)
    res.setHeader('Content-Length', body.length)
    res.end(body)
  }
}

/**
 * GET handler of the RFC 8414 metadata document.
 *
 * @internal
 */
export function metadataHandler(config: TokenEndpointConfig): RequestHandler {
  return staticJsonHandler(buildMetadata(config), config.jwksMaxAgeSeconds)
}

/**
 * GET handler of the JWK Set (RFC 7517 §5): the public keys of every configured signing key,
 * active, next and retired, so tokens signed before and after a rotation both verify.
 *
 * @internal
 */
export function jwksHandler(config: TokenEndpointConfig): RequestHandler {
  return staticJsonHandler(config.keySet.jwks, config.jwksMaxAgeSeconds)
}
