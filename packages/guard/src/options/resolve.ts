import {
  defineAliases,
  ASYMMETRIC_ALGORITHMS,
  checkBoolean,
  checkFunction,
  checkInteger,
  checkKnownKeys,
  checkNumber,
  checkObject,
  checkString,
  isScopeToken,
  type JwsHeaderPolicy,
  normalizeType,
  optionError,
  type OptionAliases,
  type OptionPath,
  type OptionTable,
  REMOTE_KEY_SET_ALIASES,
  REMOTE_KEY_SET_OPTIONS,
  renameDeprecated,
  VERIFIABLE_ALGORITHMS,
  warnOnce,
} from '@ccflow/core'
import { importStaticKeys, isPrivateKeyInput } from '../keys/static-keys.js'
import type { StaticKey } from '../keys/static-keys.js'
import { PRIVATE_KEY_WARNING } from '../diagnostics/warnings.js'
import { DEFAULT_CACHE_MAX } from '../verify/token-cache.js'
import type { AccessTokenClaims, RemoteKeySetOptions, StaticKeyInput } from '../types.js'
import type { RequireTokenOptions, TokenVerifierOptions } from './types.js'
import type { GuardEvent } from '../events.js'

/** Where the keys come from once options are resolved. */
export type KeySource =
  | { type: 'static'; keys: readonly StaticKey[] }
  | {
      type: 'remote'
      jwksUri: string | undefined
      discover: boolean
      issuer: string
      options: RemoteKeySetOptions
      /** The factory named in the remote key set's option messages. */
      where: string
    }

/** The verifier's options, checked and with defaults applied. */
export interface VerifierConfig {
  issuer: string | [string, ...string[]]
  issuers: ReadonlySet<string>
  audience: string | [string, ...string[]]
  audiences: ReadonlySet<string>
  keySource: KeySource
  algorithms: [string, ...string[]]
  headerPolicy: JwsHeaderPolicy
  clockToleranceSeconds: number
  maxTokenAgeSeconds: number | undefined
  maxTokenLength: number
  realm: string
  scopeClaims: readonly string[]
  cacheMax: number
  isRevoked: ((claims: AccessTokenClaims) => boolean | Promise<boolean>) | undefined
  revocationTimeoutMs: number
  onEvent: ((event: GuardEvent) => void) | undefined
  /** The public factory, named in warnings. */
  where: string
}

/** The transport options of {@link requireToken}, resolved. */
export interface TransportConfig {
  body: boolean
  query: boolean
  credentialsOptional: boolean
  passErrors: boolean
  /** Scopes every token must grant (`scopes`), or `undefined` for none. */
  scopes: readonly string[] | undefined
}

/** The defaults of {@link TokenVerifierOptions}, one place for the code and the docs. */
export const TOKEN_VERIFIER_DEFAULTS: Readonly<{
  clockToleranceSeconds: number
  maxTokenLength: number
  realm: string
  allowedTypes: readonly string[]
  scopeClaims: readonly string[]
  cacheMax: number
  revocationTimeoutMs: number
}> = Object.freeze({
  clockToleranceSeconds: 5,
  maxTokenLength: 8192,
  realm: 'api',
  allowedTypes: Object.freeze(['at+jwt', 'application/at+jwt']),
  scopeClaims: Object.freeze(['scope', 'scp']),
  cacheMax: DEFAULT_CACHE_MAX,
  revocationTimeoutMs: 2000,
})

/** Every option name of {@link TokenVerifierOptions}. @internal */
export const TOKEN_VERIFIER_OPTIONS: OptionTable<TokenVerifierOptions> = {
  issuer: true,
  audience: true,
  keys: true,
  jwksUri: true,
  discover: true,
  jwks: true,
  algorithms: true,
  clockToleranceSeconds: true,
  maxTokenAgeSeconds: true,
  allowedTypes: true,
  maxTokenLength: true,
  realm: true,
  scopeClaims: true,
  cache: true,
  isRevoked: true,
  revocationTimeoutMs: true,
  onEvent: true,
  clockTolerance: true,
  maxTokenAge: true,
  revocationTimeout: true,
} satisfies OptionTable<TokenVerifierOptions>

/** The options {@link requireToken} adds to the verifier's. */
const TRANSPORT_OPTIONS = {
  tokenLocations: true,
  credentialsOptional: true,
  passErrors: true,
  scopes: true,
} satisfies OptionTable<Omit<RequireTokenOptions, keyof TokenVerifierOptions>>

