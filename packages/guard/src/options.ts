import { ASYMMETRIC_ALGORITHMS, isObjectRecord, VERIFIABLE_ALGORITHMS } from '@ccflow/core'
import { normalizeType } from './verify/decode.js'
import type { HeaderPolicy } from './verify/decode.js'
import { importStaticKeys } from './keys/static-keys.js'
import type { StaticKey } from './keys/static-keys.js'
import { DEFAULT_CACHE_MAX } from './verify/token-cache.js'
import type { AccessTokenClaims, RemoteKeySetOptions, StaticKeyInput } from './types.js'

export type { RemoteKeySetOptions } from './types.js'

/**
 * Options of {@link createTokenVerifier}: what a token must look like and where the keys come
 * from. Exactly one key source is required: `keys`, `jwksUri` or `discover: true`.
 *
 * @typeParam C - the claims type handed to `isRevoked`.
 */
export interface TokenVerifierOptions<C = AccessTokenClaims> {
  /** Accepted `iss` value(s), compared exactly. Required. */
  issuer: string | readonly string[]
  /** Accepted `aud` value(s); a token passes when any of its audiences is one of them. Required. */
  audience: string | readonly string[]
  /**
   * Static verification keys: PEM, JWK, `KeyObject`, `{ key, kid?, alg? }` or
   * `{ secret, kid?, alg? }` (HMAC, at least 32 bytes). RSA keys need at least 2048 bits.
   */
  keys?: readonly StaticKeyInput[]
  /** URL of the issuer's JWKS (https; http only for localhost). */
  jwksUri?: string
  /**
   * Find the JWKS through the issuer's RFC 8414 metadata (then OpenID discovery); the metadata's
   * `issuer` must equal `issuer`.
   * @default false
   */
  discover?: boolean
  /** Tuning of the remote key set (only with `jwksUri` or `discover`). */
  jwks?: RemoteKeySetOptions
  /**
   * Accepted signature algorithms; `none` is never accepted.
   * @default derived from the keys (RSA → RS*, PS*; EC → ES*; secret → HS*), or every asymmetric
   * algorithm for a remote key set
   */
  algorithms?: readonly string[]
  /**
   * Leeway in seconds for `exp`, `nbf`, `iat` and `maxTokenAge`.
   * @default 5
   */
  clockTolerance?: number
  /** Reject tokens whose `iat` is older than this many seconds (then `iat` is required). */
  maxTokenAge?: number
  /**
   * Accepted `typ` header values, compared as media types (case-insensitive, `application/`
   * optional). `'any'` skips the check, for issuers that send no `typ`.
   * @default ['at+jwt', 'application/at+jwt']
   */
  allowedTypes?: readonly string[] | 'any'
  /**
   * Longest token accepted, in characters; longer ones are rejected before any parsing.
   * @default 8192
   */
  maxTokenLength?: number
  /**
   * Realm of the `WWW-Authenticate` challenge.
   * @default 'api'
   */
  realm?: string
  /**
   * Claims that hold scopes: a space-delimited string or an array of strings (`scope` itself
   * only as a string, as RFC 9068 defines it).
   * @default ['scope', 'scp']
   */
  scopeClaims?: readonly string[]
  /**
   * The verified-token cache: `false` turns it off.
   * @default { max: 1000 }
   */
  cache?: false | { max?: number }
  /**
   * Called on every request (cached or not) with the verified claims; `true` rejects the token
   * (401 `revoked`). A throw or rejection answers 503: the guard fails closed.
   */
  isRevoked?: (claims: C) => boolean | Promise<boolean>
  /**
   * Milliseconds to wait for an asynchronous `isRevoked`; past it the answer is 503 (fails
   * closed), so a store that never answers cannot hang requests.
   * @default 2000
   */
  revocationTimeout?: number
}

/**
 * Options of {@link requireToken}: the verifier's options plus where tokens may be sent and how
 * errors are reported.
 */
