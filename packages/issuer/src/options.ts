import type { Options as RateLimitOptions } from 'express-rate-limit'
import type { Client, ClientStore } from './clients/client-store.js'
import type { DenylistStore } from './revocation/denylist.js'
import type { IssuerEvent } from './events.js'
import { isPlainObject, isScopeToken, isSecureOrLoopback } from '@ccflow/core'
import { checkPepper } from './clients/secrets.js'
import {
  importSigningKeys,
  type SigningKeyInput,
  type SigningKeySet,
} from './tokens/signing-keys.js'
import { createOwnTokenChecker, type OwnTokenChecker } from './revocation/own-token-check.js'
import { DEFAULT_HOOK_TIMEOUT_MS } from './unavailable.js'

/**
 * express-rate-limit options a limiter accepts. The response (`handler`, `message`,
 * `statusCode`) and what counts as a failure (`skipSuccessfulRequests`, `requestWasSuccessful`)
 * belong to the token endpoint and cannot be replaced.
 *
 * @see https://express-rate-limit.mintlify.app/reference/configuration
 */
export type LimiterOptions = Partial<
  Pick<
    RateLimitOptions,
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
  >
>

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
   * @default { windowMs: 900_000, limit: 20, standardHeaders: 'draft-8', legacyHeaders: false, passOnStoreError: true }
   */
  failures?: LimiterOptions | false
  /**
   * Per authenticated client id, counting every token request; `false` turns it off.
   * @default { windowMs: 60_000, limit: 600, standardHeaders: 'draft-8', legacyHeaders: false, passOnStoreError: true }
   */
  issuance?: IssuanceLimiterOptions | false
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
   * `https` URL without query or fragment; `http` only for `localhost`, `127.0.0.1` and `[::1]`.
   * Mount the router at this URL's path.
   */
  issuer: string
  /** Where client records come from. */
  clients: ClientStore
  /** Signing keys: exactly one `active`; `next` and `retired` keys are published in the JWKS. */
  keys: readonly SigningKeyInput[]
  /**
   * Token lifetime in seconds when the client record sets none.
   * @default 300
   */
  accessTokenTtl?: number
  /**
   * Upper bound in seconds for any token lifetime, including a client's `access_token_ttl`.
   * At most 86400.
   * @default 3600
   */
  maxAccessTokenTtl?: number
  /**
   * The HMAC key for `hmac-sha256` secret hashes, at least 32 bytes. Must match the pepper the
   * hashes were made with.
   * @default undefined (the built-in domain-separation key)
   */
  secretPepper?: string
  /**
   * Accept an `application/json` body besides the RFC 6749 form body.
   * @default false
   */
  allowJsonBody?: boolean
  /**
   * Largest accepted request body in bytes (128 to 65536); a larger body gets 413.
   * @default 4096
   */
  bodyLimit?: number
  /**
   * The realm of the `WWW-Authenticate: Basic` challenge (visible ASCII, no `"` or `\`).
   * @default 'ccflow'
   */
  realm?: string
  /**
   * Route paths, relative to where the router is mounted.
   * @default { token: '/token', jwks: '/jwks.json', metadata: '/.well-known/oauth-authorization-server', revocation: '/revoke', introspection: '/introspect' }
   */
  paths?: {
    token?: string
    jwks?: string
    metadata?: string
    revocation?: string
    introspection?: string
  }
  /**
   * `Cache-Control: max-age` in seconds for the JWKS and the metadata document.
   * @default 300
   */
  jwksMaxAge?: number
  /**
   * `scopes_supported` for the metadata document.
   * @default undefined (omitted from the metadata)
   */
  scopesSupported?: readonly string[]
  /**
   * Rate limiting of the token route, or `false` for none (for example when a gateway does it).
   * @default { failures: {}, issuance: {} } (both on, with their defaults)
   */
  rateLimit?: false | RateLimitSettings
  /**
   * Serves `POST paths.revocation` (RFC 7009): a client revokes its own tokens, which go to
   * `store` until they expire. Omit it to serve no revocation endpoint.
   * @default undefined (no revocation endpoint)
   */
  revocation?: RevocationSettings
  /**
   * Serves `POST paths.introspection` (RFC 7662) to clients whose record has
   * `introspection: true`. Consults the revocation store when `revocation` is set.
   * @default false
   */
  introspection?: boolean
  /**
   * Receives audit and metrics events. Called synchronously, never awaited; a throw or a rejected
   * promise is swallowed.
   * @default undefined (only `server_error` is reported, on `console.error`)
   */
  onEvent?: (event: IssuerEvent) => void
  /**
   * Adds claims to each token. May be async. Reserved claims (`iss`, `sub`, `client_id`, `aud`,
   * `scope`, `iat`, `exp`, `jti`, …) are always set by the endpoint and cannot be overridden.
   * @default undefined
   */
  extraClaims?: (
    context: ExtraClaimsContext,
  ) => Record<string, unknown> | Promise<Record<string, unknown>>
  /**
   * Milliseconds to wait for `clients.findClient` and `extraClaims`; past it the request answers
   * 503 `temporarily_unavailable` with `Retry-After` and a `server_error` event.
   * @default 5000
   */
  hookTimeout?: number
}