/** Every option name of {@link RequireTokenOptions}. @internal */
export const REQUIRE_TOKEN_OPTIONS: OptionTable<RequireTokenOptions> = {
  ...TOKEN_VERIFIER_OPTIONS,
  ...TRANSPORT_OPTIONS,
} satisfies OptionTable<RequireTokenOptions>

/** Deprecated option names of the verifier and their replacements. @internal */
const TOKEN_VERIFIER_ALIASES: OptionAliases = defineAliases<TokenVerifierOptions>({
  clockTolerance: 'clockToleranceSeconds',
  maxTokenAge: 'maxTokenAgeSeconds',
  revocationTimeout: 'revocationTimeoutMs',
})

const TOKEN_LOCATIONS_OPTIONS = { body: true, query: true } satisfies OptionTable<
  NonNullable<RequireTokenOptions['tokenLocations']>
>
const CACHE_OPTIONS = { max: true } satisfies OptionTable<
  Exclude<NonNullable<TokenVerifierOptions['cache']>, false>
>

function stringList(value: unknown, at: OptionPath): [string, ...string[]] {
  const list: unknown[] = typeof value === 'string' ? [value] : Array.isArray(value) ? value : []
  if (list.length === 0) {
    throw optionError(at.where, at.path, 'is required: a non-empty string or array of strings')
  }
  for (const item of list) {
    if (typeof item !== 'string' || item === '') {
      throw optionError(at.where, at.path, 'must hold only non-empty strings')
    }
  }
  return [...list] as [string, ...string[]]
}

function resolveKeySource(
  options: Record<string, unknown>,
  issuers: readonly string[],
  where: string,
): KeySource {
  const discover = checkBoolean(options.discover, { where, path: 'discover' }, false)
  const sources = [options.keys !== undefined, options.jwksUri !== undefined, discover].filter(
    Boolean,
  ).length
  if (sources === 0) {
    throw optionError(
      where,
      'keys',
      'is required: give one key source, "keys", "jwksUri" or "discover: true"',
    )
  }
  if (sources > 1) {
    throw new TypeError(
      `${where}: options "keys", "jwksUri" and "discover" are key sources; give only one`,
    )
  }
  if (options.keys !== undefined) {
    if (options.jwks !== undefined) {
      throw optionError(where, 'jwks', 'applies only with "jwksUri" or "discover"')
    }
    let keys: StaticKey[]
    try {
      keys = importStaticKeys(options.keys as readonly StaticKeyInput[])
    } catch (error) {
      if (!(error instanceof TypeError)) throw error
      throw keyError(where, error)
    }
    const inputs = options.keys as readonly unknown[]
    inputs.forEach((input, index) => {
      if (isPrivateKeyInput(input)) warnPrivateKey(where, index)
    })
    return { type: 'static', keys }
  }
  // Only the tuning knobs: the source itself (jwksUri, discover, issuer) is set above, never here.
  // Their values, and the URL, are checked by createRemoteKeySet under this factory's name.
  const jwks = options.jwks === undefined ? {} : checkObject(options.jwks, where, 'jwks')
  checkKnownKeys(jwks, REMOTE_KEY_SET_OPTIONS, where, 'jwks.', { hidden: REMOTE_KEY_SET_ALIASES })
  if (discover && issuers.length !== 1) {
    throw optionError(where, 'issuer', 'must be exactly one issuer with "discover: true"')
  }
  return {
    type: 'remote',
    jwksUri: options.jwksUri as string | undefined,
    discover,
    issuer: issuers[0] as string,
    options: jwks,
    where,
  }
}

// The key messages start with the key's path (`keys[0].secret must …`): they become the one
// option format of every message, `<where>: option "<path>" <problem>`.
const KEY_MESSAGE = /^(keys(?:\[\d+\])?(?:\.[a-z]+)*) ([\s\S]*)$/

function keyError(where: string, error: TypeError): TypeError {
  const match = KEY_MESSAGE.exec(error.message)
  const [path, problem] =
    match === null ? ['keys', error.message] : [match[1] as string, match[2] as string]
  return new TypeError(optionError(where, path, problem).message, { cause: error })
}

/**
 * A private key works (its public half is kept) but does not belong in an API's configuration:
 * whoever reads it there can sign tokens that every API of the issuer accepts.
 */
