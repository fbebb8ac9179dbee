import {
  type PrivateKeyJwtConfig,
  resolvePrivateKeyJwtOptions,
} from '../clients/assertion/assertion-options.js'
import {
  checkBoolean,
  checkFunction,
  checkInteger,
  checkKnownKeys,
  checkObject,
  checkOneOf,
  checkString,
  isScopeToken,
  isSecureOrLoopback,
  optionError,
  type OptionPath,
  renameDeprecated,
} from '@ccflow/core'
import type { ClientStore } from '../clients/client-store.js'
import type { DenylistStore } from '../revocation/denylist.js'
import { createEmitter, type IssuerEvent } from '../events.js'
import { checkPepperOption } from '../clients/secrets.js'
import {
  importSigningKeys,
  signingKeyList,
  type SigningKeyInput,
  type SigningKeySet,
} from '../tokens/signing-keys.js'
import { createOwnTokenChecker, type OwnTokenChecker } from '../revocation/own-token-check.js'
import {
  FAILURE_LIMITER_OPTIONS,
  HOOK_TIMEOUT_RANGE,
  ISSUANCE_LIMITER_OPTIONS,
  MAX_TTL_SECONDS,
  PATHS_OPTIONS,
  RATE_LIMIT_OPTIONS,
  REALM_RULE,
  REVOCATION_OPTIONS,
  TOKEN_ENDPOINT_ALIASES,
  TOKEN_ENDPOINT_DEFAULTS,
  TOKEN_ENDPOINT_OPTIONS,
} from './defaults.js'
import type { Options as RateLimitOptions } from 'express-rate-limit'
import type { LimiterOptions, RevocationSettings, TokenEndpointOptions } from './types.js'

/** The limiter options that were given a value (none is `undefined`). */
type GivenLimiterOptions = Partial<Pick<RateLimitOptions, keyof LimiterOptions>>

/** The checked, frozen configuration the router is built from. @internal */
export interface TokenEndpointConfig {
  readonly issuer: string
  readonly clients: ClientStore
  readonly keySet: SigningKeySet
  readonly accessTokenTtlSeconds: number
  readonly maxAccessTokenTtlSeconds: number
  readonly secretPepper: string | undefined
  readonly allowJsonBody: boolean
  readonly bodyLimit: number
  readonly realm: string
  readonly paths: Readonly<RoutePaths>
  /** Absolute URLs of the routes, for the metadata document. */
  readonly urls: Readonly<RoutePaths>
  readonly jwksMaxAgeSeconds: number
  readonly scopesSupported: readonly string[] | undefined
  readonly rateLimit: Readonly<{
    failures: Readonly<GivenLimiterOptions> | false
    issuance: Readonly<Omit<GivenLimiterOptions, 'keyGenerator' | 'ipv6Subnet'>> | false
  }>
  readonly revocation: Readonly<RevocationSettings> | undefined
  readonly introspection: boolean
  readonly privateKeyJwt: PrivateKeyJwtConfig
  /** Checks this issuer's own tokens; built only when revocation or introspection is on. */
  readonly ownTokens: OwnTokenChecker | undefined
  readonly onEvent: ((event: IssuerEvent) => void) | undefined
  readonly extraClaims: TokenEndpointOptions['extraClaims']
  readonly hookTimeoutMs: number
}

/** Every route path (and, in `urls`, every route URL). @internal */
export interface RoutePaths {
  token: string
  jwks: string
  metadata: string
  revocation: string
  introspection: string
}

// Paths are literal: no Express route syntax (':', '*', '(', '?', '+', '{'), whose meaning also
// differs between Express 4 and 5.
const PATH = /^\/(?:[A-Za-z0-9._~-]+\/?)*$/
const MAX_WINDOW_MS = 2 ** 31 - 1
const DRAFTS = [true, false, 'draft-6', 'draft-7', 'draft-8'] as const
const WHERE = 'tokenEndpoint'

function at(path: string): OptionPath {
  return { where: WHERE, path }
}

/**
 * Checks {@link TokenEndpointOptions} once, imports the signing keys and returns the frozen
 * internal configuration.
 *
 * @throws {TypeError} Naming the option, for an unknown option key or a bad value.
 * @internal
 */
