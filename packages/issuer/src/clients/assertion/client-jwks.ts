// The public keys of clients that authenticate with private_key_jwt (RFC 7523 §2.2) and publish
// them at a `jwks_uri`: one core remote key set per URI (the guard's cache, written once),
// tuned for hostile input and fetched through the address-filtered fetch.

import type { KeyObject } from 'node:crypto'
import {
  checkBoolean,
  checkFunction,
  checkInteger,
  checkKnownKeys,
  checkNumber,
  checkObject,
  createRemoteKeySet,
  LOOPBACK_HOSTS,
  type OptionPath,
  type OptionTable,
  type RemoteKeySet,
  type RemoteKeySetEvent,
  type RemoteKeySetOptionsContext,
  SIGNATURE_ALGORITHMS,
} from '@ccflow/core'
import { LRUCache } from 'lru-cache'
import { TemporarilyUnavailableError } from '../../errors.js'
import { createAddressPolicy, createGuardedFetch } from './address-policy.js'

/** Defaults of {@link ClientJwksOptions}. */
export const CLIENT_JWKS_DEFAULTS: Readonly<{
  allowHttpLoopback: boolean
  timeoutMs: number
  maxResponseBytes: number
  cooldownSeconds: number
  staleForSeconds: number
  maxKeySets: number
}> = Object.freeze({
  allowHttpLoopback: false,
  timeoutMs: 5_000,
  maxResponseBytes: 64 * 1024,
  cooldownSeconds: 30,
  staleForSeconds: 3_600,
  maxKeySets: 1_000,
})

// Deliberately above core's 30 s (MIN_MAX_AGE_SECONDS): the guard fetches the one key set of
// its issuer, the issuer fetches one per client from URLs its clients chose, so a client
// answering `max-age=0` must not turn the issuer into its load generator.
const CLIENT_JWKS_MIN_MAX_AGE_SECONDS = 60

// What client assertions may be signed with (RFC 7523 §3, RFC 8037): RSA (PKCS#1 v1.5 and PSS),
// ECDSA and Ed25519, core's SIGNATURE_ALGORITHMS.
const CLIENT_KEY_ALGORITHM_SET: ReadonlySet<string> = new Set(SIGNATURE_ALGORITHMS)

/**
 * How the issuer fetches clients' `jwks_uri` documents. A `jwks_uri` is chosen by whoever
 * registered the client, so it is treated as hostile input: https only, public addresses only
 * unless allow-listed, small and slow answers refused. Durations name their unit.
 */
export interface ClientJwksOptions {
  /**
   * CIDR ranges the issuer may connect to although they are not public unicast addresses
   * (`['10.20.0.0/16', 'fd00:20::/32']`): loopback, private, link-local (the cloud metadata
   * service 169.254.169.254 included), unique-local, carrier-grade NAT and every other special
   * range are refused otherwise, also when a host name resolves to them.
   * @default [] (public unicast addresses only)
   */
  allowedAddresses?: string[] | undefined
  /**
   * Accepts a plain `http` `jwks_uri` on a loopback host (`localhost`, `127.0.0.1`, `[::1]`),
   * for local development. The loopback addresses must still be in `allowedAddresses`.
   * @default CLIENT_JWKS_DEFAULTS.allowHttpLoopback (false)
   */
  allowHttpLoopback?: boolean | undefined
  /**
   * Milliseconds before a `jwks_uri` request (connection, redirects and body) is abandoned
   * (1 to 60000).
   * @default CLIENT_JWKS_DEFAULTS.timeoutMs (5000)
   */
  timeoutMs?: number | undefined
  /**
   * Largest `jwks_uri` response body accepted, in bytes (1024 to 16777216).
   * @default CLIENT_JWKS_DEFAULTS.maxResponseBytes (65536)
   */
  maxResponseBytes?: number | undefined
  /**
   * Minimum seconds between two fetches of one `jwks_uri` triggered by an unknown `kid` (or a
   * failed fetch) (1 to 86400).
   * @default CLIENT_JWKS_DEFAULTS.cooldownSeconds (30)
   */
  cooldownSeconds?: number | undefined
  /**
   * Seconds the last good keys of a `jwks_uri` are still used after they went stale while the
   * URI fails (0 to 604800).
   * @default CLIENT_JWKS_DEFAULTS.staleForSeconds (3600)
   */
  staleForSeconds?: number | undefined
  /**
   * Most `jwks_uri` key sets kept at once; the least recently used one is dropped (and closed)
   * beyond it (1 to 100000).
   * @default CLIENT_JWKS_DEFAULTS.maxKeySets (1000)
   */
  maxKeySets?: number | undefined
}

