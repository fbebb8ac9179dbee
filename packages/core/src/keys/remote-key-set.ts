// Remote JWKS cache for the verifier.
//
// Decision: a small cache of our own on node:crypto + the global fetch, not jwks-rsa.
// - jwks-rsa 4 depends on jose 6, which is ESM-only, so it loads from CommonJS only through
//   require(esm); our CJS build must load under `node --no-experimental-require-module` (STYLE.md
//   decision 2; auth0/node-jwks-rsa #493, #507).
// - jwks-rsa downloads the whole set for every unknown kid and answers its own rate limit with a
//   500-style error; we want one request per cooldown for any flood of kids and a 503 with
//   Retry-After when keys cannot be had, never a 401 or 500.
// - Keys are imported once per fetch with crypto.createPublicKey({ format: 'jwk' }) and indexed
//   by kid, so a request does a Map lookup, not a JWK → PEM conversion.
// - No background timers: refresh is lazy, on access, single-flight. Nothing keeps the process
//   alive and close() has nothing to leak. Time comes from Date.now(), so tests drive max-age and
//   cooldown with vi.setSystemTime().

import {
  ASYMMETRIC_ALGORITHMS,
  type AsymmetricAlgorithm,
  EC_ALGORITHM_BY_JWK_CURVE,
  MIN_RSA_BITS,
  RSA_ALGORITHMS,
} from '../jose/algorithms.js'
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto'
import { discoverJwksUri, parseDiscoveryIssuer } from './discovery.js'
import {
  checkBoolean,
  checkFunction,
  checkNumber,
  checkObject,
  optionError,
  type OptionPath,
} from '../options/check.js'
import { checkKnownKeys, type OptionTable } from '../options/keys.js'
import { type OptionAliases, renameDeprecated } from '../options/deprecate.js'
import {
  type FetchLimits,
  fetchJson,
  freshnessLifetime,
  KeySourceFetchError,
  type KeySourceFailureReason,
  parseKeySourceUrl,
} from './jwks-fetch.js'

export type { KeySourceFailureReason } from './jwks-fetch.js'

/** JWS algorithms a remote key can verify (RFC 7518 §3.1), as jsonwebtoken supports them. */
export type RemoteKeyAlgorithm = AsymmetricAlgorithm

const SUPPORTED_ALGORITHMS: ReadonlySet<string> = new Set<string>(ASYMMETRIC_ALGORITHMS)

// RFC 7517 §9.3 / RFC 7518 §6: members that only a private or symmetric key has. A JWKS that
// publishes them has leaked the key, so anyone could sign with it: the key is refused.
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const

// A Cache-Control max-age is trusted only within these bounds: a very short one would turn every
// instance into a JWKS load generator, a very long one would pin a removed (compromised) key.
const MIN_MAX_AGE_SECONDS = 30
const MAX_MAX_AGE_SECONDS = 86_400
// First retry after a failed fetch; doubles per consecutive failure up to the cooldown.
const FIRST_RETRY_MS = 1_000