export interface RequireTokenOptions<C = AccessTokenClaims> extends TokenVerifierOptions<C> {
  /**
   * Extra token locations (RFC 6750 §2.2 form body, §2.3 query). Both are off: a token sent
   * there is answered 400.
   * @default { body: false, query: false }
   */
  tokenLocations?: { body?: boolean; query?: boolean }
  /**
   * Let requests without any token through with `req.auth` undefined. A token that is sent is
   * still verified and rejected when invalid.
   * @default false
   */
  credentialsOptional?: boolean
  /**
   * Pass errors to `next(err)` as {@link BearerError}s instead of answering.
   * @default false
   */
  passErrors?: boolean
}

/** Where the keys come from once options are resolved. */
export type KeySource =
  | { type: 'static'; keys: readonly StaticKey[] }
  | {
      type: 'remote'
      jwksUri: string | undefined
      discover: boolean
      issuer: string
      options: RemoteKeySetOptions
    }

/** The verifier's options, checked and with defaults applied. */
export interface VerifierConfig {
  issuer: string | [string, ...string[]]
  issuers: ReadonlySet<string>
  audience: string | [string, ...string[]]
  audiences: ReadonlySet<string>
  keySource: KeySource
  algorithms: [string, ...string[]]
  headerPolicy: HeaderPolicy
  clockTolerance: number
  maxTokenAge: number | undefined
  maxTokenLength: number
  realm: string
  scopeClaims: readonly string[]
  cacheMax: number
  isRevoked: ((claims: AccessTokenClaims) => boolean | Promise<boolean>) | undefined
  revocationTimeout: number
}

/** The transport options of {@link requireToken}, resolved. */
export interface TransportConfig {
  body: boolean
  query: boolean
  credentialsOptional: boolean
  passErrors: boolean
}

/** Option names every verifier entry point accepts. @internal */
export const VERIFIER_KEYS: ReadonlySet<string> = new Set([
  'issuer',
  'audience',
  'keys',
  'jwksUri',
  'discover',
  'jwks',
  'algorithms',
  'clockTolerance',
  'maxTokenAge',
  'allowedTypes',
  'maxTokenLength',
  'realm',
  'scopeClaims',
  'cache',
  'isRevoked',
  'revocationTimeout',
])
const TRANSPORT_KEYS: ReadonlySet<string> = new Set([
  'tokenLocations',
  'credentialsOptional',
  'passErrors',
])

/** Defaults, exported for the docs and tests. */
export const DEFAULTS: {
  readonly clockTolerance: 5
  readonly maxTokenLength: 8192
  readonly realm: 'api'
  readonly allowedTypes: readonly ['at+jwt', 'application/at+jwt']
  readonly scopeClaims: readonly ['scope', 'scp']
} = {
  clockTolerance: 5,
  maxTokenLength: 8192,
  realm: 'api',
  allowedTypes: ['at+jwt', 'application/at+jwt'],
  scopeClaims: ['scope', 'scp'],
}

const JWKS_TUNING_KEYS: ReadonlySet<string> = new Set([
  'timeout',
  'cacheMaxAge',
  'cooldown',
  'staleFor',
  'maxResponseBytes',
])

function stringList(value: unknown, name: string): [string, ...string[]] {
  const list: unknown[] = typeof value === 'string' ? [value] : Array.isArray(value) ? value : []
  if (list.length === 0) {
    throw new TypeError(`options.${name} is required: a non-empty string or array of strings`)
  }
  for (const item of list) {
    if (typeof item !== 'string' || item === '') {
      throw new TypeError(`options.${name} must hold only non-empty strings`)
    }
  }
  return [...list] as [string, ...string[]]
}

function optionalBoolean(value: unknown, name: string): boolean {
  if (value === undefined) return false
  if (typeof value !== 'boolean') throw new TypeError(`options.${name} must be a boolean`)
  return value
}

function number(
  value: unknown,
  name: string,
  fallback: number,
  check: (n: number) => boolean,
  rule: string,
): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || !check(value)) {
    throw new TypeError(`options.${name} must be ${rule}`)
  }
  return value
}

function checkKnownKeys(options: Record<string, unknown>, allowed: ReadonlySet<string>): void {
  for (const key of Object.keys(options)) {
    if (allowed.has(key)) continue
    const hint = TRANSPORT_KEYS.has(key) ? ' (it is an option of requireToken)' : ''
    throw new TypeError(`Unknown option "${key}"${hint}`)
  }
}