/** The checked, frozen configuration the router is built from. @internal */
export interface TokenEndpointConfig {
  readonly issuer: string
  readonly clients: ClientStore
  readonly keySet: SigningKeySet
  readonly accessTokenTtl: number
  readonly maxAccessTokenTtl: number
  readonly secretPepper: string | undefined
  readonly allowJsonBody: boolean
  readonly bodyLimit: number
  readonly realm: string
  readonly paths: Readonly<RoutePaths>
  /** Absolute URLs of the routes, for the metadata document. */
  readonly urls: Readonly<RoutePaths>
  readonly jwksMaxAge: number
  readonly scopesSupported: readonly string[] | undefined
  readonly rateLimit: Readonly<{
    failures: Readonly<LimiterOptions> | false
    issuance: Readonly<IssuanceLimiterOptions> | false
  }>
  readonly revocation: Readonly<RevocationSettings> | undefined
  readonly introspection: boolean
  /** Checks this issuer's own tokens; built only when revocation or introspection is on. */
  readonly ownTokens: OwnTokenChecker | undefined
  readonly onEvent: ((event: IssuerEvent) => void) | undefined
  readonly extraClaims: TokenEndpointOptions['extraClaims']
  readonly hookTimeout: number
}

/** Every route path (and, in `urls`, every route URL). @internal */
export interface RoutePaths {
  token: string
  jwks: string
  metadata: string
  revocation: string
  introspection: string
}

const OPTION_KEYS: ReadonlySet<string> = new Set([
  'issuer',
  'clients',
  'keys',
  'accessTokenTtl',
  'maxAccessTokenTtl',
  'secretPepper',
  'allowJsonBody',
  'bodyLimit',
  'realm',
  'paths',
  'jwksMaxAge',
  'scopesSupported',
  'rateLimit',
  'revocation',
  'introspection',
  'onEvent',
  'extraClaims',
  'hookTimeout',
])
const PATH_KEYS: ReadonlySet<string> = new Set([
  'token',
  'jwks',
  'metadata',
  'revocation',
  'introspection',
])
const REVOCATION_KEYS: ReadonlySet<string> = new Set(['store'])
const RATE_LIMIT_KEYS: ReadonlySet<string> = new Set(['failures', 'issuance'])
const ISSUANCE_LIMITER_KEYS: ReadonlySet<string> = new Set([
  'windowMs',
  'limit',
  'standardHeaders',
  'legacyHeaders',
  'identifier',
  'retryAfter',
  'skip',
  'store',
  'validate',
  'passOnStoreError',
  'logger',
])
const FAILURE_LIMITER_KEYS: ReadonlySet<string> = new Set([
  ...ISSUANCE_LIMITER_KEYS,
  'keyGenerator',
  'ipv6Subnet',
])