export function resolveOptions(input: TokenEndpointOptions): TokenEndpointConfig {
  checkObject(input, WHERE)
  checkKnownKeys(input, TOKEN_ENDPOINT_OPTIONS, WHERE, '', { hidden: TOKEN_ENDPOINT_ALIASES })
  const options = renameDeprecated(input, TOKEN_ENDPOINT_ALIASES, WHERE)
  const d = TOKEN_ENDPOINT_DEFAULTS

  const issuer = checkIssuer(options.issuer)
  const clients = checkClients(options.clients)
  const keyList = checkKeyList(options.keys)
  const keySet = checkKeys(keyList)
  const ttl = { min: 1, max: MAX_TTL_SECONDS }
  const maxAccessTokenTtlSeconds = checkInteger(
    options.maxAccessTokenTtlSeconds,
    at('maxAccessTokenTtlSeconds'),
    ttl,
    d.maxAccessTokenTtlSeconds,
  )
  const accessTokenTtlSeconds = checkInteger(
    options.accessTokenTtlSeconds,
    at('accessTokenTtlSeconds'),
    ttl,
    Math.min(d.accessTokenTtlSeconds, maxAccessTokenTtlSeconds),
  )
  if (accessTokenTtlSeconds > maxAccessTokenTtlSeconds) {
    throw optionError(WHERE, 'accessTokenTtlSeconds', 'must not exceed "maxAccessTokenTtlSeconds"')
  }
  const secretPepper = checkPepperOption(options.secretPepper, WHERE)
  const allowJsonBody = checkBoolean(options.allowJsonBody, at('allowJsonBody'), d.allowJsonBody)
  const bodyLimit = checkInteger(
    options.bodyLimit,
    at('bodyLimit'),
    { min: 128, max: 65_536 },
    d.bodyLimit,
  )
  const realm = checkString(options.realm, at('realm'), d.realm, REALM_RULE)
  const paths = checkPaths(options.paths)
  const jwksMaxAgeSeconds = checkInteger(
    options.jwksMaxAgeSeconds,
    at('jwksMaxAgeSeconds'),
    { min: 0, max: 604_800 },
    d.jwksMaxAgeSeconds,
  )
  const scopesSupported = checkScopesSupported(options.scopesSupported)
  const rateLimit = checkRateLimit(options.rateLimit)
  const revocation = checkRevocation(options.revocation)
  const introspection = checkBoolean(options.introspection, at('introspection'), d.introspection)
  const ownTokens =
    revocation !== undefined || introspection ? createOwnTokenChecker(keyList, issuer) : undefined
  const onEvent = checkFunction(options.onEvent, at('onEvent'))
  const emit = createEmitter(onEvent)
  const privateKeyJwt = resolvePrivateKeyJwtOptions(
    options.privateKeyJwt,
    WHERE,
    ({ jwksUri, ...detail }) => {
      emit({ type: 'client_jwks', jwksUri, detail })
    },
  )
  const extraClaims = checkFunction(options.extraClaims, at('extraClaims'))
  const hookTimeoutMs = checkInteger(
    options.hookTimeoutMs,
    at('hookTimeoutMs'),
    HOOK_TIMEOUT_RANGE,
    d.hookTimeoutMs,
  )

  // The issuer never ends in '/' (checkIssuer) and the paths start with one.
  const base = issuer
  return Object.freeze({
    issuer,
    clients,
    keySet,
    accessTokenTtlSeconds,
    maxAccessTokenTtlSeconds,
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
    jwksMaxAgeSeconds,
    scopesSupported,
    rateLimit,
    revocation,
    introspection,
    privateKeyJwt,
    ownTokens,
    onEvent,
    extraClaims,
    hookTimeoutMs,
  })
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
  // Refused rather than normalised: guards and clients compare `iss` (and assertion `aud`) with
  // the issuer character for character (RFC 8414 §3.3, RFC 9068 §4), and they are configured
  // with the string the operator wrote. Normalising here would make the tokens differ from it;
  // refusing makes one spelling, without the slash, the one every side uses.
  if (value.endsWith('/')) {
    fail(
      'issuer',
      `must not end with "/": every guard compares it character for character; use ${JSON.stringify(value.replace(/\/+$/, ''))} here and in the guards`,
    )
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

function checkKeyList(value: unknown): readonly SigningKeyInput[] {
  if (value === undefined) {
    fail('keys', 'is required: a non-empty array of signing keys or a JWK Set { "keys": [...] }')
  }
  return signingKeyList(value, (problem) =>
    optionError(WHERE, 'keys', problem),
  ) as readonly SigningKeyInput[]
}

function checkKeys(value: readonly SigningKeyInput[]): SigningKeySet {
  try {
    return importSigningKeys(value)
  } catch (err) {
    const detail = err instanceof Error ? err.message : 'is invalid'
    throw new TypeError(`tokenEndpoint: option "keys": ${detail}`, { cause: err })
  }
}

function checkPaths(value: unknown): TokenEndpointConfig['paths'] {
  const given = value === undefined ? {} : checkObject(value, WHERE, 'paths')
  checkKnownKeys(given, PATHS_OPTIONS, WHERE, 'paths.')
  const d = TOKEN_ENDPOINT_DEFAULTS.paths
  const paths = {
    token: checkPath(given.token, 'token', d.token),
    jwks: checkPath(given.jwks, 'jwks', d.jwks),
    metadata: checkPath(given.metadata, 'metadata', d.metadata),
    revocation: checkPath(given.revocation, 'revocation', d.revocation),
    introspection: checkPath(given.introspection, 'introspection', d.introspection),
  }
  const all = Object.values(paths)
  if (new Set(all).size !== all.length) {
    fail('paths', 'must give a different path to each route')
  }
  return Object.freeze(paths)
}

function checkRevocation(value: unknown): Readonly<RevocationSettings> | undefined {
  if (value === undefined) return undefined
  const settings = checkObject(value, WHERE, 'revocation', 'an object such as { store }')
  checkKnownKeys(settings, REVOCATION_OPTIONS, WHERE, 'revocation.')
  const store = settings.store as Partial<DenylistStore> | undefined
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
  return checkString(value, at(`paths.${name}`), fallback, {
    test: (path) => PATH.test(path) && path !== '/',
    expected: 'a literal path such as "/token" (letters, digits, ".", "_", "~", "-", "/")',
  })
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
  const given =
    value === undefined ? {} : checkObject(value, WHERE, 'rateLimit', 'an object or false')
  checkKnownKeys(given, RATE_LIMIT_OPTIONS, WHERE, 'rateLimit.')
  const failures = checkLimiter(given.failures, 'rateLimit.failures', FAILURE_LIMITER_OPTIONS)
  const issuance = checkLimiter(given.issuance, 'rateLimit.issuance', ISSUANCE_LIMITER_OPTIONS)
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
  table: Readonly<Record<string, true>>,
): Readonly<GivenLimiterOptions> | false {
  if (value === false) return false
  if (value === undefined) return Object.freeze({})
  const v: LimiterOptions = checkObject(value, WHERE, name, 'an object or false')
  checkKnownKeys(v, table, WHERE, `${name}.`)
  checkInteger(v.windowMs, at(`${name}.windowMs`), { min: 1000, max: MAX_WINDOW_MS }, undefined)
  if (typeof v.limit !== 'function') {
    checkInteger(v.limit, at(`${name}.limit`), { min: 1, max: 1e9 }, undefined)
  }
  checkOneOf(v.standardHeaders, at(`${name}.standardHeaders`), DRAFTS, undefined)
  for (const key of ['legacyHeaders', 'passOnStoreError'] as const) {
    checkBoolean(v[key], at(`${name}.${key}`), false)
  }
  for (const key of ['keyGenerator', 'skip'] as const) {
    checkFunction(v[key], at(`${name}.${key}`))
  }
  if (v.store !== undefined && !isStore(v.store)) {
    fail(`${name}.store`, 'must be an express-rate-limit Store')
  }
  // An option set to undefined is not given: spread over the limiter's defaults, it would
  // replace them (and express-rate-limit would fall back to its own, such as a limit of 5).
  const given = Object.entries(v).filter(([, option]) => option !== undefined)
  return Object.freeze(Object.fromEntries(given) as GivenLimiterOptions)
}

function isStore(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false
  const store = value as { increment?: unknown; incr?: unknown }
  // express-rate-limit 8 still accepts the legacy callback store (`incr`).
  return typeof store.increment === 'function' || typeof store.incr === 'function'
}

function fail(path: string, problem: string): never {
  throw optionError(WHERE, path, problem)
}
