/** The resource server's configuration, read from the environment. */
import * as env from '../shared/env.js'

/** Everything the resource server needs to start. */
export interface ResourceServerConfig {
  host: string
  port: number
  /** `ISSUER`: the token server's issuer URL; tokens must carry exactly this `iss`. */
  issuer: string
  /** `AUDIENCE`: this API's identifier; tokens must name it in `aud`. */
  audience: string
  /** `JWKS_URI`; without it the JWKS URL is discovered from the issuer's metadata. */
  jwksUri: string | undefined
}

/**
 * Reads `HOST`, `PORT` (default 4001), `ISSUER`, `AUDIENCE` and `JWKS_URI`.
 *
 * @throws {env.ConfigError} With a one-line message saying what to fix.
 */
export function loadResourceServerConfig(vars: env.Env): ResourceServerConfig {
  const issuer = env.url(env.required(vars, 'ISSUER', "the token server's issuer URL"), 'ISSUER')
  const audience = env.required(vars, 'AUDIENCE', "this API's identifier, as tokens name it in aud")
  const jwksUri = env.optional(vars, 'JWKS_URI')
  return {
    host: env.host(vars),
    port: env.port(vars, 4001),
    issuer,
    audience,
    jwksUri: jwksUri === undefined ? undefined : env.url(jwksUri, 'JWKS_URI'),
  }
}