// Paths are literal: no Express route syntax (':', '*', '(', '?', '+', '{'), whose meaning also
// differs between Express 4 and 5.
const PATH = /^\/(?:[A-Za-z0-9._~-]+\/?)*$/
// RFC 7235 quoted-string content, further limited to visible ASCII and space, without '"' and '\'
// so the realm can be written into the challenge as is.
/** @internal */
export const REALM: RegExp = /^[\x20\x21\x23-\x5B\x5D-\x7E]{1,64}$/
const MAX_TTL = 86_400
const MAX_WINDOW_MS = 2 ** 31 - 1
const DRAFTS: ReadonlySet<unknown> = new Set([true, false, 'draft-6', 'draft-7', 'draft-8'])

/**
 * Checks {@link TokenEndpointOptions} once, imports the signing keys and returns the frozen
 * internal configuration.
 *
 * @throws {TypeError} Naming the option, for an unknown option key or a bad value.
 * @internal
 */
export function resolveOptions(options: TokenEndpointOptions): TokenEndpointConfig {
  if (!isPlainObject(options)) {
    throw new TypeError('tokenEndpoint: options must be an object')
  }
  rejectUnknown(options, OPTION_KEYS, '')

  const issuer = checkIssuer(options.issuer)
  const clients = checkClients(options.clients)
  const keySet = checkKeys(options.keys)
  const maxAccessTokenTtl = checkInteger(
    options.maxAccessTokenTtl,
    'maxAccessTokenTtl',
    3600,
    1,
    MAX_TTL,
  )
  const accessTokenTtl = checkInteger(
    options.accessTokenTtl,
    'accessTokenTtl',
    Math.min(300, maxAccessTokenTtl),
    1,
    MAX_TTL,
  )
  if (accessTokenTtl > maxAccessTokenTtl) {
    fail('accessTokenTtl', 'must not exceed maxAccessTokenTtl')
  }
  let secretPepper: string | undefined
  try {
    secretPepper = checkPepper(options.secretPepper, 'tokenEndpoint')
  } catch {
    fail('secretPepper', 'must be a string of at least 32 bytes')
  }
  const allowJsonBody = checkBoolean(options.allowJsonBody, 'allowJsonBody', false)
  const bodyLimit = checkInteger(options.bodyLimit, 'bodyLimit', 4096, 128, 65_536)
  const realm = checkRealm(options.realm)
  const paths = checkPaths(options.paths)
  const jwksMaxAge = checkInteger(options.jwksMaxAge, 'jwksMaxAge', 300, 0, 604_800)
  const scopesSupported = checkScopesSupported(options.scopesSupported)
  const rateLimit = checkRateLimit(options.rateLimit)
  const revocation = checkRevocation(options.revocation)
  const introspection = checkBoolean(options.introspection, 'introspection', false)
  const ownTokens =
    revocation !== undefined || introspection
      ? createOwnTokenChecker(options.keys, issuer)
      : undefined
  const onEvent = checkFunction(options.onEvent, 'onEvent')
  const extraClaims = checkFunction(options.extraClaims, 'extraClaims')
  const hookTimeout = checkInteger(
    options.hookTimeout,
    'hookTimeout',
    DEFAULT_HOOK_TIMEOUT_MS,
    1,
    60_000,
  )

  // The issuer may end in '/', the paths start with one: join without doubling it.
  const base = issuer.endsWith('/') ? issuer.slice(0, -1) : issuer
  return Object.freeze({
    issuer,
    clients,
    keySet,
    accessTokenTtl,
    maxAccessTokenTtl,
    secretPepper,
    allowJsonBody,
    bodyLimit,
    realm,
    paths,
    urls: Object.freeze({
      token: base + paths.token,
      jwks: base + paths.jwks,
      metadata: base + paths.metadata,
      revocation: base + paths.revocation,
      introspection: base + paths.introspection,
    }),
    jwksMaxAge,
    scopesSupported,
    rateLimit,
    revocation,
    introspection,
    ownTokens,
    onEvent,
    extraClaims,
    hookTimeout,
  })
}