function warnPrivateKey(where: string, index: number): void {
  warnOnce(
    PRIVATE_KEY_WARNING,
    `${where}\n${index}`,
    `${where}: option "keys[${index}]" is a private key; the guard uses only its public half, ` +
      'but a private key in an API can sign tokens that every API of this issuer accepts: ' +
      'give the public key (a PEM "PUBLIC KEY", or the public JWK from the JWKS) and keep the ' +
      'private key on the issuer only',
  )
}

function resolveAlgorithms(
  value: unknown,
  keySource: KeySource,
  where: string,
): [string, ...string[]] {
  const available =
    keySource.type === 'static'
      ? new Set(keySource.keys.flatMap((key) => [...key.algorithms]))
      : new Set(ASYMMETRIC_ALGORITHMS)
  if (value === undefined) return [...available] as [string, ...string[]]
  if (!Array.isArray(value) || value.length === 0) {
    throw optionError(where, 'algorithms', 'must be a non-empty array')
  }
  for (const alg of value as unknown[]) {
    if (typeof alg !== 'string' || !VERIFIABLE_ALGORITHMS.has(alg)) {
      throw optionError(
        where,
        'algorithms',
        `${typeof alg === 'string' && alg.toLowerCase() === 'none' ? 'must not hold "none" (never accepted)' : 'holds an unsupported algorithm'}; use ${[...VERIFIABLE_ALGORITHMS].join(', ')}`,
      )
    }
    if (!available.has(alg)) {
      throw optionError(
        where,
        'algorithms',
        keySource.type === 'static'
          ? `holds ${alg}, which none of "keys" can verify`
          : `holds ${alg}, which a remote key set cannot verify`,
      )
    }
  }
  return [...new Set(value as string[])] as [string, ...string[]]
}

function resolveTypes(value: unknown, where: string): ReadonlySet<string> | undefined {
  if (value === 'any') return undefined
  const list = value === undefined ? TOKEN_VERIFIER_DEFAULTS.allowedTypes : value
  if (!Array.isArray(list) || list.length === 0) {
    throw optionError(where, 'allowedTypes', "must be a non-empty array of strings or 'any'")
  }
  return new Set(
    (list as unknown[]).map((typ) => {
      if (typeof typ !== 'string' || typ === '') {
        throw optionError(where, 'allowedTypes', 'must hold only non-empty strings')
      }
      return normalizeType(typ)
    }),
  )
}

function resolveCache(value: unknown, where: string): number {
  if (value === undefined) return TOKEN_VERIFIER_DEFAULTS.cacheMax
  if (value === false) return 0
  const cache = checkObject(value, where, 'cache', 'false or { max }')
  checkKnownKeys(cache, CACHE_OPTIONS, where, 'cache.')
  return checkInteger(
    cache.max,
    { where, path: 'cache.max' },
    { min: 1 },
    TOKEN_VERIFIER_DEFAULTS.cacheMax,
  )
}

/**
 * Checks the verifier's options once, at setup, and applies the defaults. `where` is the public
 * factory named in messages; `table` lists every option it accepts.
 *
 * @throws {TypeError} `<where>: option "<path>" …` naming the first bad or unknown option.
 */