function resolveKeySource(options: Record<string, unknown>, issuers: readonly string[]): KeySource {
  const discover = optionalBoolean(options.discover, 'discover')
  const sources = [options.keys !== undefined, options.jwksUri !== undefined, discover].filter(
    Boolean,
  ).length
  if (sources === 0) {
    throw new TypeError('One key source is required: options.keys, options.jwksUri or discover')
  }
  if (sources > 1) {
    throw new TypeError('Only one key source is allowed: options.keys, options.jwksUri or discover')
  }
  if (options.keys !== undefined) {
    if (options.jwks !== undefined) {
      throw new TypeError('options.jwks applies only with options.jwksUri or discover')
    }
    return { type: 'static', keys: importStaticKeys(options.keys as readonly StaticKeyInput[]) }
  }
  if (options.jwks !== undefined && !isObjectRecord(options.jwks)) {
    throw new TypeError('options.jwks must be an object')
  }
  // Only the tuning knobs: the source itself (jwksUri, discover, issuer) is set above, never here.
  for (const key of Object.keys(options.jwks ?? {})) {
    if (!JWKS_TUNING_KEYS.has(key)) throw new TypeError(`options.jwks: unknown option "${key}"`)
  }
  // The URL itself is checked by createRemoteKeySet (https, or http for localhost only).
  if (discover && issuers.length !== 1) {
    throw new TypeError('options.discover needs exactly one options.issuer')
  }
  return {
    type: 'remote',
    jwksUri: options.jwksUri as string | undefined,
    discover,
    issuer: issuers[0] as string,
    options: options.jwks ?? {},
  }
}

function resolveAlgorithms(value: unknown, keySource: KeySource): [string, ...string[]] {
  const available =
    keySource.type === 'static'
      ? new Set(keySource.keys.flatMap((key) => [...key.algorithms]))
      : new Set(ASYMMETRIC_ALGORITHMS)
  if (value === undefined) return [...available] as [string, ...string[]]
  if (!Array.isArray(value) || value.length === 0) {
    throw new TypeError('options.algorithms must be a non-empty array')
  }
  for (const alg of value as unknown[]) {
    if (typeof alg !== 'string' || !VERIFIABLE_ALGORITHMS.has(alg)) {
      throw new TypeError(
        `options.algorithms: ${typeof alg === 'string' && alg.toLowerCase() === 'none' ? '"none" is never accepted' : 'unsupported algorithm'}; use ${[...VERIFIABLE_ALGORITHMS].join(', ')}`,
      )
    }
    if (!available.has(alg)) {
      throw new TypeError(
        keySource.type === 'static'
          ? `options.algorithms: ${alg} cannot be verified by any of options.keys`
          : `options.algorithms: ${alg} cannot be used with a remote key set`,
      )
    }
  }
  return [...new Set(value as string[])] as [string, ...string[]]
}

function resolveTypes(value: unknown): ReadonlySet<string> | undefined {
  if (value === 'any') return undefined
  const list = value === undefined ? DEFAULTS.allowedTypes : value
  if (!Array.isArray(list) || list.length === 0) {
    throw new TypeError("options.allowedTypes must be a non-empty array of strings or 'any'")
  }
  return new Set(
    (list as unknown[]).map((typ) => {
      if (typeof typ !== 'string' || typ === '') {
        throw new TypeError('options.allowedTypes must hold only non-empty strings')
      }
      return normalizeType(typ)
    }),
  )
}

function resolveRealm(value: unknown): string {
  if (value === undefined) return DEFAULTS.realm
  if (typeof value !== 'string' || !/^[\x20-\x7e]*$/.test(value)) {
    throw new TypeError('options.realm must be a string of printable ASCII characters')
  }
  return value
}

function resolveCache(value: unknown): number {
  if (value === undefined) return DEFAULT_CACHE_MAX
  if (value === false) return 0
  if (!isObjectRecord(value)) throw new TypeError('options.cache must be false or { max }')
  for (const key of Object.keys(value)) {
    if (key !== 'max') throw new TypeError(`Unknown option "cache.${key}"`)
  }
  return number(
    value.max,
    'cache.max',
    DEFAULT_CACHE_MAX,
    (n) => Number.isInteger(n) && n > 0,
    'a positive integer',
  )
}

