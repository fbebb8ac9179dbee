// The benchmark targets of issue 6. Each runs as `node servers/serve.mjs <server> <options>`.
import type { Alg } from './fixtures.js'

export type Kind = 'ceiling' | 'guard' | 'issuer'

/**
 * How the load generator drives a target:
 * - `plain`: GET the route, no credentials (ceilings);
 * - `token-reused`: GET with one valid token (the guard's verified-token cache hits);
 * - `token-fresh`: GET with a different pre-minted token on every request (cache misses);
 * - `token-request`: POST a client_credentials request with Basic authentication;
 * - `assertion-request`: POST a client_credentials request authenticated with `private_key_jwt`,
 *   a different, never-used client assertion on every request (a replay would be refused).
 */
export type LoadShape =
  'plain' | 'token-reused' | 'token-fresh' | 'token-request' | 'assertion-request'

export interface Target {
  /** `<kind>/<library>-<variant>`; `--only` matches a substring of it. */
  name: string
  kind: Kind
  /** ccflow targets are judged against the ceiling and the peers; peers set the bar. */
  role: 'ceiling' | 'ccflow' | 'peer'
  /** Signing algorithm of the tokens (not of client assertions); undefined for ceilings. */
  alg?: Alg
  /** Module under servers/targets/. */
  server: string
  options: Record<string, string>
  load: LoadShape
  /** Load-generator connections when the default would only queue (scrypt: a few per second). */
  connections?: number
  /** One line for the README and the report. */
  description: string
}

