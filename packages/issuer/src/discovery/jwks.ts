import type { RequestHandler } from 'express'
import type { TokenEndpointConfig } from '../options/resolve.js'
import { staticJsonHandler } from './static-json.js'

/**
 * GET handler of the JWK Set (RFC 7517 §5): the public keys of every configured signing key,
 * active, next and retired, so tokens signed before and after a rotation both verify.
 *
 * @internal
 */
export function jwksHandler(config: TokenEndpointConfig): RequestHandler {
  return staticJsonHandler(config.keySet.jwks, config.jwksMaxAgeSeconds)
}