const CLIENT_JWKS_OPTIONS = {
  allowedAddresses: true,
  allowHttpLoopback: true,
  timeoutMs: true,
  maxResponseBytes: true,
  cooldownSeconds: true,
  staleForSeconds: true,
  maxKeySets: true,
} satisfies OptionTable<ClientJwksOptions>

/** The keys of clients that publish them at a `jwks_uri`. */
export interface ClientKeySets {
  /**
   * The key that verifies a client assertion signed with `alg` under `kid`, from the client's
   * `jwks_uri`.
   *
   * - Resolves undefined when `alg` is not RS/PS/ES 256–512 or EdDSA, when the key set has no
   *   key for `kid` and `alg` (after at most one refetch per cooldown for an unknown kid), or,
   *   without `kid`, when not exactly one key suits `alg`: the caller answers `invalid_client`.
   * - Rejects with {@link TemporarilyUnavailableError} (`dependency: 'client_jwks'`, 503) when
   *   no key set can be had: the URI failed (refused address, timeout, too large, HTTP error,
   *   no usable key) and no keys fetched within `staleForSeconds` are left. The cause chain
   *   holds core's `KeySetUnavailableError` (with `retryAfter`) and the precise failure.
   * - Rejects with the same 503 when `jwksUri` fails {@link checkClientJwksUri} (an http URI
   *   while `allowHttpLoopback` is off): the record is fine for the store but this endpoint may
   *   not fetch it, so the key cannot be had. The TypeError saying why is the cause, for the
   *   `server_error` event; nothing is fetched.
   */
  getKey(jwksUri: string, kid: string | undefined, alg: string): Promise<KeyObject | undefined>
  /** Closes every key set (aborting fetches in flight) and the connection pool. */
  close(): void
}

/**
 * Checks a client's `jwks_uri`: an absolute `https` URL, or `http` on a loopback host
 * (`localhost`, `127.0.0.1`, `[::1]`) when `allowHttpLoopback`; without credentials or fragment.
 *
 * @param where - names the value in messages (a record's field when the store loads it).
 * @returns the parsed URL.
 * @throws {TypeError} `<where> must …` saying what is wrong.
 * @see RFC 7591 §2 (`jwks_uri`), RFC 9700 §4.1 (TLS)
 */
export function checkClientJwksUri(
  value: unknown,
  allowHttpLoopback: boolean,
  where = 'jwks_uri',
): URL {
  if (typeof value !== 'string' || value === '') {
    throw new TypeError(`${where} must be a non-empty URL string`)
  }
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new TypeError(`${where} must be an absolute URL`)
  }
  if (url.protocol === 'http:') {
    if (!allowHttpLoopback) throw new TypeError(`${where} must use https`)
    if (!LOOPBACK_HOSTS.has(url.hostname)) {
      throw new TypeError(
        `${where} must use https (plain http is allowed only for localhost, 127.0.0.1 and [::1])`,
      )
    }
  } else if (url.protocol !== 'https:') {
    throw new TypeError(`${where} must use https`)
  }
  if (url.username !== '' || url.password !== '') {
    throw new TypeError(`${where} must not contain credentials`)
  }
  if (url.hash !== '') throw new TypeError(`${where} must not contain a fragment`)
  return url
}

/**
 * Creates the cache of clients' `jwks_uri` key sets: one core remote key set per distinct URI,
 * created at its first use and fetched through an address-filtered connection, at most
 * `maxKeySets` of them (least recently used dropped first).
 *
 * Per URI: requests time out after `timeoutMs` and bodies over `maxResponseBytes` are refused;
 * keys are cached for the response's `Cache-Control: max-age` bounded to 60 s – 24 h (600 s
 * without one); an unknown `kid` refetches at most once per `cooldownSeconds`; while the URI
 * fails, the last good keys serve for `staleForSeconds`, then `getKey` answers 503. Keys may be
 * RSA (2048 bits or more), EC P-256/P-384/P-521 or Ed25519; keys with private members or
 * `use: "enc"` are skipped (and reported to `onEvent`).
 *
 * @example
 * ```ts
 * const clientKeys = createClientKeySets({ allowedAddresses: ['10.20.0.0/16'] }, (e) => log(e))
 * const key = await clientKeys.getKey(client.jwks_uri, header.kid, header.alg)
 * if (key === undefined) throw new InvalidClientError()
 * ```
 * @param onEvent - the remote key sets' events (fetches, failures, skipped keys), each with its
 *   `jwksUri`; never awaited, a throw is swallowed.
 * @param context - who checks the options, for the messages (`tokenEndpoint` passes its name and
 *   the path of these options).
 * @throws {TypeError} `<where>: option "<path>" …` for an unknown option or a bad value.
 * @see RFC 7523 §2.2 and §3, RFC 7517 §5
 */