const TARGETS: readonly Target[] = [
  {
    name: 'ceiling/express',
    kind: 'ceiling',
    role: 'ceiling',
    server: 'ceiling-express',
    options: {},
    load: 'plain',
    description: 'Express 5 route answering the JSON, no auth (the ceiling ratios refer to)',
  },
  {
    name: 'ceiling/express-bearer',
    kind: 'ceiling',
    role: 'ceiling',
    alg: 'RS256',
    server: 'ceiling-express',
    options: {},
    load: 'token-reused',
    description:
      'ceiling/express sent the bearer header of guard/ccflow-rs256-reused, which it ignores: the same request bytes as the guard gets',
  },
  {
    name: 'ceiling/express-bearer-middleware',
    kind: 'ceiling',
    role: 'ceiling',
    alg: 'RS256',
    server: 'ceiling-express',
    options: { middleware: 'bearer-floor' },
    load: 'token-reused',
    description:
      'ceiling/express-bearer with one middleware that reads the Authorization header and sets a constant req.auth: the least any bearer guard does, so the floor of a guard ratio',
  },
  {
    name: 'ceiling/node-http',
    kind: 'ceiling',
    role: 'ceiling',
    server: 'ceiling-http',
    options: {},
    load: 'plain',
    description: 'plain node:http answering the same JSON (reference: what Express costs)',
  },
  ...(['RS256', 'ES256'] as const).flatMap((alg): Target[] => [
    {
      name: `guard/ccflow-${alg.toLowerCase()}-reused`,
      kind: 'guard',
      role: 'ccflow',
      alg,
      server: 'guard-ccflow',
      options: { alg },
      load: 'token-reused',
      description: `ccflow requireToken({ scopes }), JWKS URI, one reused ${alg} token (cache hit)`,
    },
    {
      name: `guard/ccflow-${alg.toLowerCase()}-fresh`,
      kind: 'guard',
      role: 'ccflow',
      alg,
      server: 'guard-ccflow',
      options: { alg },
      load: 'token-fresh',
      description: `ccflow requireToken({ scopes }), JWKS URI, a new ${alg} token per request (cache miss)`,
    },
  ]),
  // Issue 14: the cache-hit path with the guard's Prometheus adapter attached, paired against the
  // same path without: `pnpm bench --paired --only guard/ccflow-rs256-reused-prometheus --versus
  // guard/ccflow-rs256-reused`. The goal is at most 3 % fewer requests per second.
  {
    name: 'guard/ccflow-rs256-reused-prometheus',
    kind: 'guard',
    role: 'ccflow',
    alg: 'RS256',
    server: 'guard-ccflow',
    options: { alg: 'RS256', metrics: 'prometheus' },
    load: 'token-reused',
    description:
      'guard/ccflow-rs256-reused with @ccflow/guard/prometheus registered (issue 14 cost of the metrics)',
  },
  ...(['RS256', 'ES256'] as const).map((alg): Target => ({
    name: `guard/express-oauth2-jwt-bearer-${alg.toLowerCase()}`,
    kind: 'guard',
    role: 'peer',
    alg,
    server: 'guard-auth0',
    options: { alg },
    load: 'token-fresh',
    description: `express-oauth2-jwt-bearer auth() + requiredScopes, JWKS URI, ${alg}`,
  })),
  {
    name: 'guard/express-jwt-jwks-rsa-rs256',
    kind: 'guard',
    role: 'peer',
    alg: 'RS256',
    server: 'guard-express-jwt',
    options: { alg: 'RS256' },
    load: 'token-fresh',
    description: 'express-jwt + jwks-rsa expressJwtSecret (cached), scope check middleware, RS256',
  },
  {
    name: 'guard/passport-jwt-rs256',
    kind: 'guard',
    role: 'peer',
    alg: 'RS256',
    server: 'guard-passport-jwt',
    options: { alg: 'RS256' },
    load: 'token-fresh',
    description: 'passport-jwt + jwks-rsa passportJwtSecret (cached), scope check, RS256',
  },
  {
    name: 'guard/jsonwebtoken-rs256',
    kind: 'guard',
    role: 'peer',
    alg: 'RS256',
    server: 'guard-jsonwebtoken',
    options: { alg: 'RS256' },
    load: 'token-fresh',
    description: 'hand-written jsonwebtoken.verify middleware, static public KeyObject, RS256',
  },
  {
    name: 'issuer/ccflow-rs256-hmac',
    kind: 'issuer',
    role: 'ccflow',
    alg: 'RS256',
    server: 'issuer-ccflow',
    options: { alg: 'RS256', secretHash: 'hmac-sha256' },
    load: 'token-request',
    description: 'ccflow tokenEndpoint, Basic, hmac-sha256 secret hash, RS256',
  },
  {
    name: 'issuer/ccflow-es256-hmac',
    kind: 'issuer',
    role: 'ccflow',
    alg: 'ES256',
    server: 'issuer-ccflow',
    options: { alg: 'ES256', secretHash: 'hmac-sha256' },
    load: 'token-request',
    description: 'ccflow tokenEndpoint, Basic, hmac-sha256 secret hash, ES256',
  },
  {
    name: 'issuer/ccflow-es256-hmac-postgres',
    kind: 'issuer',
    role: 'ccflow',
    alg: 'ES256',
    server: 'issuer-ccflow',
    options: { alg: 'ES256', secretHash: 'hmac-sha256', store: 'postgres' },
    load: 'token-request',
    description:
      'issuer/ccflow-es256-hmac with the client in PostgreSQL (postgresClientStore, DATABASE_URL), warm cache',
  },
  {
    name: 'issuer/ccflow-es256-private-key-jwt',
    kind: 'issuer',
    role: 'ccflow',
    alg: 'ES256',
    server: 'issuer-ccflow',
    options: { alg: 'ES256', clientAuth: 'private_key_jwt' },
    load: 'assertion-request',
    description:
      'ccflow tokenEndpoint, private_key_jwt: an ES256 client assertion (new jti) per request, inline jwks, memory replay store, ES256',
  },
  {
    name: 'issuer/ccflow-rs256-scrypt',
    kind: 'issuer',
    role: 'ccflow',
    alg: 'RS256',
    server: 'issuer-ccflow',
    options: { alg: 'RS256', secretHash: 'scrypt' },
    load: 'token-request',
    // As many connections as libuv has threads: more would only queue 32 MiB hashes.
    connections: 4,
    description: 'ccflow tokenEndpoint, Basic, scrypt secret hash (imported secrets), RS256',
  },
  {
    name: 'issuer/ccflow-es256-hmac-limited',
    kind: 'issuer',
    role: 'ccflow',
    alg: 'ES256',
    server: 'issuer-ccflow',
    options: { alg: 'ES256', secretHash: 'hmac-sha256', rateLimit: 'default' },
    load: 'token-request',
    description:
      'ccflow tokenEndpoint, Basic, hmac-sha256, ES256, both default rate limiters on (issuance limit raised so the load is not refused)',
  },
  {
    name: 'issuer/ccflow-es256-hmac-prometheus',
    kind: 'issuer',
    role: 'ccflow',
    alg: 'ES256',
    server: 'issuer-ccflow',
    options: { alg: 'ES256', secretHash: 'hmac-sha256', metrics: 'prometheus' },
    load: 'token-request',
    description:
      'issuer/ccflow-es256-hmac with the Prometheus adapter attached (registerIssuerMetrics on a prom-client Registry)',
  },
  // The classic stack as users run it: a KeyObject (parsed once) or a PEM string (parsed by
  // jsonwebtoken on every sign), RS256 and ES256.
  ...(['RS256', 'ES256'] as const).flatMap((alg): Target[] =>
    (['keyobject', 'pem'] as const).map((key): Target => ({
      name: `issuer/oauth2orize-${alg.toLowerCase()}${key === 'pem' ? '-pem' : ''}`,
      kind: 'issuer',
      role: 'peer',
      alg,
      server: 'issuer-oauth2orize',
      options: { alg, key },
      load: 'token-request',
      description: `oauth2orize clientCredentials + passport-http Basic + jsonwebtoken.sign (${key === 'pem' ? 'PEM string' : 'KeyObject'}), ${alg}, no rate limits`,
    })),
  ),
  {
    name: 'issuer/oauth2-server-rs256',
    kind: 'issuer',
    role: 'peer',
    alg: 'RS256',
    server: 'issuer-oauth2-server',
    options: { alg: 'RS256' },
    load: 'token-request',
    description:
      '@node-oauth/oauth2-server client_credentials, model signs with jsonwebtoken, RS256',
  },
  {
    name: 'issuer/oidc-provider-rs256',
    kind: 'issuer',
    role: 'peer',
    alg: 'RS256',
    server: 'issuer-oidc-provider',
    options: { alg: 'RS256' },
    load: 'token-request',
    description: 'oidc-provider client_credentials, resource indicator, JWT access tokens, RS256',
  },
]

