import {
  checkBoolean,
  checkFunction,
  checkNumber,
  checkObject,
  optionError,
  type OptionPath,
} from '../options/check.js'
import { defineAliases, type OptionAliases, renameDeprecated } from '../options/deprecate.js'
import { checkKnownKeys, type OptionTable } from '../options/keys.js'
import { parseDiscoveryIssuer } from './discovery.js'
import { type KeySourceFetch, parseKeySourceUrl } from './jwks-fetch.js'
import { IMPORTABLE_ALGORITHMS, SUPPORTED_ALGORITHMS } from './jwk-set.js'
import type { KeySetUnavailableError, RemoteKeySetEvent } from './remote-key-set.js'

// A Cache-Control max-age is trusted only within these bounds: a very short one would turn every
// instance into a JWKS load generator, a very long one would pin a removed (compromised) key.
// The lower bound is the default of `minCacheMaxAgeSeconds` (the issuer, fetching keys from URLs
// its clients chose, raises it).
const MIN_MAX_AGE_SECONDS = 30
export const MAX_MAX_AGE_SECONDS = 86_400
/** Defaults of {@link RemoteKeySetOptions}. */
export const REMOTE_KEY_SET_DEFAULTS: Readonly<{
  timeoutMs: number
  cacheMaxAgeSeconds: number
  cooldownSeconds: number
  staleForSeconds: number
  maxResponseBytes: number
  minCacheMaxAgeSeconds: number
}> = Object.freeze({
  timeoutMs: 3_000,
  cacheMaxAgeSeconds: 600,
  cooldownSeconds: 30,
  staleForSeconds: 3_600,
  maxResponseBytes: 256 * 1024,
  minCacheMaxAgeSeconds: MIN_MAX_AGE_SECONDS,
})

/**
 * Tuning of the remote JWKS key set (used with `jwksUri` or `discover`). Durations name their
 * unit: `…Ms` milliseconds, `…Seconds` seconds.
 */
export interface RemoteKeySetOptions {
  /**
   * Milliseconds before a JWKS or metadata request is abandoned (1 to 60000).
   * @default REMOTE_KEY_SET_DEFAULTS.timeoutMs (3000)
   */
  timeoutMs?: number | undefined
  /**
   * Seconds a fetched key set is fresh when the response has no usable `Cache-Control: max-age`
   * (1 to 86400).
   * @default REMOTE_KEY_SET_DEFAULTS.cacheMaxAgeSeconds (600)
   */
  cacheMaxAgeSeconds?: number | undefined
  /**
   * Minimum seconds between two refetches triggered by an unknown `kid` (or a failed fetch)
   * (1 to 86400).
   * @default REMOTE_KEY_SET_DEFAULTS.cooldownSeconds (30)
   */
  cooldownSeconds?: number | undefined
  /**
   * Seconds the last-known-good key set is still used after it went stale while the key
   * server fails (0 to 604800).
   * @default REMOTE_KEY_SET_DEFAULTS.staleForSeconds (3600)
   */
  staleForSeconds?: number | undefined
  /**
   * Largest JWKS or metadata response body accepted, in bytes (1024 to 16777216).
   * @default REMOTE_KEY_SET_DEFAULTS.maxResponseBytes (262144)
   */
  maxResponseBytes?: number | undefined
  /** @deprecated Use `timeoutMs` (same value); removed in the next major version. */
  timeout?: number | undefined
  /** @deprecated Use `cacheMaxAgeSeconds` (same value); removed in the next major version. */
  cacheMaxAge?: number | undefined
  /** @deprecated Use `cooldownSeconds` (same value); removed in the next major version. */
  cooldown?: number | undefined
  /** @deprecated Use `staleForSeconds` (same value); removed in the next major version. */
  staleFor?: number | undefined
}

/** Every {@link RemoteKeySetOptions} name, for the guard's check of its `jwks` option. */
export const REMOTE_KEY_SET_OPTIONS: OptionTable<RemoteKeySetOptions> = {
  timeoutMs: true,
  cacheMaxAgeSeconds: true,
  cooldownSeconds: true,
  staleForSeconds: true,
  maxResponseBytes: true,
  timeout: true,
  cacheMaxAge: true,
  cooldown: true,
  staleFor: true,
} satisfies OptionTable<RemoteKeySetOptions>

/** Deprecated {@link RemoteKeySetOptions} names and their replacements. */
export const REMOTE_KEY_SET_ALIASES: OptionAliases = defineAliases<RemoteKeySetOptions>({
  timeout: 'timeoutMs',
  cacheMaxAge: 'cacheMaxAgeSeconds',
  cooldown: 'cooldownSeconds',
  staleFor: 'staleForSeconds',
})