/** Defaults of {@link RemoteKeySetOptions}. */
export const REMOTE_KEY_SET_DEFAULTS: Readonly<{
  timeoutMs: number
  cacheMaxAgeSeconds: number
  cooldownSeconds: number
  staleForSeconds: number
  maxResponseBytes: number
}> = Object.freeze({
  timeoutMs: 3_000,
  cacheMaxAgeSeconds: 600,
  cooldownSeconds: 30,
  staleForSeconds: 3_600,
  maxResponseBytes: 256 * 1024,
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
  timeoutMs?: number
  /**
   * Seconds a fetched key set is fresh when the response has no usable `Cache-Control: max-age`
   * (1 to 86400).
   * @default REMOTE_KEY_SET_DEFAULTS.cacheMaxAgeSeconds (600)
   */
  cacheMaxAgeSeconds?: number
  /**
   * Minimum seconds between two refetches triggered by an unknown `kid` (or a failed fetch)
   * (1 to 86400).
   * @default REMOTE_KEY_SET_DEFAULTS.cooldownSeconds (30)
   */
  cooldownSeconds?: number
  /**
   * Seconds the last-known-good key set is still used after it went stale while the key
   * server fails (0 to 604800).
   * @default REMOTE_KEY_SET_DEFAULTS.staleForSeconds (3600)
   */
  staleForSeconds?: number
  /**
   * Largest JWKS or metadata response body accepted, in bytes (1024 to 16777216).
   * @default REMOTE_KEY_SET_DEFAULTS.maxResponseBytes (262144)
   */
  maxResponseBytes?: number
  /** @deprecated Use `timeoutMs` (same value); removed in the next major version. */
  timeout?: number
  /** @deprecated Use `cacheMaxAgeSeconds` (same value); removed in the next major version. */
  cacheMaxAge?: number
  /** @deprecated Use `cooldownSeconds` (same value); removed in the next major version. */
  cooldown?: number
  /** @deprecated Use `staleForSeconds` (same value); removed in the next major version. */
  staleFor?: number
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
export const REMOTE_KEY_SET_ALIASES: OptionAliases = {
  timeout: 'timeoutMs',
  cacheMaxAge: 'cacheMaxAgeSeconds',
  cooldown: 'cooldownSeconds',
  staleFor: 'staleForSeconds',
} satisfies Partial<Record<keyof RemoteKeySetOptions, keyof RemoteKeySetOptions>>

/**
 * No usable key set can be had: the first fetch failed, or the last good set is older than
 * `staleFor` while the key server keeps failing. A caller answers 503 (the token may well be
 * valid), never 401; `retryAfter` says when the next fetch may run.
 */
export class KeySetUnavailableError extends Error {
  override readonly name: string = 'KeySetUnavailableError'
  /** Stable code for logs and for callers that map the error. */
  readonly code = 'key_source_unavailable'
  /** Seconds until the key set may be fetched again (at least 1). */
  readonly retryAfter: number

  constructor(retryAfter: number, cause?: unknown) {
    super('no usable key set', cause === undefined ? undefined : { cause })
    this.retryAfter = retryAfter
  }
}

/** Why a key from a fetched JWKS was not used. */
export type SkippedKeyReason =
  | 'invalid'
  | 'not_for_signatures'
  | 'private_key'
  | 'unsupported_type'
  | 'unsupported_alg'
  | 'weak_key'
  | 'duplicate_kid'

/** Observability events of a remote key set; the hook is never awaited and a throw is swallowed. */
export type RemoteKeySetEvent =
  | { type: 'jwks_fetched'; uri: string; keys: number; maxAge: number }
  | {
      type: 'jwks_fetch_failed'
      uri: string | undefined
      reason: KeySourceFailureReason
      /** Epoch milliseconds of the next allowed attempt. */
      retryAt: number
    }
  | { type: 'jwks_key_skipped'; uri: string; kid: string | undefined; reason: SkippedKeyReason }

/** Options of {@link createRemoteKeySet}: one key source plus the cache tuning. */
export interface CreateRemoteKeySetOptions extends RemoteKeySetOptions {
  /** JWKS URL: https, or http only for localhost, 127.0.0.1 and [::1]. */
  jwksUri?: string
  /** Issuer identifier; required with `discover`, ignored otherwise. */
  issuer?: string
  /**
   * Find `jwks_uri` in the issuer's RFC 8414 metadata (then OpenID configuration).
   * @default false
   */
  discover?: boolean
  /** Observability hook (fetches, failures, skipped keys). */
  onEvent?: ((event: RemoteKeySetEvent) => void) | undefined
  /**
   * Turns the {@link KeySetUnavailableError} that `getKey` and `ready` reject with into the
   * caller's own error (the guard's 503 `KeySourceUnavailableError`, for example).
   * @default the error as it is
   */
  unavailableError?: ((error: KeySetUnavailableError) => Error) | undefined
}

/** Counters for tests and metrics. */
export interface RemoteKeySetStats {
  /** Refresh attempts so far (each is one JWKS request, preceded by discovery when needed). */
  fetches: number
  /** Epoch milliseconds when the last attempt started. */
  lastFetchAt?: number
  /** Epoch milliseconds of the last successful fetch. */
  lastSuccessAt?: number
  /** Usable keys in the current set (0 before the first success). */
  keyCount: number
  /** Epoch milliseconds after which the current set is stale (past its max-age). */
  expiresAt?: number
  /** Reason of the last failed attempt, cleared by a success. */
  lastError?: KeySourceFailureReason
  /** Consecutive failed attempts. */
  consecutiveFailures: number
}

/** A cached, self-refreshing remote JWKS. */
export interface RemoteKeySet {
  /**
   * The verification key for a token's `kid` and `alg`.
   *
   * - Known kid: resolves the key if `alg` suits it (RSA ↔ RS*, PS*; EC P-256 ↔ ES256, P-384 ↔
   *   ES384, P-521 ↔ ES512; and equal to the JWK's `alg` when it has one), else undefined.
   * - Unknown kid: refetches the set at most once per cooldown, shared by all callers; resolves
   *   undefined when the kid is still unknown (→ 401 invalid_token).
   * - No kid: the one key of the set that suits `alg`, or undefined when there are zero or several.
   *
   * @throws {KeySetUnavailableError} (or what `unavailableError` makes of it) when no usable key set can be had (first fetch failed, or
   *   the last good set is past its stale window): answer 503 with its Retry-After.
   */
  getKey(kid: string | undefined, alg: string): Promise<KeyObject | undefined>
  /**
   * The key {@link RemoteKeySet.getKey} would resolve, returned synchronously when the current
   * set is fresh (within its max-age) and names `kid` with a key that suits `alg`; `undefined`
   * otherwise, and the caller falls back to `getKey`. Lets the verifier run a cache miss without
   * a promise in the common case; it never fetches.
   */
  peekKey(kid: string | undefined, alg: string): KeyObject | undefined
  /**
   * Settles after the first fetch. Rejects with {@link KeySetUnavailableError} (or what `unavailableError` makes of it) when it failed;
   * a handler is already attached, so an unobserved failure is never an unhandled rejection.
   */
  readonly ready: Promise<void>
  /** Aborts an in-flight fetch and stops further fetches; cached keys stay usable. */
  close(): void
  /** Counters for tests and metrics. */
  stats(): RemoteKeySetStats
}

interface ImportedKey {
  kid: string | undefined
  key: KeyObject
  algorithms: readonly RemoteKeyAlgorithm[]
}

interface CachedSet {
  keys: readonly ImportedKey[]
  byKid: ReadonlyMap<string, readonly ImportedKey[]>
  fetchedAt: number
  expiresAt: number
}

const CREATE_REMOTE_KEY_SET_OPTIONS = {
  jwksUri: true,
  issuer: true,
  discover: true,
  onEvent: true,
  unavailableError: true,
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

/**
 * Creates a remote key set and starts its first fetch.
 *
 * The set is cached for the response's `Cache-Control: max-age` (bounded to 30 s – 1 day) or
 * `cacheMaxAgeSeconds`; refreshed lazily and single-flight on the first access after that; kept
 * as last-known-good for `staleForSeconds` when refreshes fail; refetched on an unknown kid at
 * most once per `cooldownSeconds`. Failed attempts back off (1 s, doubling, up to the cooldown); requests in
 * between are served from cache or answered with 503, never by another fetch.
 *
 * @example
 * ```ts
 * const keys = createRemoteKeySet({ jwksUri: 'https://auth.example.com/jwks.json' })
 * const key = await keys.getKey(header.kid, header.alg)
 * ```
 * @param context - who checks the options, for the messages (a wrapping factory passes its name).
 * @throws {TypeError} `<where>: option "<path>" …` for an unknown option, a bad URL, a value out
 *   of range, or a missing or double key source.
 * @see RFC 7517 §5 (JWK Set), RFC 8414 §3 (metadata), RFC 9111 §5.2.2.1 (max-age)
 */
export function createRemoteKeySet(
  options: CreateRemoteKeySetOptions,
  context: RemoteKeySetOptionsContext = { where: 'createRemoteKeySet', prefix: '' },
): RemoteKeySet {
  const config = resolveOptions(options, context)
  const closer = new AbortController()
  const limits: FetchLimits = {
    timeout: config.timeoutMs,
    maxResponseBytes: config.maxResponseBytes,
    signal: closer.signal,
  }

  let jwksUrl = config.jwksUrl
  let current: CachedSet | undefined
  let inflight: Promise<void> | undefined
  let closed = false
  let fetches = 0
  let lastAttemptAt: number | undefined
  let lastSuccessAt: number | undefined
  let lastError: KeySourceFetchError | undefined
  let consecutiveFailures = 0
  let nextAttemptAt = 0

  const emit = (event: RemoteKeySetEvent): void => {
    try {
      config.onEvent?.(event)
    } catch {
      // An observability hook must never break verification.
    }
  }

  const attempt = async (): Promise<void> => {
    fetches++
    lastAttemptAt = Date.now()
    try {
      jwksUrl ??= await discoverJwksUri(config.issuer, config.issuerUrl, limits)
      const uri = jwksUrl.href
      const { json, headers } = await fetchJson(jwksUrl, limits)
      const { keys, skipped } = importJwks(json)
      for (const { kid, reason } of skipped) emit({ type: 'jwks_key_skipped', uri, kid, reason })
      if (keys.length === 0) {
        throw new KeySourceFetchError('no_usable_keys', 'key set has no usable signing key')
      }
      const advertised = freshnessLifetime(headers)
      const maxAge =
        advertised === undefined
          ? config.cacheMaxAge
          : Math.min(Math.max(advertised, MIN_MAX_AGE_SECONDS), MAX_MAX_AGE_SECONDS)
      const now = Date.now()
      current = { keys, byKid: indexByKid(keys), fetchedAt: now, expiresAt: now + maxAge * 1000 }
      lastSuccessAt = now
      lastError = undefined
      consecutiveFailures = 0
      nextAttemptAt = 0
      emit({ type: 'jwks_fetched', uri, keys: keys.length, maxAge })
    } catch (error) {
      lastError =
        error instanceof KeySourceFetchError
          ? error
          : new KeySourceFetchError('network', 'key source request failed', { cause: error })
      const reason = lastError.reason
      consecutiveFailures++
      const delay = Math.min(FIRST_RETRY_MS * 2 ** (consecutiveFailures - 1), config.cooldownMs)
      nextAttemptAt = Date.now() + delay
      emit({ type: 'jwks_fetch_failed', uri: jwksUrl?.href, reason, retryAt: nextAttemptAt })
    }
  }

  // Single flight: every caller that needs a fetch while one runs awaits that same one.
  // attempt() never rejects, so neither does this promise.
  const refresh = (): Promise<void> => {
    inflight ??= attempt().finally(() => {
      inflight = undefined
    })
    return inflight
  }

  const unavailable = (): Error => {
    const wait = closed ? config.cooldownMs : nextAttemptAt - Date.now()
    const error = new KeySetUnavailableError(Math.max(1, Math.ceil(wait / 1000)), lastError)
    return config.unavailableError === undefined ? error : config.unavailableError(error)
  }

  // The set to answer from: fresh if it can be had now, else the last good one within staleFor.
  const usableSet = async (): Promise<CachedSet> => {
    if (current === undefined || Date.now() >= current.expiresAt) {
      if (inflight !== undefined) await inflight
      else if (!closed && Date.now() >= nextAttemptAt) await refresh()
    }
    if (current !== undefined && Date.now() < current.expiresAt + config.staleForMs) return current
    throw unavailable()
  }

  const mayRefetchForUnknownKid = (): boolean => {
    const now = Date.now()
    return (
      !closed &&
      now >= nextAttemptAt &&
      (lastAttemptAt === undefined || now - lastAttemptAt >= config.cooldownMs)
    )
  }

  const ready = refresh().then(() => {
    if (current === undefined) throw unavailable()
  })
  ready.catch(() => {
    // Observed by whoever awaits ready; unobserved it must not crash the process.
  })

  return {
    ready,
    async getKey(kid, alg) {
      if (!SUPPORTED_ALGORITHMS.has(alg)) return undefined
      let set = await usableSet()
      if (kid === undefined) return onlyKeyFor(set, alg)
      if (set.byKid.has(kid)) return keyFor(set, kid, alg)
      // Unknown kid: possibly a key rotated in since our fetch. One refetch per cooldown for
      // everybody, so a flood of random kids cannot turn into a flood of JWKS requests.
      if (inflight !== undefined) await inflight
      else if (mayRefetchForUnknownKid()) await refresh()
      else return undefined
      set = await usableSet()
      return keyFor(set, kid, alg)
    },
    peekKey(kid, alg) {
      const set = current
      // Exactly the cases where getKey answers from the fresh set without awaiting anything.
      if (set === undefined || Date.now() >= set.expiresAt || !SUPPORTED_ALGORITHMS.has(alg)) {
        return undefined
      }
      return kid === undefined ? onlyKeyFor(set, alg) : keyFor(set, kid, alg)
    },
    close() {
      closed = true
      closer.abort()
    },
    stats() {
      return {
        fetches,
        keyCount: current?.keys.length ?? 0,
        consecutiveFailures,
        ...(lastAttemptAt === undefined ? {} : { lastFetchAt: lastAttemptAt }),
        ...(lastSuccessAt === undefined ? {} : { lastSuccessAt }),
        ...(current === undefined ? {} : { expiresAt: current.expiresAt }),
        ...(lastError === undefined ? {} : { lastError: lastError.reason }),
      }
    },
  }
}

function keyFor(set: CachedSet, kid: string, alg: string): KeyObject | undefined {
  const entries = set.byKid.get(kid)
  if (entries === undefined) return undefined
  // A loop, not find(): this runs on every cache miss and a closure per call is garbage.
  for (const entry of entries) if (suits(entry, alg)) return entry.key
  return undefined
}

function onlyKeyFor(set: CachedSet, alg: string): KeyObject | undefined {
  const candidates = set.keys.filter((entry) => suits(entry, alg))
  return candidates.length === 1 ? candidates[0]?.key : undefined
}

function suits(entry: ImportedKey, alg: string): boolean {
  return (entry.algorithms as readonly string[]).includes(alg)
}

function indexByKid(keys: readonly ImportedKey[]): Map<string, ImportedKey[]> {
  const byKid = new Map<string, ImportedKey[]>()
  for (const entry of keys) {
    if (entry.kid === undefined) continue
    const list = byKid.get(entry.kid)
    if (list === undefined) byKid.set(entry.kid, [entry])
    else list.push(entry)
  }
  return byKid
}

interface ImportResult {
  keys: ImportedKey[]
  skipped: { kid: string | undefined; reason: SkippedKeyReason }[]
}

/**
 * Imports the usable signing keys of a JWK Set, each once, as a public KeyObject.
 *
 * A key is skipped (and reported) when it is not for signatures (`use`, `key_ops`), carries
 * private members, is not RSA or EC P-256/P-384/P-521, is RSA under 2048 bits, has an `alg` that
 * does not fit its type, cannot be imported, or repeats a kid already taken for one of its
 * algorithms (RFC 7517 §4.5 allows one kid for keys of different types; for the same type the
 * first wins, so every kid + alg resolves to exactly one key).
 *
 * @throws {KeySourceFetchError} `invalid_shape` when the document is not `{ keys: [...] }`.
 */
function importJwks(document: unknown): ImportResult {
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw new KeySourceFetchError('invalid_shape', 'JWKS is not a JSON object')
  }
  const { keys } = document as { keys?: unknown }
  if (!Array.isArray(keys)) {
    throw new KeySourceFetchError('invalid_shape', 'JWKS has no keys array')
  }
  const result: ImportResult = { keys: [], skipped: [] }
  const taken = new Set<string>()
  for (const jwk of keys as unknown[]) {
    const imported = importJwk(jwk)
    if ('reason' in imported) {
      result.skipped.push(imported)
      continue
    }
    if (imported.kid !== undefined) {
      const slots = imported.algorithms.map((alg) => `${alg} ${String(imported.kid)}`)
      if (slots.some((slot) => taken.has(slot))) {
        result.skipped.push({ kid: imported.kid, reason: 'duplicate_kid' })
        continue
      }
      for (const slot of slots) taken.add(slot)
    }
    result.keys.push(imported)
  }
  return result
}

function importJwk(
  value: unknown,
): ImportedKey | { kid: string | undefined; reason: SkippedKeyReason } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { kid: undefined, reason: 'invalid' }
  }
  const jwk = value as Record<string, unknown>
  const kid = typeof jwk.kid === 'string' ? jwk.kid : undefined
  const skip = (
    reason: SkippedKeyReason,
  ): { kid: string | undefined; reason: SkippedKeyReason } => ({
    kid,
    reason,
  })
  if (jwk.kid !== undefined && kid === undefined) return skip('invalid')
  // RFC 7517 §4.2, §4.3: a key meant for encryption must not verify signatures.
  if (jwk.use !== undefined && jwk.use !== 'sig') return skip('not_for_signatures')
  if (
    jwk.key_ops !== undefined &&
    (!Array.isArray(jwk.key_ops) || !(jwk.key_ops as unknown[]).includes('verify'))
  ) {
    return skip('not_for_signatures')
  }
  if (PRIVATE_MEMBERS.some((member) => member in jwk)) return skip('private_key')

  let algorithms: readonly RemoteKeyAlgorithm[]
  let publicJwk: JsonWebKey
  if (jwk.kty === 'RSA') {
    algorithms = RSA_ALGORITHMS
    publicJwk = { kty: 'RSA', n: jwk.n as string, e: jwk.e as string }
  } else if (
    jwk.kty === 'EC' &&
    typeof jwk.crv === 'string' &&
    jwk.crv in EC_ALGORITHM_BY_JWK_CURVE
  ) {
    algorithms = [EC_ALGORITHM_BY_JWK_CURVE[jwk.crv] as RemoteKeyAlgorithm]
    publicJwk = { kty: 'EC', crv: jwk.crv, x: jwk.x as string, y: jwk.y as string }
  } else {
    return skip('unsupported_type')
  }
  // RFC 7517 §4.4: a JWK that names its algorithm may be used with that algorithm only.
  if (jwk.alg !== undefined) {
    if (typeof jwk.alg !== 'string' || !(algorithms as readonly string[]).includes(jwk.alg)) {
      return skip('unsupported_alg')
    }
    algorithms = [jwk.alg as RemoteKeyAlgorithm]
  }
  const members: unknown[] = Object.values(publicJwk)
  if (members.some((member) => typeof member !== 'string' || member === '')) return skip('invalid')

  let key: KeyObject
  try {
    key = createPublicKey({ key: publicJwk, format: 'jwk' })
  } catch {
    return skip('invalid')
  }
  const bits = key.asymmetricKeyDetails?.modulusLength
  if (jwk.kty === 'RSA' && (bits === undefined || bits < MIN_RSA_BITS)) return skip('weak_key')
  return { kid, key, algorithms }
}

interface ResolvedOptions {
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
}

function resolveOptions(
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
  }
}
