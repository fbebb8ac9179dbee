import { isPlainObject } from '@ccflow/core'
import { LRUCache } from 'lru-cache'
import { type CacheKeyParts, cacheKey } from './cache/cache-key.js'
import { jwtExpiry, tokenDeadlines } from './cache/deadlines.js'
import { TransportError } from './errors.js'
import { fetchWithToken } from './fetch-with-token.js'
import { isObserved, type TokenSource } from './events.js'
import { createEndpointResolver } from './http/discovery.js'
import {
  beginFetchTrace,
  endFetchTrace,
  isAcquisitionObserved,
  outcomeOf,
  publishAcquisition,
} from './observability/fetch-trace.js'
import { raceSignal } from './race-signal.js'
import { requestToken, type Throttle } from './http/request-token.js'
import {
  type ResolvedGetToken,
  resolveGetToken,
  resolveOptions,
  resolveResource,
  resolveScope,
  type TokenClientConfig,
} from './options/resolve.js'
import type { GetTokenOptions, TokenClientOptions } from './options/types.js'
import { type FlightResult, type FlightToken, sharedFlight } from './store/shared-flight.js'
import type { StoredToken } from './store/token-store.js'

/** A token as `getToken()` hands it out. */
export interface AccessToken {
  /** The access token, for `Authorization: <type> <value>`. */
  readonly value: string
  /** The token type: `Bearer`, or `DPoP` (the client makes no DPoP proofs; add your own). */
  readonly type: 'Bearer' | 'DPoP'
  /**
   * When the token expires, in epoch milliseconds (counted from when the request was sent);
   * `undefined` when the server gave no lifetime and the token is no JWT (it is not cached).
   */
  readonly expiresAt: number | undefined
  /** The granted scope: the server's `scope`, else the requested one; `undefined` if neither. */
  readonly scope: string | undefined
  /** Where this token came from; see {@link TokenSource}. */
  readonly source: TokenSource
}

/** What `inspect()` tells about one cache key: never the token. */
export interface TokenCacheEntry {
  /** The cache key (a hash), as events name it. */
  readonly key: string
  /** The requested scope tokens, sorted. */
  readonly scope: readonly string[]
  /** The requested resource indicators, sorted. */
  readonly resource: readonly string[]
  /** Epoch milliseconds; `undefined` when no token is cached for the key. */
  readonly expiresAt: number | undefined
  /** Epoch milliseconds: from when a background refresh starts. */
  readonly refreshAt: number | undefined
  /** Epoch milliseconds: from when callers wait for a new token. */
  readonly hardExpiry: number | undefined
  /** Epoch milliseconds: a `Retry-After` in force until then, if any. */
  readonly throttledUntil: number | undefined
  /** Whether a token request for the key is running. */
  readonly refreshing: boolean
}

/** What `invalidate()` drops: a token value, the token of a scope/resource, or everything. */
export type InvalidateTarget = string | Pick<GetTokenOptions, 'scope' | 'resource'>

/** A token client; see {@link createTokenClient}. */
export interface TokenClient {
  /**
   * A token for the client's scope and resource (or this call's): from the cache at once while
   * it is fresh, and also between its `refreshAt` and `hardExpiry` (a background refresh then
   * starts); otherwise from one token request that every concurrent caller shares.
   *
   * @throws {OAuthError} the server refused the request (`invalid_client`, `invalid_scope`, …).
   * @throws {ThrottledError} the server asked to wait longer than the client may.
   * @throws {TransportError} no valid answer within the deadline.
   * @throws {TypeError} for a bad option of this call.
   */
  getToken(options?: GetTokenOptions): Promise<AccessToken>
  /**
   * `fetch()` with `Authorization: <type> <token>` added. When the answer is 401 with
   * `WWW-Authenticate: … error="invalid_token"`, the token is dropped (only if it is still the
   * cached one) and the request is sent once more with a new token, when its body can be sent
   * twice; otherwise the 401 is returned.
   */
  fetch(
    input: string | URL | Request,
    init?: RequestInit,
    options?: GetTokenOptions,
  ): Promise<Response>
  /**
   * Drops cached tokens, here and in the shared store (compare-and-delete: a newer token that
   * replaced it stays): the token with this value, the token of this scope/resource, or every
   * token when called without argument. `Retry-After` waits stay in force.
   */
  invalidate(target?: InvalidateTarget): Promise<void>
  /** The cache keys with their scope, resource and deadlines; never a token value. */
  inspect(): TokenCacheEntry[]
  /**
   * Stops the client: running requests are aborted, waiting callers and later calls reject with
   * a `TransportError` (`closed`), the cache is emptied.
   */
  close(): Promise<void>
}