/**
 * Options of {@link createRemoteKeySet}: one key source plus the cache tuning.
 *
 * `algorithms`, `fetch`, `minCacheMaxAgeSeconds`, `lazy` and `onStaleServed` are set by a wrapping factory's
 * code (the issuer's client key sets), never by its users: they are not in
 * {@link REMOTE_KEY_SET_OPTIONS}, so the guard's `jwks` option does not accept them.
 */
export interface CreateRemoteKeySetOptions extends RemoteKeySetOptions {
  /** JWKS URL: https, or http only for localhost, 127.0.0.1 and [::1]. */
  jwksUri?: string | undefined
  /** Issuer identifier; required with `discover`, ignored otherwise. */
  issuer?: string | undefined
  /**
   * Find `jwks_uri` in the issuer's RFC 8414 metadata (then OpenID configuration).
   * @default false
   */
  discover?: boolean | undefined
  /** Observability hook (fetches, failures, skipped keys). */
  onEvent?: ((event: RemoteKeySetEvent) => void) | undefined
  /**
   * Turns the {@link KeySetUnavailableError} that `getKey` and `ready` reject with into the
   * caller's own error (the guard's 503 `KeySourceUnavailableError`, for example).
   * @default the error as it is
   */
  unavailableError?: ((error: KeySetUnavailableError) => Error) | undefined
  /**
   * Called each time a key lookup is answered from the stale last-known-good set (a refresh
   * failed); for metrics. Never awaited; a throw is swallowed.
   * @default undefined
   */
  onStaleServed?: (() => void) | undefined
  /**
   * The algorithms keys may be imported and looked up for: a non-empty list drawn from RS256–RS512,
   * PS256–PS512, ES256–ES512 and EdDSA. Ed25519 (`kty: 'OKP'`) keys are imported only when it
   * holds `EdDSA`; `getKey` answers undefined for an algorithm not listed.
   * @default the RSA and ECDSA algorithms (every one but EdDSA, which jsonwebtoken cannot verify)
   */
  algorithms?: readonly string[] | undefined
  /**
   * The fetch that JWKS and metadata requests go through, called as `fetch(url, init)` with a
   * `GET`, `redirect: 'manual'` and an abort signal in `init` (the issuer passes one whose
   * connections are address-filtered).
   * @default the global `fetch`
   */
  fetch?: KeySourceFetch | undefined
  /**
   * Lower bound, in seconds, of a trusted `Cache-Control: max-age` (1 to 86400): a shorter one is
   * raised to it. The upper bound is always one day.
   * @default REMOTE_KEY_SET_DEFAULTS.minCacheMaxAgeSeconds (30)
   */
  minCacheMaxAgeSeconds?: number | undefined
  /**
   * Starts the first fetch at the first `getKey` instead of at creation; `ready` settles after
   * that fetch (or rejects when the set is closed before it).
   * @default false
   */
  lazy?: boolean | undefined
}

const CREATE_REMOTE_KEY_SET_OPTIONS = {
  jwksUri: true,
  issuer: true,
  discover: true,
  onEvent: true,
  unavailableError: true,
  algorithms: true,
  fetch: true,
  minCacheMaxAgeSeconds: true,
  lazy: true,
  onStaleServed: true,
  ...REMOTE_KEY_SET_OPTIONS,
} satisfies OptionTable<CreateRemoteKeySetOptions>

/**
 * Who checks the options, for the messages: the public factory and the path of the tuning
 * options in its own options (the guard passes `{ where: 'requireToken', prefix: 'jwks.' }`).
 */
export interface RemoteKeySetOptionsContext {
  /** The public factory named in messages. @default 'createRemoteKeySet' */
  where: string
  /** Prefix of the tuning options' paths. @default '' */
  prefix: string
}

/** The checked options of a remote key set. */
export interface ResolvedOptions {
  jwksUrl: URL | undefined
  issuer: string
  issuerUrl: URL
  timeoutMs: number
  cacheMaxAge: number
  cooldownMs: number
  staleForMs: number
  maxResponseBytes: number
  onEvent: ((event: RemoteKeySetEvent) => void) | undefined
  unavailableError: ((error: KeySetUnavailableError) => Error) | undefined
  onStaleServed: (() => void) | undefined
  algorithms: ReadonlySet<string>
  fetch: KeySourceFetch | undefined
  minCacheMaxAge: number
  lazy: boolean
}