/**
 * Checks the verifier's options once, at setup, and applies the defaults.
 *
 * @throws {TypeError} naming the first bad or unknown option.
 */
export function resolveVerifierOptions(
  input: unknown,
  allowed: ReadonlySet<string> = VERIFIER_KEYS,
): VerifierConfig {
  if (!isObjectRecord(input)) throw new TypeError('options must be an object')
  checkKnownKeys(input, allowed)
  const issuer = stringList(input.issuer, 'issuer')
  const audience = stringList(input.audience, 'audience')
  const keySource = resolveKeySource(input, issuer)
  const algorithms = resolveAlgorithms(input.algorithms, keySource)
  const scopeClaims = input.scopeClaims === undefined ? DEFAULTS.scopeClaims : input.scopeClaims
  if (
    !Array.isArray(scopeClaims) ||
    scopeClaims.length === 0 ||
    !(scopeClaims as unknown[]).every((claim) => typeof claim === 'string' && claim !== '')
  ) {
    throw new TypeError('options.scopeClaims must be a non-empty array of claim names')
  }
  if (input.isRevoked !== undefined && typeof input.isRevoked !== 'function') {
    throw new TypeError('options.isRevoked must be a function')
  }
  return {
    issuer: issuer.length === 1 ? issuer[0] : issuer,
    issuers: new Set(issuer),
    audience: audience.length === 1 ? audience[0] : audience,
    audiences: new Set(audience),
    keySource,
    algorithms,
    headerPolicy: { algorithms: new Set(algorithms), types: resolveTypes(input.allowedTypes) },
    clockTolerance: number(
      input.clockTolerance,
      'clockTolerance',
      DEFAULTS.clockTolerance,
      (n) => n >= 0,
      'a number of seconds ≥ 0',
    ),
    maxTokenAge:
      input.maxTokenAge === undefined
        ? undefined
        : number(input.maxTokenAge, 'maxTokenAge', 0, (n) => n > 0, 'a number of seconds > 0'),
    maxTokenLength: number(
      input.maxTokenLength,
      'maxTokenLength',
      DEFAULTS.maxTokenLength,
      (n) => Number.isInteger(n) && n > 0,
      'a positive integer',
    ),
    realm: resolveRealm(input.realm),
    scopeClaims: [...(scopeClaims as string[])],
    cacheMax: resolveCache(input.cache),
    isRevoked: input.isRevoked as VerifierConfig['isRevoked'],
    revocationTimeout: number(
      input.revocationTimeout,
      'revocationTimeout',
      2000,
      (n) => Number.isInteger(n) && n >= 1 && n <= 60_000,
      'an integer number of milliseconds from 1 to 60000',
    ),
  }
}

/** Every option key {@link requireToken} accepts. */
export const REQUIRE_TOKEN_KEYS: ReadonlySet<string> = new Set([
  ...VERIFIER_KEYS,
  ...TRANSPORT_KEYS,
])

/**
 * Checks the transport options of {@link requireToken}.
 *
 * @throws {TypeError} naming the first bad option.
 */
export function resolveTransportOptions(input: Record<string, unknown>): TransportConfig {
  const locations = input.tokenLocations
  if (locations !== undefined) {
    if (!isObjectRecord(locations)) throw new TypeError('options.tokenLocations must be an object')
    for (const key of Object.keys(locations)) {
      if (key !== 'body' && key !== 'query') {
        throw new TypeError(`Unknown option "tokenLocations.${key}"`)
      }
    }
  }
  const record: Record<string, unknown> = locations ?? {}
  return {
    body: optionalBoolean(record.body, 'tokenLocations.body'),
    query: optionalBoolean(record.query, 'tokenLocations.query'),
    credentialsOptional: optionalBoolean(input.credentialsOptional, 'credentialsOptional'),
    passErrors: optionalBoolean(input.passErrors, 'passErrors'),
  }
}
