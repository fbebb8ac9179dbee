import {
  checkFunction,
  checkInteger,
  checkKnownKeys,
  checkObject,
  checkOneOf,
  checkString,
  checkUrl,
  isScopeToken,
  isSecureOrLoopback,
  optionError,
  type OptionPath,
  type OptionTable,
  parseDiscoveryIssuer,
  parseScope,
} from '@ccflow/core'
import {
  type AssertionAlgorithm,
  assertionAlgorithm,
  type ClientAuth,
  privateKeyJwtAuth,
  secretAuth,
} from '../auth/client-auth.js'
import { importPrivateKey } from '../auth/private-key.js'
import { createEmitter, type EmitEvent } from '../events.js'
import type { TokenStore } from '../store/token-store.js'
import type { DispatcherLike, FetchFunction, GetTokenOptions, TokenClientOptions } from './types.js'

/** The defaults of {@link TokenClientOptions}. */
export const TOKEN_CLIENT_DEFAULTS: Readonly<{
  deadlineMs: number
  maxRetries: number
  maxRetryAfterSeconds: number
  maxResponseBytes: number
  maxEntries: number
}> = Object.freeze({
  deadlineMs: 10_000,
  maxRetries: 2,
  maxRetryAfterSeconds: 60,
  maxResponseBytes: 64 * 1024,
  maxEntries: 1000,
})

const TOKEN_CLIENT_OPTIONS = {
  issuer: true,
  tokenEndpoint: true,
  clientId: true,
  clientSecret: true,
  privateKey: true,
  authMethod: true,
  keyId: true,
  algorithm: true,
  assertionAudience: true,
  scope: true,
  resource: true,
  params: true,
  deadlineMs: true,
  maxRetries: true,
  maxRetryAfterSeconds: true,
  maxResponseBytes: true,
  maxEntries: true,
  store: true,
  onEvent: true,
  fetch: true,
  dispatcher: true,
} satisfies OptionTable<TokenClientOptions>

const GET_TOKEN_OPTIONS = {
  scope: true,
  resource: true,
  minTtl: true,
  signal: true,
} satisfies OptionTable<GetTokenOptions>

const ALGORITHMS: readonly AssertionAlgorithm[] = [
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
]

// Parameters the client sets itself; `params` may not repeat or override them.
const RESERVED_PARAMS = new Set([
  'grant_type',
  'scope',
  'resource',
  'client_id',
  'client_secret',
  'client_assertion',
  'client_assertion_type',
])

// Generous for any real URI or parameter, small enough that a key stays cheap to hash.
const MAX_VALUE_LENGTH = 2048
const MAX_MIN_TTL_SECONDS = 86_400

/** Where the token endpoint comes from. */
export type EndpointSource =
  | { readonly kind: 'static'; readonly url: URL }
  | { readonly kind: 'discovery'; readonly issuer: string; readonly issuerUrl: URL }

/** The resolved, frozen configuration of a token client. */
export interface TokenClientConfig {
  readonly endpoint: EndpointSource
  /** What the cache key names the endpoint by: the token endpoint URL or the issuer. */
  readonly endpointId: string
  readonly clientId: string
  readonly auth: ClientAuth
  /** The `aud` of client assertions. */
  readonly assertionAudience: string
  readonly scope: readonly string[]
  readonly resource: readonly string[]
  /** Extra parameters, sorted by name. */
  readonly params: ReadonlyArray<readonly [string, string]>
  readonly deadlineMs: number
  readonly maxRetries: number
  readonly maxRetryAfterSeconds: number
  readonly maxResponseBytes: number
  readonly maxEntries: number
  readonly store: TokenStore | undefined
  /** Delivers events to the hook and the `ccflow:client:event` channel. */
  readonly emit: EmitEvent
  readonly fetch: FetchFunction
  readonly dispatcher: DispatcherLike | undefined
}

const WHERE = 'createTokenClient'

/**
 * Checks every option of {@link TokenClientOptions} and returns the frozen configuration.
 *
 * @throws {TypeError} `createTokenClient: …` naming the option, for an unknown option (with the
 *   nearest known name), a missing or malformed value, or options that contradict each other.
 */
