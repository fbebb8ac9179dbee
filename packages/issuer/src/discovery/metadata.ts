import type { RequestHandler } from 'express'
import { staticJsonHandler } from './static-json.js'
import type { TokenEndpointConfig } from '../options/resolve.js'

const AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'] as const

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
  // RFC 8414 §2: the algorithms a private_key_jwt assertion may be signed with (the server
  // allow-list; a client that registered another one in its record may use that one).
  const algorithms = config.privateKeyJwt.signingAlgorithms
  return {
    issuer: config.issuer,
    token_endpoint: config.urls.token,
    jwks_uri: config.urls.jwks,
    grant_types_supported: ['client_credentials'],
    token_endpoint_auth_methods_supported: [...AUTH_METHODS],
    token_endpoint_auth_signing_alg_values_supported: [...algorithms],
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
          revocation_endpoint_auth_signing_alg_values_supported: [...algorithms],
        }),
    ...(config.introspection
      ? {
          introspection_endpoint: config.urls.introspection,
          introspection_endpoint_auth_methods_supported: [...AUTH_METHODS],
          introspection_endpoint_auth_signing_alg_values_supported: [...algorithms],
        }
      : {}),
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