/** A comparison that decides one of the speed goals of issue 16: target ÷ versus req/s ≥ min. */
export interface SpeedGoal {
  goal: string
  target: string
  versus: string
  min: number
}

/** Issue 16's goals; each is measured side by side (paired mode) so that it holds on any machine. */
export const SPEED_GOALS: readonly SpeedGoal[] = [
  {
    goal: 'guard cache hit RS256 ≥ 0.95× Express',
    target: 'guard/ccflow-rs256-reused',
    versus: 'ceiling/express',
    min: 0.95,
  },
  {
    goal: 'guard cache hit RS256 ≥ 0.95× Express sent the same bearer header (same request bytes)',
    target: 'guard/ccflow-rs256-reused',
    versus: 'ceiling/express-bearer',
    min: 0.95,
  },
  {
    goal: 'guard miss RS256 ≥ 1.0× plain jsonwebtoken middleware',
    target: 'guard/ccflow-rs256-fresh',
    versus: 'guard/jsonwebtoken-rs256',
    min: 1,
  },
  {
    goal: 'guard miss RS256 ≥ 1.25× express-oauth2-jwt-bearer',
    target: 'guard/ccflow-rs256-fresh',
    versus: 'guard/express-oauth2-jwt-bearer-rs256',
    min: 1.25,
  },
  {
    goal: 'token endpoint ES256, default limits ≥ 1.25× oauth2orize stack (KeyObject, ES256)',
    target: 'issuer/ccflow-es256-hmac-limited',
    versus: 'issuer/oauth2orize-es256',
    min: 1.25,
  },
  {
    goal: 'token endpoint ES256 with the Prometheus adapter ≥ 0.97× without (issue 14)',
    target: 'issuer/ccflow-es256-hmac-prometheus',
    versus: 'issuer/ccflow-es256-hmac',
    min: 0.97,
  },
  {
    goal: 'token endpoint with the PostgreSQL client store (warm cache) ≥ 0.95× the static store',
    target: 'issuer/ccflow-es256-hmac-postgres',
    versus: 'issuer/ccflow-es256-hmac',
    min: 0.95,
  },
  {
    goal: 'token endpoint RS256 ≥ 1.15× oauth2orize stack (KeyObject, RS256)',
    target: 'issuer/ccflow-rs256-hmac',
    versus: 'issuer/oauth2orize-rs256',
    min: 1.15,
  },
  {
    goal: 'token endpoint RS256 ≥ 1.3× oidc-provider',
    target: 'issuer/ccflow-rs256-hmac',
    versus: 'issuer/oidc-provider-rs256',
    min: 1.3,
  },
]

/** The targets `--only` selects; the Express ceiling stays in so that ratios can be computed. */
export function selectTargets(only: readonly string[], keepCeiling: boolean): Target[] {
  if (only.length === 0) return [...TARGETS]
  if (!TARGETS.some((t) => only.some((o) => t.name.includes(o)))) return []
  return TARGETS.filter(
    (t) => only.some((o) => t.name.includes(o)) || (keepCeiling && t.name === 'ceiling/express'),
  )
}

/** The target with this exact name (a programming error when there is none). */
export function targetNamed(name: string): Target {
  const target = TARGETS.find((t) => t.name === name)
  if (target === undefined) throw new Error(`no bench target is named ${name}`)
  return target
}