function fail(name: string, message: string): never {
  throw new TypeError(`tokenEndpoint: option "${name}" ${message}`)
}

function rejectUnknown(value: object, allowed: ReadonlySet<string>, prefix: string): void {
  for (const key of Object.keys(value)) {
    if (!allowed.has(key)) throw new TypeError(`tokenEndpoint: unknown option "${prefix}${key}"`)
  }
}

function checkIssuer(value: unknown): string {
  if (typeof value !== 'string' || value === '')
    fail('issuer', 'is required and must be a URL string')
  // The issuer is compared as a string by every verifier, so it must be exactly what the app
  // means: no whitespace or control characters that URL parsing would silently strip.
  if (/\s/.test(value) || hasControlCharacter(value)) {
    fail('issuer', 'must not contain whitespace or control characters')
  }
  let url: URL
  try {
    url = new URL(value)
  } catch {
    fail('issuer', 'must be an absolute URL')
  }
  // RFC 8414 §2: the issuer has no query or fragment component (checked on the string, since
  // URL drops an empty '?' or '#').
  if (value.includes('?') || value.includes('#'))
    fail('issuer', 'must not have a query or fragment')
  if (url.username !== '' || url.password !== '') fail('issuer', 'must not contain credentials')
  if (!isSecureOrLoopback(url)) {
    fail('issuer', 'must be an https URL (http is allowed only for localhost, 127.0.0.1 and [::1])')
  }
  return value
}

function hasControlCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i)
    if (code < 0x20 || code === 0x7f) return true
  }
  return false
}

function checkClients(value: unknown): ClientStore {
  if (
    typeof value !== 'object' ||
    value === null ||
    typeof (value as { findClient?: unknown }).findClient !== 'function'
  ) {
    fail('clients', 'is required and must be a ClientStore (an object with findClient(id))')
  }
  return value as ClientStore
}

function checkKeys(value: unknown): SigningKeySet {
  if (!Array.isArray(value) || value.length === 0) {
    fail('keys', 'is required and must be a non-empty array of signing keys')
  }
  try {
    return importSigningKeys(value as SigningKeyInput[])
  } catch (err) {
    const detail = err instanceof Error ? err.message : 'is invalid'
    throw new TypeError(`tokenEndpoint: option "keys": ${detail}`, { cause: err })
  }
}

function checkInteger(
  value: unknown,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(name, `must be an integer from ${min} to ${max}`)
  }
  return value
}

function checkBoolean(value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') fail(name, 'must be a boolean')
  return value
}

function checkFunction<F>(value: F | undefined, name: string): F | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'function') fail(name, 'must be a function')
  return value
}

function checkRealm(value: unknown): string {
  if (value === undefined) return 'ccflow'
  if (typeof value !== 'string' || !REALM.test(value)) {
    fail('realm', "must be 1-64 visible ASCII characters without '\"' or '\\'")
  }
  return value
}

function checkPaths(value: unknown): TokenEndpointConfig['paths'] {
  if (value !== undefined && !isPlainObject(value)) fail('paths', 'must be an object')
  const given = value ?? {}
  rejectUnknown(given, PATH_KEYS, 'paths.')
  const paths = {
    token: checkPath(given.token, 'paths.token', '/token'),
    jwks: checkPath(given.jwks, 'paths.jwks', '/jwks.json'),
    metadata: checkPath(
      given.metadata,
      'paths.metadata',
      '/.well-known/oauth-authorization-server',
    ),
    revocation: checkPath(given.revocation, 'paths.revocation', '/revoke'),
    introspection: checkPath(given.introspection, 'paths.introspection', '/introspect'),
  }
  const all = Object.values(paths)
  if (new Set(all).size !== all.length) {
    fail('paths', 'must give a different path to each route')
  }
  return Object.freeze(paths)
}