/** A token in the cache, with its deadlines. */
interface CachedToken extends StoredToken {
  /** The object handed to callers that read it from the cache. */
  readonly view: AccessToken
}

/** Everything the client keeps about one cache key. */
interface KeyState {
  readonly scope: readonly string[]
  readonly resource: readonly string[]
  token: CachedToken | undefined
  throttle: Throttle | undefined
  /** Epoch milliseconds: no background refresh before then (after one failed). */
  refreshNotBefore: number
}

// After a failed background refresh (its retries spent), the next one waits this long: the
// cached token is still valid, and a down server should not get a request per call.
const REFRESH_RETRY_MS = 5000

/**
 * Creates a token client for the OAuth 2.0 client credentials grant (RFC 6749 §4.4): it gets
 * tokens from any RFC 6749 token endpoint, caches them per scope and resource with two deadlines
 * (a refresh ahead of expiry that callers do not wait for, a hard expiry after which they do),
 * makes one request per key for all concurrent callers, retries what is worth retrying, and can
 * share tokens across a fleet through a store.
 *
 * @example
 * ```ts
 * const tokens = createTokenClient({
 *   issuer: 'https://auth.internal',
 *   clientId: 'billing',
 *   clientSecret: process.env.CLIENT_SECRET,
 *   scope: 'reports:read',
 *   resource: 'https://api.internal',
 * })
 * const { value } = await tokens.getToken()
 * const response = await tokens.fetch('https://api.internal/reports')
 * ```
 * @throws {TypeError} `createTokenClient: …` for an unknown or malformed option.
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.4
 */