export function resolveOptions(options: TokenClientOptions): TokenClientConfig {
  checkObject(options, WHERE)
  checkKnownKeys(options, TOKEN_CLIENT_OPTIONS, WHERE)
  const at = (path: string): OptionPath => ({ where: WHERE, path })

  const clientId = checkString(options.clientId, at('clientId'), undefined, {
    test: (value) => value.length <= MAX_VALUE_LENGTH,
    expected: `a non-empty string of at most ${MAX_VALUE_LENGTH} characters`,
  }) as string
  const issuer =
    options.issuer === undefined ? undefined : parseDiscoveryIssuer(options.issuer, at('issuer'))
  const tokenEndpoint =
    options.tokenEndpoint === undefined
      ? undefined
      : checkUrl(options.tokenEndpoint, at('tokenEndpoint'), endpointProblem)
  let endpoint: EndpointSource
  if (tokenEndpoint !== undefined) endpoint = { kind: 'static', url: tokenEndpoint }
  else if (issuer !== undefined) {
    endpoint = { kind: 'discovery', issuer: options.issuer as string, issuerUrl: issuer }
  } else throw optionError(WHERE, 'issuer', 'or "tokenEndpoint" is required')

  const assertionAudience =
    options.assertionAudience === undefined
      ? ((options.issuer ?? options.tokenEndpoint) as string)
      : (checkString(options.assertionAudience, at('assertionAudience'), undefined) as string)

  const auth = resolveAuth(options, clientId)
  const params = resolveParams(options.params)
  return Object.freeze({
    endpoint,
    endpointId: endpoint.kind === 'static' ? endpoint.url.href : `issuer:${endpoint.issuer}`,
    clientId,
    auth,
    assertionAudience,
    scope: resolveScope(options.scope, at('scope')),
    resource: resolveResource(options.resource, at('resource')),
    params,
    deadlineMs: checkInteger(
      options.deadlineMs,
      at('deadlineMs'),
      { min: 1, max: 300_000 },
      TOKEN_CLIENT_DEFAULTS.deadlineMs,
    ),
    maxRetries: checkInteger(
      options.maxRetries,
      at('maxRetries'),
      { min: 0, max: 10 },
      TOKEN_CLIENT_DEFAULTS.maxRetries,
    ),
    maxRetryAfterSeconds: checkInteger(
      options.maxRetryAfterSeconds,
      at('maxRetryAfterSeconds'),
      { min: 0, max: 3600 },
      TOKEN_CLIENT_DEFAULTS.maxRetryAfterSeconds,
    ),
    maxResponseBytes: checkInteger(
      options.maxResponseBytes,
      at('maxResponseBytes'),
      { min: 1024, max: 16 * 1024 * 1024 },
      TOKEN_CLIENT_DEFAULTS.maxResponseBytes,
    ),
    maxEntries: checkInteger(
      options.maxEntries,
      at('maxEntries'),
      { min: 1, max: 1_000_000 },
      TOKEN_CLIENT_DEFAULTS.maxEntries,
    ),
    store: resolveStore(options.store),
    emit: createEmitter(checkFunction(options.onEvent, at('onEvent'))),
    fetch: checkFunction(options.fetch, at('fetch')) ?? globalFetch,
    dispatcher: resolveDispatcher(options.dispatcher),
  })
}

// Read when called, not when the module loads, so a fetch installed later (a test's mock) counts.
const globalFetch: FetchFunction = (input, init) => fetch(input, init)

/** Why a token endpoint URL cannot be used, or `undefined`: https (or http on localhost), no credentials, no fragment. */
export function endpointProblem(url: URL): string | undefined {
  if (!isSecureOrLoopback(url)) return 'must use https (http is allowed only for localhost)'
  if (url.username !== '' || url.password !== '') return 'must not contain credentials'
  if (url.hash !== '') return 'must not contain a fragment'
  return undefined
}

function resolveAuth(options: TokenClientOptions, clientId: string): ClientAuth {
  const method = checkOneOf(
    options.authMethod,
    { where: WHERE, path: 'authMethod' },
    ['client_secret_basic', 'client_secret_post', 'private_key_jwt'] as const,
    undefined,
  )
  if (options.clientSecret !== undefined && options.privateKey !== undefined) {
    throw optionError(WHERE, 'clientSecret', 'and "privateKey" cannot both be given')
  }
  if (options.privateKey === undefined) {
    const secret = checkString(
      options.clientSecret,
      { where: WHERE, path: 'clientSecret' },
      undefined,
      { test: () => true, expected: 'a non-empty string (or give "privateKey")' },
    ) as string
    if (method === 'private_key_jwt') {
      throw optionError(WHERE, 'authMethod', '\'private_key_jwt\' needs "privateKey"')
    }
    for (const name of ['keyId', 'algorithm'] as const) {
      if (options[name] !== undefined) {
        throw optionError(WHERE, name, 'applies to "privateKey" only')
      }
    }
    return secretAuth(method ?? 'client_secret_basic', clientId, secret)
  }
  if (method !== undefined && method !== 'private_key_jwt') {
    throw optionError(WHERE, 'authMethod', `'${method}' needs "clientSecret"`)
  }
  const key = importPrivateKey(options.privateKey, { where: WHERE, path: 'privateKey' })
  const algorithm = checkOneOf(
    options.algorithm,
    { where: WHERE, path: 'algorithm' },
    ALGORITHMS,
    undefined,
  )
  const kid =
    options.keyId === undefined
      ? key.kid
      : checkString(options.keyId, { where: WHERE, path: 'keyId' }, undefined)
  return privateKeyJwtAuth(clientId, key, assertionAlgorithm(key.key, algorithm, WHERE), kid)
}