function checkRevocation(value: unknown): Readonly<RevocationSettings> | undefined {
  if (value === undefined) return undefined
  if (!isPlainObject(value)) fail('revocation', 'must be an object such as { store }')
  rejectUnknown(value, REVOCATION_KEYS, 'revocation.')
  const store = value.store as Partial<DenylistStore> | undefined
  if (
    typeof store !== 'object' ||
    store === null ||
    typeof store.add !== 'function' ||
    typeof store.has !== 'function'
  ) {
    fail('revocation.store', 'must be a DenylistStore (memoryDenylist() or redisDenylist(...))')
  }
  return Object.freeze({ store: store as DenylistStore })
}

function checkPath(value: unknown, name: string, fallback: string): string {
  if (value === undefined) return fallback
  if (typeof value !== 'string' || !PATH.test(value) || value === '/') {
    fail(name, 'must be a literal path such as "/token" (letters, digits, ".", "_", "~", "-", "/")')
  }
  return value
}

function checkScopesSupported(value: unknown): readonly string[] | undefined {
  if (value === undefined) return undefined
  if (!Array.isArray(value) || !value.every(isScopeToken)) {
    fail('scopesSupported', 'must be an array of RFC 6749 scope tokens')
  }
  return Object.freeze([...new Set(value)])
}

function checkRateLimit(value: unknown): TokenEndpointConfig['rateLimit'] {
  if (value === false) return Object.freeze({ failures: false, issuance: false })
  if (value !== undefined && !isPlainObject(value)) {
    fail('rateLimit', 'must be an object or false')
  }
  const given = value ?? {}
  rejectUnknown(given, RATE_LIMIT_KEYS, 'rateLimit.')
  const failures = checkLimiter(given.failures, 'rateLimit.failures', FAILURE_LIMITER_KEYS)
  const issuance = checkLimiter(given.issuance, 'rateLimit.issuance', ISSUANCE_LIMITER_KEYS)
  if (
    failures !== false &&
    issuance !== false &&
    failures.store !== undefined &&
    failures.store === issuance.store
  ) {
    // Both limiters would count into the same keys; express-rate-limit also refuses this.
    fail('rateLimit', 'needs a separate store for each limiter')
  }
  return Object.freeze({ failures, issuance })
}

function checkLimiter(
  value: unknown,
  name: string,
  allowed: ReadonlySet<string>,
): Readonly<LimiterOptions> | false {
  if (value === false) return false
  if (value === undefined) return Object.freeze({})
  if (!isPlainObject(value)) fail(name, 'must be an object or false')
  rejectUnknown(value, allowed, `${name}.`)
  const v = value as LimiterOptions
  if (v.windowMs !== undefined && !isIntegerIn(v.windowMs, 1000, MAX_WINDOW_MS)) {
    fail(`${name}.windowMs`, `must be an integer from 1000 to ${MAX_WINDOW_MS}`)
  }
  if (v.limit !== undefined && typeof v.limit !== 'function' && !isIntegerIn(v.limit, 1, 1e9)) {
    fail(`${name}.limit`, 'must be a positive integer or a function')
  }
  if (v.standardHeaders !== undefined && !DRAFTS.has(v.standardHeaders)) {
    fail(`${name}.standardHeaders`, "must be a boolean, 'draft-6', 'draft-7' or 'draft-8'")
  }
  for (const key of ['legacyHeaders', 'passOnStoreError'] as const) {
    if (v[key] !== undefined && typeof v[key] !== 'boolean')
      fail(`${name}.${key}`, 'must be a boolean')
  }
  for (const key of ['keyGenerator', 'skip'] as const) {
    if (v[key] !== undefined && typeof v[key] !== 'function')
      fail(`${name}.${key}`, 'must be a function')
  }
  if (v.store !== undefined && !isStore(v.store)) {
    fail(`${name}.store`, 'must be an express-rate-limit Store')
  }
  return Object.freeze({ ...v })
}

function isStore(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false
  const store = value as { increment?: unknown; incr?: unknown }
  // express-rate-limit 8 still accepts the legacy callback store (`incr`).
  return typeof store.increment === 'function' || typeof store.incr === 'function'
}

function isIntegerIn(value: unknown, min: number, max: number): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max
}