/** Checks the options of {@link createRemoteKeySet}, naming the caller's factory in messages. */
export function resolveOptions(
  input: CreateRemoteKeySetOptions,
  { where, prefix }: RemoteKeySetOptionsContext,
): ResolvedOptions {
  checkObject(input, where, prefix === '' ? '' : prefix.slice(0, -1))
  checkKnownKeys(input, CREATE_REMOTE_KEY_SET_OPTIONS, where, prefix, {
    hidden: REMOTE_KEY_SET_ALIASES,
  })
  const options = renameDeprecated(input, REMOTE_KEY_SET_ALIASES, where, prefix)
  const at = (name: string): OptionPath => ({ where, path: prefix + name })
  // The key source options sit beside the tuning ones in createRemoteKeySet's own options; a
  // wrapping factory (the guard) passes them from its top level, so they take no prefix.
  const top = (name: string): OptionPath => ({ where, path: name })
  const discover = checkBoolean(options.discover, top('discover'), false)
  const onEvent = checkFunction(options.onEvent, top('onEvent'))
  const unavailableError = checkFunction(options.unavailableError, top('unavailableError'))
  const onStaleServed = checkFunction(options.onStaleServed, top('onStaleServed'))
  const algorithms = checkAlgorithms(options.algorithms, top('algorithms'))
  const fetch = checkFunction(options.fetch, top('fetch'))
  const lazy = checkBoolean(options.lazy, top('lazy'), false)
  const { jwksUri, issuer } = options
  if (discover && jwksUri !== undefined) {
    throw optionError(where, 'jwksUri', 'cannot be combined with "discover"; configure one')
  }
  if (!discover && jwksUri === undefined) {
    throw optionError(where, 'jwksUri', 'is required (or "discover: true" with "issuer")')
  }
  let jwksUrl: URL | undefined
  let issuerUrl: URL
  if (discover) {
    issuerUrl = parseDiscoveryIssuer(issuer, top('issuer'))
  } else {
    jwksUrl = parseKeySourceUrl(jwksUri, top('jwksUri'))
    issuerUrl = jwksUrl
  }
  const d = REMOTE_KEY_SET_DEFAULTS
  return {
    jwksUrl,
    issuer: issuer ?? '',
    issuerUrl,
    timeoutMs: checkNumber(
      options.timeoutMs,
      at('timeoutMs'),
      { min: 1, max: 60_000 },
      d.timeoutMs,
    ),
    cacheMaxAge: checkNumber(
      options.cacheMaxAgeSeconds,
      at('cacheMaxAgeSeconds'),
      { min: 1, max: MAX_MAX_AGE_SECONDS },
      d.cacheMaxAgeSeconds,
    ),
    cooldownMs:
      checkNumber(
        options.cooldownSeconds,
        at('cooldownSeconds'),
        { min: 1, max: 86_400 },
        d.cooldownSeconds,
      ) * 1000,
    staleForMs:
      checkNumber(
        options.staleForSeconds,
        at('staleForSeconds'),
        { min: 0, max: 7 * 86_400 },
        d.staleForSeconds,
      ) * 1000,
    maxResponseBytes: checkNumber(
      options.maxResponseBytes,
      at('maxResponseBytes'),
      { min: 1024, max: 16 * 1024 * 1024 },
      d.maxResponseBytes,
    ),
    onEvent,
    unavailableError,
    onStaleServed,
    algorithms,
    fetch,
    minCacheMaxAge: checkNumber(
      options.minCacheMaxAgeSeconds,
      top('minCacheMaxAgeSeconds'),
      { min: 1, max: MAX_MAX_AGE_SECONDS },
      d.minCacheMaxAgeSeconds,
    ),
    lazy,
  }
}

function checkAlgorithms(value: unknown, at: OptionPath): ReadonlySet<string> {
  if (value === undefined) return SUPPORTED_ALGORITHMS
  const expected = `a non-empty array of ${IMPORTABLE_ALGORITHMS.join(', ')}`
  if (!Array.isArray(value) || value.length === 0) {
    throw optionError(at.where, at.path, `must be ${expected}`)
  }
  for (const alg of value as unknown[]) {
    if (typeof alg !== 'string' || !(IMPORTABLE_ALGORITHMS as readonly string[]).includes(alg)) {
      throw optionError(
        at.where,
        at.path,
        `holds ${typeof alg === 'string' ? `"${alg}"` : `a ${typeof alg}`}; it must be ${expected}`,
      )
    }
  }
  return new Set(value as string[])
}