function resolveParams(
  params: TokenClientOptions['params'],
): ReadonlyArray<readonly [string, string]> {
  if (params === undefined) return []
  checkObject(params, WHERE, 'params')
  const entries = Object.entries(params).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  for (const [name, value] of entries) {
    if (RESERVED_PARAMS.has(name)) {
      throw optionError(WHERE, `params.${name}`, 'is set by the client; use its own option')
    }
    if (name === '' || typeof value !== 'string' || value.length > MAX_VALUE_LENGTH) {
      throw optionError(WHERE, `params.${name}`, 'must be a string of at most 2048 characters')
    }
  }
  return Object.freeze(entries.map(([name, value]) => Object.freeze([name, value] as const)))
}

/**
 * A scope option as a sorted set of scope tokens (RFC 6749 §3.3).
 *
 * @throws {TypeError} naming `at` for anything that is not scope syntax.
 */
export function resolveScope(
  value: string | readonly string[] | undefined,
  at: OptionPath,
): readonly string[] {
  if (value === undefined || value === '') return []
  let tokens: readonly string[] | undefined
  if (typeof value === 'string') tokens = parseScope(value)
  else if (Array.isArray(value) && value.every(isScopeToken)) tokens = value
  if (tokens === undefined) {
    throw optionError(
      at.where,
      at.path,
      'must be a space-delimited scope string or an array of scope tokens (RFC 6749 §3.3)',
    )
  }
  return Object.freeze([...new Set(tokens)].sort())
}

/**
 * A resource option as a sorted set of absolute URIs without fragment (RFC 8707 §2).
 *
 * @throws {TypeError} naming `at` for anything else.
 */
export function resolveResource(
  value: string | readonly string[] | undefined,
  at: OptionPath,
): readonly string[] {
  if (value === undefined) return []
  const list: readonly unknown[] = typeof value === 'string' ? [value] : value
  if (!Array.isArray(list)) {
    throw optionError(at.where, at.path, 'must be a URI string or an array of URI strings')
  }
  for (const item of list) {
    checkUrl(item, at, (url) =>
      url.hash !== '' || (item as string).includes('#')
        ? 'must not contain a fragment (RFC 8707 §2)'
        : (item as string).length > MAX_VALUE_LENGTH
          ? `must be at most ${MAX_VALUE_LENGTH} characters`
          : undefined,
    )
  }
  return Object.freeze([...new Set(list as readonly string[])].sort())
}

/** The options of one `getToken()` call, checked. */
export interface ResolvedGetToken {
  readonly scope: readonly string[]
  readonly resource: readonly string[]
  readonly minTtlMs: number
  readonly signal: AbortSignal | undefined
}

/**
 * Checks the options of one `getToken()` call against the client's configuration. `known` is the
 * scope and resource these same `scope` and `resource` inputs resolved to before (a memo).
 *
 * @throws {TypeError} `getToken: …` naming the option.
 */
export function resolveGetToken(
  options: GetTokenOptions | undefined,
  config: TokenClientConfig,
  known?: Pick<ResolvedGetToken, 'scope' | 'resource'>,
): ResolvedGetToken {
  if (options === undefined) {
    return { scope: config.scope, resource: config.resource, minTtlMs: 0, signal: undefined }
  }
  const where = 'getToken'
  checkObject(options, where)
  checkKnownKeys(options, GET_TOKEN_OPTIONS, where)
  const signal = options.signal
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw optionError(where, 'signal', 'must be an AbortSignal')
  }
  return {
    scope:
      known?.scope ??
      (options.scope === undefined
        ? config.scope
        : resolveScope(options.scope, { where, path: 'scope' })),
    resource:
      known?.resource ??
      (options.resource === undefined
        ? config.resource
        : resolveResource(options.resource, { where, path: 'resource' })),
    minTtlMs:
      checkInteger(
        options.minTtl,
        { where, path: 'minTtl' },
        { min: 0, max: MAX_MIN_TTL_SECONDS },
        0,
      ) * 1000,
    signal,
  }
}

function resolveStore(store: unknown): TokenStore | undefined {
  if (store === undefined) return undefined
  const methods = ['get', 'set', 'delete', 'lock', 'unlock'] as const
  if (
    typeof store !== 'object' ||
    store === null ||
    methods.some((name) => typeof (store as Record<string, unknown>)[name] !== 'function')
  ) {
    throw optionError(WHERE, 'store', `must be a token store (${methods.join(', ')})`)
  }
  return store as TokenStore
}

function resolveDispatcher(dispatcher: unknown): DispatcherLike | undefined {
  if (dispatcher === undefined) return undefined
  if (
    typeof dispatcher !== 'object' ||
    dispatcher === null ||
    typeof (dispatcher as { dispatch?: unknown }).dispatch !== 'function'
  ) {
    throw optionError(WHERE, 'dispatcher', 'must be an undici Dispatcher (Agent, ProxyAgent, …)')
  }
  return dispatcher as DispatcherLike
}
