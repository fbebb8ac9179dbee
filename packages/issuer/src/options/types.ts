import type { Options as RateLimitOptions } from 'express-rate-limit'
import type { PrivateKeyJwtOptions } from '../clients/assertion/assertion-options.js'
import type { Client, ClientStore } from '../clients/client-store.js'
import type { DenylistStore } from '../revocation/denylist.js'
import type { IssuerEvent } from '../events.js'
import type { SigningKeysInput } from '../tokens/signing-keys.js'

// The public options of tokenEndpoint. Durations name their unit (CONTRIBUTING.md, "Options"):
// `…Ms` milliseconds, `…Seconds` seconds; express-rate-limit's own `windowMs` already does.

/**
 * express-rate-limit options a limiter accepts. The response (`handler`, `message`,
 * `statusCode`) and what counts as a failure (`skipSuccessfulRequests`, `requestWasSuccessful`)
 * belong to the token endpoint and cannot be replaced.
 *
 * @see https://express-rate-limit.mintlify.app/reference/configuration
 */
export type LimiterOptions = {
  [K in LimiterOptionName]?: RateLimitOptions[K] | undefined
}

/** The express-rate-limit option names a limiter accepts. */
type LimiterOptionName =
  | 'windowMs'
  | 'limit'
  | 'standardHeaders'
  | 'legacyHeaders'
  | 'identifier'
  | 'retryAfter'
  | 'keyGenerator'
  | 'ipv6Subnet'
  | 'skip'
  | 'store'
  | 'validate'
  | 'passOnStoreError'
  | 'logger'

/** express-rate-limit options for the per-client issuance quota (keyed by client id). */
export type IssuanceLimiterOptions = Omit<LimiterOptions, 'keyGenerator' | 'ipv6Subnet'>

/**
 * The two rate limiters of the token route. Give each its own `store` (and, in a shared store
 * such as rate-limit-redis, its own prefix) to share the counts between instances.
 *
 * When a store fails, `passOnStoreError: true` (the default here, unlike express-rate-limit's)
 * lets the request through unlimited and logs the error through `logger`; `false` answers 503
 * `temporarily_unavailable` with `Retry-After`.
 */
export interface RateLimitSettings {
  /**
   * Per IP address (IPv6 grouped by `ipv6Subnet`), counting only requests that fail client
   * authentication; `false` turns it off. Runs before authentication, on the token, revocation
   * and introspection routes alike (one budget for all three).
   * @default { windowMs: 900_000, limit: 20, legacyHeaders: false, passOnStoreError: true }, and
   * draft-8 `RateLimit` headers on 429 answers only (a `standardHeaders` value sends them on every
   * response)
   */
  failures?: LimiterOptions | false | undefined
  /**
   * Per authenticated client id, counting every token request; `false` turns it off.
   * @default { windowMs: 60_000, limit: 600, legacyHeaders: false, passOnStoreError: true }, and
   * draft-8 `RateLimit` headers on 429 answers only
   */
  issuance?: IssuanceLimiterOptions | false | undefined
}

/** Token revocation (RFC 7009). */
export interface RevocationSettings {
  /**
   * Where revoked tokens are kept until they expire: `memoryDenylist()` for one instance,
   * `redisDenylist(...)` when several instances (and the guards) share it.
   */
  store: DenylistStore
}

/** What the `extraClaims` hook is told about the token being issued. */
export interface ExtraClaimsContext {
  /** The authenticated client record. */
  client: Client
  /** The granted scope (space-delimited). */
  scope: string
  /** The token's `aud`. */
  audience: string | string[]
}

/**
 * Options of {@link tokenEndpoint}. Checked once when the router is created.
 *
 * @see RFC 6749 §4.4, RFC 8414 §2
 */
