/** The resource server's configuration, read from the environment. */
import * as env from '../shared/env.js'
import { redisUrl } from '../shared/redis.js'

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
  /** `REDIS_URL`: where the token server's revocation denylist is; no revocation check without. */
  redisUrl: string | undefined
  /** `METRICS_PORT` and `METRICS_HOST`: where `GET /metrics` is served; `undefined`: nowhere. */
  metrics: env.MetricsListener | undefined
}

/**
 * Reads `HOST`, `PORT` (default 4001), `ISSUER`, `AUDIENCE`, `JWKS_URI`, `REDIS_URL`,
 * `METRICS_PORT` and `METRICS_HOST`.
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
    redisUrl: redisUrl(vars),
    metrics: env.metricsListener(vars),
  }
}