export function createTokenClient(options: TokenClientOptions): TokenClient {
  const config = resolveOptions(options)
  const closing = new AbortController()
  const resolveEndpoint = createEndpointResolver(config, closing.signal)
  const states = new LRUCache<string, KeyState>({ max: config.maxEntries })
  const flights = new Map<string, Promise<FlightResult>>()
  const defaultKey = keyFor(config, config.scope, config.resource)
  // The scope and resource inputs of earlier calls, resolved, with their key: a call that names
  // a scope pays for its parsing and hashing once, not on every cache hit.
  const requests = new LRUCache<
    string,
    { scope: readonly string[]; resource: readonly string[]; key: string }
  >({
    max: config.maxEntries,
  })

  function requestFor(options: GetTokenOptions | undefined): {
    call: ResolvedGetToken
    key: string
  } {
    if (options === undefined) return { call: resolveGetToken(undefined, config), key: defaultKey }
    // Only a plain object gets here with its scope and resource read; anything else is refused
    // by resolveGetToken. A memo entry is only made by inputs that resolved without error.
    const input = isPlainObject(options) ? JSON.stringify([options.scope, options.resource]) : ''
    const known = requests.get(input)
    const call = resolveGetToken(options, config, known)
    if (known !== undefined) return { call, key: known.key }
    const key = keyFor(config, call.scope, call.resource)
    requests.set(input, { scope: call.scope, resource: call.resource, key })
    return { call, key }
  }

  function stateFor(key: string, call: ResolvedGetToken): KeyState {
    let state = states.get(key)
    if (state === undefined) {
      state = {
        scope: call.scope,
        resource: call.resource,
        token: undefined,
        throttle: undefined,
        refreshNotBefore: 0,
      }
      states.set(key, state)
    }
    return state
  }

  function startFlight(
    key: string,
    call: ResolvedGetToken,
    background: boolean,
  ): Promise<FlightResult> {
    const deadline = new AbortController()
    const timer = setTimeout(() => {
      deadline.abort(
        new TransportError('deadline', `no token within ${config.deadlineMs} ms`, {
          retryable: true,
        }),
      )
    }, config.deadlineMs)
    // The deadline only ever cuts a request short; it never keeps a process alive.
    timer.unref()
    const signal = AbortSignal.any([deadline.signal, closing.signal])
    const current = (): KeyState => stateFor(key, call)
    const deadlineAt = Date.now() + config.deadlineMs
    const fromNetwork = async (): Promise<FlightToken> => {
      const trace = beginFetchTrace(key, background)
      let answer: Awaited<ReturnType<typeof requestToken>>
      try {
        answer = await requestToken({
          config,
          key,
          resolveEndpoint,
          scope: call.scope,
          resource: call.resource,
          signal,
          deadlineAt,
          getThrottle: () => current().throttle,
          setThrottle: (throttle) => {
            current().throttle = throttle
          },
          trace,
        })
      } catch (error) {
        endFetchTrace(trace, error)
        throw error
      }
      endFetchTrace(trace)
      const { token, sentAt } = answer
      const expiresAt =
        token.expiresIn === undefined ? jwtExpiry(token.value) : sentAt + token.expiresIn * 1000
      const scope = token.scope ?? (call.scope.length > 0 ? call.scope.join(' ') : undefined)
      const deadlines = expiresAt === undefined ? undefined : tokenDeadlines(sentAt, expiresAt)
      return {
        value: token.value,
        type: token.type,
        scope,
        expiresAt,
        refreshAt: deadlines?.refreshAt,
        // A token that is no longer usable (a lifetime of 5 s or less) is handed to the callers
        // waiting now and neither cached nor stored.
        hardExpiry:
          deadlines !== undefined && deadlines.hardExpiry > Date.now()
            ? deadlines.hardExpiry
            : undefined,
      }
    }
    const obtained: Promise<FlightResult> =
      config.store === undefined
        ? fromNetwork().then((token) => ({ token, source: 'network' }))
        : sharedFlight({
            store: config.store,
            key,
            fromNetwork,
            signal,
            deadlineAt,
            minTtlMs: call.minTtlMs,
            background,
            emit: config.emit,
          })
    const flight = obtained
      .then((result): FlightResult => {
        const { token } = result
        if (token.hardExpiry !== undefined && !closing.signal.aborted) {
          current().token = toCached(token as StoredToken)
        }
        return result
      })
      .catch((error: unknown) => {
        if (background) current().refreshNotBefore = Date.now() + REFRESH_RETRY_MS
        config.emit({ type: 'failed', key, background, error: error as TransportError })
        throw error
      })
      .finally(() => {
        clearTimeout(timer)
        if (flights.get(key) === flight) flights.delete(key)
      })
    // A background refresh has nobody waiting: its failure is the `failed` event, never an
    // unhandled rejection.
    flight.catch(() => {})
    flights.set(key, flight)
    return flight
  }

  async function getToken(options?: GetTokenOptions): Promise<AccessToken> {
    if (closing.signal.aborted) throw closing.signal.reason as Error
    const { call, key } = requestFor(options)
    const state = stateFor(key, call)
    const token = state.token
    const now = Date.now()
    if (token !== undefined && now < token.hardExpiry && token.expiresAt - now >= call.minTtlMs) {
      if (now >= token.refreshAt) refreshInBackground(key, state, call, now)
      if (isObserved(config.emit)) {
        config.emit({ type: 'acquired', key, source: 'cache', expiresAt: token.expiresAt })
      }
      if (isAcquisitionObserved()) publishAcquisition(key, 'cache', 'success')
      return token.view
    }
    let flight = flights.get(key)
    let source: TokenSource = 'coalesced'
    if (flight === undefined) {
      flight = startFlight(key, call, false)
      source = 'network'
    }
    let result: FlightResult
    try {
      result = await raceSignal(flight, call.signal)
    } catch (error) {
      publishAcquisition(key, source, outcomeOf(error))
      throw error
    }
    if (result.source === 'store') source = 'store'
    publishAcquisition(key, source, 'success')
    const { value, type, expiresAt, scope } = result.token
    config.emit({ type: 'acquired', key, source, expiresAt })
    return { value, type, expiresAt, scope, source }
  }

  function refreshInBackground(
    key: string,
    state: KeyState,
    call: ResolvedGetToken,
    now: number,
  ): void {
    if (flights.has(key) || now < state.refreshNotBefore) return
    if (state.throttle !== undefined && now < state.throttle.until) return
    config.emit({
      type: 'refresh_started',
      key,
      expiresAt: (state.token as CachedToken).expiresAt,
    })
    void startFlight(key, call, true)
  }

  /**
   * Drops the token of `key` (only while it is `value`, when given) here and in the store,
   * where the delete compares too, so a newer token another process stored stays.
   */
  async function dropToken(key: string, value?: string): Promise<void> {
    const state = states.peek(key)
    const cached = state?.token
    if (state === undefined || cached === undefined) return
    if (value !== undefined && cached.value !== value) return
    state.token = undefined
    if (config.store === undefined) return
    try {
      await config.store.delete(key, cached.value)
    } catch (error) {
      config.emit({ type: 'store_error', key, operation: 'delete', error })
    }
  }

  return {
    getToken,
    fetch(input, init, options) {
      return fetchWithToken(
        {
          getToken,
          dropToken(token, options) {
            return dropToken(requestFor(options).key, token.value)
          },
          fetch: config.fetch,
          dispatcher: config.dispatcher,
        },
        input,
        init,
        options,
      )
    },
    async invalidate(target) {
      if (target === undefined || typeof target === 'string') {
        await Promise.all([...states.keys()].map((key) => dropToken(key, target)))
        return
      }
      const where = 'invalidate'
      const scope =
        target.scope === undefined
          ? config.scope
          : resolveScope(target.scope, { where, path: 'scope' })
      const resource =
        target.resource === undefined
          ? config.resource
          : resolveResource(target.resource, { where, path: 'resource' })
      await dropToken(keyFor(config, scope, resource))
    },
    inspect() {
      return [...states.entries()].map(([key, state]) => ({
        key,
        scope: state.scope,
        resource: state.resource,
        expiresAt: state.token?.expiresAt,
        refreshAt: state.token?.refreshAt,
        hardExpiry: state.token?.hardExpiry,
        throttledUntil: state.throttle?.until,
        refreshing: flights.has(key),
      }))
    },
    close() {
      if (!closing.signal.aborted) {
        closing.abort(
          new TransportError('closed', 'the token client is closed', { retryable: false }),
        )
        states.clear()
        flights.clear()
      }
      return Promise.resolve()
    },
  }
}

function toCached(token: StoredToken): CachedToken {
  const view: AccessToken = Object.freeze({
    value: token.value,
    type: token.type,
    expiresAt: token.expiresAt,
    scope: token.scope,
    source: 'cache',
  })
  return Object.freeze({ ...token, view })
}

function keyFor(
  config: TokenClientConfig,
  scope: readonly string[],
  resource: readonly string[],
): string {
  const parts: CacheKeyParts = {
    endpoint: config.endpointId,
    clientId: config.clientId,
    authMethod: config.auth.method,
    credential: config.auth.fingerprint,
    scope,
    resource,
    params: config.params,
  }
  return cacheKey(parts)
}