export function resolveVerifierOptions(
  input: unknown,
  where = 'createTokenVerifier',
  table: Readonly<Record<string, true>> = TOKEN_VERIFIER_OPTIONS,
): VerifierConfig {
  checkObject(input, where)
  checkKnownKeys(input as object, table, where, '', {
    hidden: TOKEN_VERIFIER_ALIASES,
    hint: (key) =>
      Object.hasOwn(TRANSPORT_OPTIONS, key) ? 'it is an option of requireToken' : undefined,
  })
  const options = renameDeprecated(input as Record<string, unknown>, TOKEN_VERIFIER_ALIASES, where)
  const at = (path: string): OptionPath => ({ where, path })
  const d = TOKEN_VERIFIER_DEFAULTS
  const issuer = stringList(options.issuer, at('issuer'))
  const audience = stringList(options.audience, at('audience'))
  const keySource = resolveKeySource(options, issuer, where)
  const algorithms = resolveAlgorithms(options.algorithms, keySource, where)
  const scopeClaims = options.scopeClaims === undefined ? d.scopeClaims : options.scopeClaims
  if (
    !Array.isArray(scopeClaims) ||
    scopeClaims.length === 0 ||
    !(scopeClaims as unknown[]).every((claim) => typeof claim === 'string' && claim !== '')
  ) {
    throw optionError(where, 'scopeClaims', 'must be a non-empty array of claim names')
  }
  const isRevoked = checkFunction(options.isRevoked, at('isRevoked'))
  const onEvent = checkFunction(options.onEvent, at('onEvent')) as VerifierConfig['onEvent']
  return {
    issuer: issuer.length === 1 ? issuer[0] : issuer,
    issuers: new Set(issuer),
    audience: audience.length === 1 ? audience[0] : audience,
    audiences: new Set(audience),
    keySource,
    algorithms,
    headerPolicy: {
      algorithms: new Set(algorithms),
      types: resolveTypes(options.allowedTypes, where),
    },
    clockToleranceSeconds: checkNumber(
      options.clockToleranceSeconds,
      at('clockToleranceSeconds'),
      { min: 0 },
      d.clockToleranceSeconds,
    ),
    maxTokenAgeSeconds: checkNumber(
      options.maxTokenAgeSeconds,
      at('maxTokenAgeSeconds'),
      // jsonwebtoken's maxAge: any positive number of seconds.
      { min: Number.MIN_VALUE },
      undefined,
    ),
    maxTokenLength: checkInteger(
      options.maxTokenLength,
      at('maxTokenLength'),
      { min: 1 },
      d.maxTokenLength,
    ),
    realm: checkString(options.realm, at('realm'), d.realm, {
      test: (realm) => /^[\x20-\x7e]*$/.test(realm),
      expected: 'a string of printable ASCII characters',
    }),
    scopeClaims: [...(scopeClaims as string[])],
    cacheMax: resolveCache(options.cache, where),
    isRevoked: isRevoked as VerifierConfig['isRevoked'],
    revocationTimeoutMs: checkInteger(
      options.revocationTimeoutMs,
      at('revocationTimeoutMs'),
      { min: 1, max: 60_000 },
      d.revocationTimeoutMs,
    ),
    onEvent,
    where,
  }
}

/**
 * Checks the transport options of {@link requireToken} (and of the passport strategy).
 *
 * @throws {TypeError} `<where>: option "<path>" …` naming the first bad option.
 */
export function resolveTransportOptions(
  input: Record<string, unknown>,
  where = 'requireToken',
): TransportConfig {
  const locations =
    input.tokenLocations === undefined
      ? {}
      : checkObject(input.tokenLocations, where, 'tokenLocations')
  checkKnownKeys(locations, TOKEN_LOCATIONS_OPTIONS, where, 'tokenLocations.')
  const scopes = resolveScopes(input.scopes, where)
  if (scopes !== undefined && input.credentialsOptional === true) {
    // An anonymous request has no scopes to check: the two options contradict each other.
    throw optionError(
      where,
      'scopes',
      'cannot be combined with "credentialsOptional": put requireScopes on the routes that need a token',
    )
  }
  return {
    body: checkBoolean(locations.body, { where, path: 'tokenLocations.body' }, false),
    query: checkBoolean(locations.query, { where, path: 'tokenLocations.query' }, false),
    credentialsOptional: checkBoolean(
      input.credentialsOptional,
      { where, path: 'credentialsOptional' },
      false,
    ),
    passErrors: checkBoolean(input.passErrors, { where, path: 'passErrors' }, false),
    scopes,
  }
}

function resolveScopes(value: unknown, where: string): readonly string[] | undefined {
  if (value === undefined) return undefined
  if (typeof value === 'string') {
    const parts = value.split(/\s+/).filter((part) => part !== '')
    const list = parts.map((part) => `'${part.replace(/['\\]/g, '')}'`).join(', ')
    throw optionError(where, 'scopes', `must be an array of scopes, as scopes: [${list}]`)
  }
  if (!Array.isArray(value) || value.length === 0) {
    throw optionError(where, 'scopes', "must be a non-empty array of scopes, as ['reports:read']")
  }
  for (const scope of value as unknown[]) {
    if (isScopeToken(scope)) continue
    if (typeof scope === 'string' && /\s/.test(scope) && scope.split(/\s+/).some(isScopeToken)) {
      throw optionError(
        where,
        'scopes',
        'must list each scope as its own item, not space-delimited',
      )
    }
    throw optionError(where, 'scopes', 'must hold only RFC 6749 scope tokens (no space, " or \\)')
  }
  return Object.freeze([...new Set(value as string[])])
}
