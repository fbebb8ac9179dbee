import { defineAliases, type NumberRange, type OptionAliases, type OptionTable } from '@ccflow/core'
import { DEFAULT_HOOK_TIMEOUT_MS } from '../unavailable.js'
import type {
  IssuanceLimiterOptions,
  LimiterOptions,
  RateLimitSettings,
  RevocationSettings,
  TokenEndpointOptions,
} from './types.js'

// What tokenEndpoint accepts and what it assumes when an option is left out. The tables are
// checked against the option types (`satisfies OptionTable<…>`): an option added to a type but
// not here fails to compile, instead of being refused as unknown at run time.

/** The defaults of {@link TokenEndpointOptions}, one place for the code and the docs. */
export const TOKEN_ENDPOINT_DEFAULTS: Readonly<{
  accessTokenTtlSeconds: number
  maxAccessTokenTtlSeconds: number
  allowJsonBody: boolean
  bodyLimit: number
  realm: string
  paths: Readonly<{
    token: string
    jwks: string
    metadata: string
    revocation: string
    introspection: string
  }>
  jwksMaxAgeSeconds: number
  introspection: boolean
  hookTimeoutMs: number
}> = Object.freeze({
  accessTokenTtlSeconds: 300,
  maxAccessTokenTtlSeconds: 3600,
  allowJsonBody: false,
  bodyLimit: 4096,
  realm: 'ccflow',
  paths: Object.freeze({
    token: '/token',
    jwks: '/jwks.json',
    metadata: '/.well-known/oauth-authorization-server',
    revocation: '/revoke',
    introspection: '/introspect',
  }),
  jwksMaxAgeSeconds: 300,
  introspection: false,
  hookTimeoutMs: DEFAULT_HOOK_TIMEOUT_MS,
})

/** Every option name of {@link TokenEndpointOptions}. @internal */
export const TOKEN_ENDPOINT_OPTIONS: OptionTable<TokenEndpointOptions> = {
  issuer: true,
  clients: true,
  keys: true,
  accessTokenTtlSeconds: true,
  maxAccessTokenTtlSeconds: true,
  secretPepper: true,
  allowJsonBody: true,
  bodyLimit: true,
  realm: true,
  paths: true,
  jwksMaxAgeSeconds: true,
  scopesSupported: true,
  rateLimit: true,
  revocation: true,
  introspection: true,
  privateKeyJwt: true,
  onEvent: true,
  extraClaims: true,
  hookTimeoutMs: true,
  accessTokenTtl: true,
  maxAccessTokenTtl: true,
  jwksMaxAge: true,
  hookTimeout: true,
} satisfies OptionTable<TokenEndpointOptions>

/** Deprecated option names of {@link TokenEndpointOptions} and their replacements. @internal */
export const TOKEN_ENDPOINT_ALIASES: OptionAliases = defineAliases<TokenEndpointOptions>({
  accessTokenTtl: 'accessTokenTtlSeconds',
  maxAccessTokenTtl: 'maxAccessTokenTtlSeconds',
  jwksMaxAge: 'jwksMaxAgeSeconds',
  hookTimeout: 'hookTimeoutMs',
})

/** @internal */
export const PATHS_OPTIONS: OptionTable<NonNullable<TokenEndpointOptions['paths']>> = {
  token: true,
  jwks: true,
  metadata: true,
  revocation: true,
  introspection: true,
} satisfies OptionTable<NonNullable<TokenEndpointOptions['paths']>>

/** @internal */
export const REVOCATION_OPTIONS: OptionTable<RevocationSettings> = {
  store: true,
} satisfies OptionTable<RevocationSettings>

/** @internal */
export const RATE_LIMIT_OPTIONS: OptionTable<RateLimitSettings> = {
  failures: true,
  issuance: true,
} satisfies OptionTable<RateLimitSettings>

/** @internal */
export const ISSUANCE_LIMITER_OPTIONS: OptionTable<IssuanceLimiterOptions> = {
  windowMs: true,
  limit: true,
  standardHeaders: true,
  legacyHeaders: true,
  identifier: true,
  retryAfter: true,
  skip: true,
  store: true,
  validate: true,
  passOnStoreError: true,
  logger: true,
} satisfies OptionTable<IssuanceLimiterOptions>

/** @internal */
export const FAILURE_LIMITER_OPTIONS: OptionTable<LimiterOptions> = {
  ...ISSUANCE_LIMITER_OPTIONS,
  keyGenerator: true,
  ipv6Subnet: true,
} satisfies OptionTable<LimiterOptions>

/** Longest token lifetime any option or client record may ask for, in seconds. @internal */
export const MAX_TTL_SECONDS = 86_400

/** Range of every hook timeout (`hookTimeoutMs` of the endpoint and of the strategies). @internal */
export const HOOK_TIMEOUT_RANGE: NumberRange = { min: 1, max: 60_000 }

// RFC 7235 quoted-string content, further limited to visible ASCII and space, without '"' and '\'
// so the realm can be written into the challenge as is.
/** @internal */
const REALM: RegExp = /^[\x20\x21\x23-\x5B\x5D-\x7E]{1,64}$/

/** The `realm` rule, for checkString. @internal */
export const REALM_RULE: { test: (value: string) => boolean; expected: string } = {
  test: (value) => REALM.test(value),
  expected: "1-64 visible ASCII characters without '\"' or '\\'",
}