export function createClientKeySets(
  options: ClientJwksOptions | undefined,
  onEvent?: (event: RemoteKeySetEvent & { jwksUri: string }) => void,
  context: RemoteKeySetOptionsContext = { where: 'createClientKeySets', prefix: '' },
): ClientKeySets {
  const { where, prefix } = context
  const input = options === undefined ? {} : options
  checkObject(input, where, prefix === '' ? '' : prefix.slice(0, -1))
  checkKnownKeys(input, CLIENT_JWKS_OPTIONS, where, prefix)
  const at = (name: string): OptionPath => ({ where, path: prefix + name })
  const d = CLIENT_JWKS_DEFAULTS
  const policy = createAddressPolicy(input.allowedAddresses, at('allowedAddresses'))
  const allowHttpLoopback = checkBoolean(
    input.allowHttpLoopback,
    at('allowHttpLoopback'),
    d.allowHttpLoopback,
  )
  const tuning = {
    timeoutMs: checkInteger(input.timeoutMs, at('timeoutMs'), { min: 1, max: 60_000 }, d.timeoutMs),
    maxResponseBytes: checkInteger(
      input.maxResponseBytes,
      at('maxResponseBytes'),
      { min: 1024, max: 16 * 1024 * 1024 },
      d.maxResponseBytes,
    ),
    cooldownSeconds: checkNumber(
      input.cooldownSeconds,
      at('cooldownSeconds'),
      { min: 1, max: 86_400 },
      d.cooldownSeconds,
    ),
    staleForSeconds: checkNumber(
      input.staleForSeconds,
      at('staleForSeconds'),
      { min: 0, max: 7 * 86_400 },
      d.staleForSeconds,
    ),
  }
  const maxKeySets = checkInteger(
    input.maxKeySets,
    at('maxKeySets'),
    { min: 1, max: 100_000 },
    d.maxKeySets,
  )
  checkFunction(onEvent, { where, path: 'onEvent' })

  const fetch = createGuardedFetch(policy)
  const sets = new LRUCache<string, RemoteKeySet>({
    max: maxKeySets,
    // An evicted set aborts its fetch in flight; a caller waiting on it gets a 503 and retries.
    dispose: (set) => set.close(),
  })
  let closed = false

  const keySetFor = (jwksUri: string): RemoteKeySet => {
    let set = sets.get(jwksUri)
    if (set === undefined) {
      set = createRemoteKeySet(
        {
          jwksUri,
          ...tuning,
          algorithms: SIGNATURE_ALGORITHMS,
          minCacheMaxAgeSeconds: CLIENT_JWKS_MIN_MAX_AGE_SECONDS,
          fetch,
          lazy: true,
          onEvent: onEvent && ((event) => onEvent({ ...event, jwksUri })),
          unavailableError: (error) =>
            new TemporarilyUnavailableError('client_jwks', {
              cause: error,
              retryAfter: error.retryAfter,
            }),
        },
        context,
      )
      sets.set(jwksUri, set)
    }
    return set
  }

  return {
    async getKey(jwksUri, kid, alg) {
      if (closed) {
        throw new TemporarilyUnavailableError('client_jwks', {
          cause: new Error('the client key sets are closed'),
        })
      }
      let url: URL
      try {
        url = checkClientJwksUri(jwksUri, allowHttpLoopback)
      } catch (error) {
        throw new TemporarilyUnavailableError('client_jwks', { cause: error })
      }
      if (!CLIENT_KEY_ALGORITHM_SET.has(alg)) return undefined
      return keySetFor(url.href).getKey(kid, alg)
    },
    close() {
      if (closed) return
      closed = true
      sets.clear()
      void fetch.close()
    },
  }
}