export interface TokenEndpointOptions {
  /**
   * The issuer identifier: the `iss` of every token and the base of the metadata URLs. An
   * `https` URL without query or fragment and without a trailing `/` (guards compare it
   * character for character); `http` only for `localhost`, `127.0.0.1` and `[::1]`.
   * Mount the router at this URL's path.
   */
  issuer: string
  /** Where client records come from. */
  clients: ClientStore
  /**
   * Signing keys: a list, or a JWK Set such as the file `ccflow keygen --out` writes, parsed
   * (`JSON.parse(readFileSync(file, 'utf8'))`). Exactly one key signs (the one marked `active`,
   * else the first without a `status`); `next` and `retired` keys are only published in the JWKS.
   */
  keys: SigningKeysInput
  /**
   * Token lifetime in seconds when the client record sets none (1 to 86400).
   * @default TOKEN_ENDPOINT_DEFAULTS.accessTokenTtlSeconds (300; lowered to
   *   `maxAccessTokenTtlSeconds` when that is smaller)
   */
  accessTokenTtlSeconds?: number | undefined
  /**
   * Upper bound in seconds for any token lifetime, including a client's `access_token_ttl`
   * (1 to 86400).
   * @default TOKEN_ENDPOINT_DEFAULTS.maxAccessTokenTtlSeconds (3600)
   */
  maxAccessTokenTtlSeconds?: number | undefined
  /**
   * The HMAC key for `hmac-sha256` secret hashes, at least 32 bytes. Must match the pepper the
   * hashes were made with.
   * @default undefined (the built-in domain-separation key)
   */
  secretPepper?: string | undefined
  /**
   * Accept an `application/json` body besides the RFC 6749 form body.
   * @default false
   */
  allowJsonBody?: boolean | undefined
  /**
   * Largest accepted request body in bytes (128 to 65536); a larger body gets 413.
   * @default TOKEN_ENDPOINT_DEFAULTS.bodyLimit (4096)
   */
  bodyLimit?: number | undefined
  /**
   * The realm of the `WWW-Authenticate: Basic` challenge (visible ASCII, no `"` or `\`).
   * @default TOKEN_ENDPOINT_DEFAULTS.realm ('ccflow')
   */
  realm?: string | undefined
  /**
   * Route paths, relative to where the router is mounted.
   * @default TOKEN_ENDPOINT_DEFAULTS.paths: { token: '/token', jwks: '/jwks.json', metadata: '/.well-known/oauth-authorization-server', revocation: '/revoke', introspection: '/introspect' }
   */
  paths?:
    | {
        token?: string | undefined
        jwks?: string | undefined
        metadata?: string | undefined
        revocation?: string | undefined
        introspection?: string | undefined
      }
    | undefined
  /**
   * `Cache-Control: max-age` in seconds for the JWKS and the metadata document (0 to 604800).
   * @default TOKEN_ENDPOINT_DEFAULTS.jwksMaxAgeSeconds (300)
   */
  jwksMaxAgeSeconds?: number | undefined
  /**
   * `scopes_supported` for the metadata document.
   * @default undefined (omitted from the metadata)
   */
  scopesSupported?: readonly string[] | undefined
  /**
   * Rate limiting of the token route, or `false` for none (for example when a gateway does it).
   * @default { failures: {}, issuance: {} } (both on, with their defaults)
   */
  rateLimit?: false | RateLimitSettings | undefined
  /**
   * Serves `POST paths.revocation` (RFC 7009): a client revokes its own tokens, which go to
   * `store` until they expire. Omit it to serve no revocation endpoint.
   * @default undefined (no revocation endpoint)
   */
  revocation?: RevocationSettings | undefined
  /**
   * Serves `POST paths.introspection` (RFC 7662) to clients whose record has
   * `introspection: true`. Consults the revocation store when `revocation` is set.
   * @default false
   */
  introspection?: boolean | undefined
  /**
   * Rules for clients that authenticate with `private_key_jwt` (RFC 7523): the accepted
   * audience, algorithms, lifetime and clock tolerance, where used assertions are remembered,
   * and how clients' `jwks_uri` are fetched. Clients opt in through their record.
   * @default strict: `aud` must be the issuer, ES256/EdDSA/PS256/RS256, 300 s, 15 s, in memory
   */
  privateKeyJwt?: PrivateKeyJwtOptions | undefined
  /**
   * Receives audit and metrics events. Called synchronously, never awaited; a throw or a rejected
   * promise is swallowed.
   * @default undefined: `server_error` is reported on `console.error`, and outside production
   *   each refused client authentication once per client and reason, as a process warning
   *   (`CCFLOW_ISSUER_CLIENT_AUTH`)
   */
  onEvent?: ((event: IssuerEvent) => void) | undefined
  /**
   * Adds claims to each token. May be async. Reserved claims (`iss`, `sub`, `client_id`, `aud`,
   * `scope`, `iat`, `exp`, `jti`, …) are always set by the endpoint and cannot be overridden.
   * @default undefined
   */
  extraClaims?:
    | ((context: ExtraClaimsContext) => Record<string, unknown> | Promise<Record<string, unknown>>)
    | undefined
  /**
   * Milliseconds to wait for `clients.findClient` and `extraClaims`; past it the request answers
   * 503 `temporarily_unavailable` with `Retry-After` and a `server_error` event (1 to 60000).
   * @default TOKEN_ENDPOINT_DEFAULTS.hookTimeoutMs (5000)
   */
  hookTimeoutMs?: number | undefined
  /** @deprecated Use `accessTokenTtlSeconds` (same value); removed in the next major version. */
  accessTokenTtl?: number | undefined
  /** @deprecated Use `maxAccessTokenTtlSeconds` (same value); removed in the next major version. */
  maxAccessTokenTtl?: number | undefined
  /** @deprecated Use `jwksMaxAgeSeconds` (same value); removed in the next major version. */
  jwksMaxAge?: number | undefined
  /** @deprecated Use `hookTimeoutMs` (same value); removed in the next major version. */
  hookTimeout?: number | undefined
}
