import { createHash } from 'node:crypto'
import type { Request, RequestHandler, Response } from 'express'
import { rateLimit, type Options, type RateLimitInfo, type Store } from 'express-rate-limit'
import type { EmitEvent } from '../events.js'
import { errorBody, sendJson } from './respond.js'
import type { TokenEndpointConfig } from '../options/resolve.js'
import { stateOf } from './request-state.js'
import { recordOutcome } from '../observability/request-trace.js'

/**
 * The 429 body. RFC 6749 defines no error code for rate limiting: `slow_down` belongs to the
 * device flow (RFC 8628 §3.5, "increase your polling interval") and `temporarily_unavailable` to
 * the authorization endpoint, so clients could misread either. RFC 6749 §8.5 allows extension
 * codes; `too_many_requests` names the HTTP status, and well-behaved clients treat an unknown
 * `error` as a plain failure and honour `Retry-After`.
 */
export const TOO_MANY_REQUESTS_BODY: string = errorBody(
  'too_many_requests',
  'Too many requests. Retry after the number of seconds in the Retry-After header.',
)

// Our own property names, so that an app-level limiter's `req.rateLimit` is left alone.
const FAILURES_PROPERTY = 'ccflowFailureLimit'
const ISSUANCE_PROPERTY = 'ccflowIssuanceLimit'

/**
 * The per-IP limiter that counts failed client authentications only. Placed before
 * authentication: every request is counted when it arrives and uncounted when it ends with
 * anything but 401, so successes, 400s and the 429s themselves never use up the budget.
 *
 * The key is express-rate-limit's default: `ipKeyGenerator(req.ip, ipv6Subnet)` (an IPv6 client
 * is keyed by its /56, since one host owns a whole block) with express-rate-limit's checks of
 * the app's `trust proxy` setting (ERR_ERL_PERMISSIVE_TRUST_PROXY,
 * ERR_ERL_UNEXPECTED_X_FORWARDED_FOR). `req.ip` follows the app's `trust proxy`.
 *
 * @returns The middleware, or `undefined` when turned off.
 * @internal
 */
export function createFailureLimiter(
  config: TokenEndpointConfig,
  emit: EmitEvent,
): RequestHandler | undefined {
  const options = config.rateLimit.failures
  if (options === false) return undefined
  const settings = { windowMs: 15 * 60 * 1000, limit: 20, identifier: 'failures', ...options }
  return createLimiter('failures', FAILURES_PROPERTY, settings, emit, {
    skipSuccessfulRequests: true,
    skipFailedRequests: false,
    requestWasSuccessful: (_req: Request, res: Response) => res.statusCode !== 401,
  })
}

/**
 * The per-client issuance quota, keyed by the authenticated client id. Placed after
 * authentication, so an unauthenticated caller cannot spend a client's quota.
 *
 * @returns The middleware, or `undefined` when turned off.
 * @internal
 */
export function createIssuanceLimiter(
  config: TokenEndpointConfig,
  emit: EmitEvent,
): RequestHandler | undefined {
  const options = config.rateLimit.issuance
  if (options === false) return undefined
  const settings = { windowMs: 60 * 1000, limit: 600, identifier: 'issuance', ...options }
  return createLimiter('issuance', ISSUANCE_PROPERTY, settings, emit, {
    keyGenerator: (req: Request) => `client:${stateOf(req)?.client?.client_id ?? ''}`,
  })
}

type LimiterSettings = Readonly<Partial<Options>> & {
  windowMs: number
  identifier: Options['identifier']
}

/**
 * One express-rate-limit instance: our defaults, then the endpoint's options for this limiter
 * (`settings`), its store wrapped to report failures, then what this limiter fixes (`fixed`),
 * our own request property and 429 handler.
 */
function createLimiter(
  limiter: 'failures' | 'issuance',
  property: string,
  settings: LimiterSettings,
  emit: EmitEvent,
  fixed: Partial<Options>,
): RequestHandler {
  return withPinnedIp(
    rateLimit({
      // RateLimit headers go on 429 answers only unless standardHeaders is given: see
      // setRefusalHeaders.
      standardHeaders: false,
      legacyHeaders: false,
      // Fail open: a rate-limit store outage must not take token issuance down with it. The
      // error is logged through `logger`; `passOnStoreError: false` answers 503 instead.
      passOnStoreError: true,
      ...settings,
      ...observedStore(settings, limiter, emit),
      ...fixed,
      requestPropertyName: property,
      handler: createHandler(limiter, property, emit, settings),
    } satisfies Partial<Options>),
  )
}

/**
 * Runs `limiter` with `req.ip` read once for the rest of the request. Express computes `req.ip`
 * on every read (proxy-addr over the socket address and X-Forwarded-For, under the app's
 * `trust proxy` setting), and express-rate-limit 8 reads it up to three times per call: its
 * debug line evaluates `request.ip` even when debugging is off, and its default key generator
 * reads it twice. Within one request the value cannot change (same socket, same headers, same
 * app setting), so the first read is kept as a read-only own property, as Express's getter is.
 * Measured in the token endpoint's profile with both limiters: about 5 µs per read, 4 reads.
 */
function withPinnedIp(limiter: RequestHandler): RequestHandler {
  return (req, res, next) => {
    if (!Object.hasOwn(req, 'ip')) {
      Object.defineProperty(req, 'ip', { value: req.ip, enumerable: true, configurable: true })
    }
    return limiter(req, res, next)
  }
}

/**
 * express-rate-limit's draft-8 partition key of a limiter key: the base64 of the first 12 hex
 * digits of its SHA-256, so that the headers written here read exactly as its own.
 */
function partitionKey(key: string): string {
  const hex = createHash('sha256').update(key).digest('hex').slice(0, 12)
  return Buffer.from(hex).toString('base64')
}

/**
 * The IETF draft-8 `RateLimit` and `RateLimit-Policy` headers of a 429 answer, in
 * express-rate-limit's format.
 *
 * Why by hand: with `standardHeaders: 'draft-8'` express-rate-limit writes them on every
 * response, and on a token endpoint that is most of what its two limiters cost (a SHA-256 and two
 * `res.append` per limiter per request). A client needs them when it is refused; a successful
 * token response says nothing a client acts on. Setting `standardHeaders` brings back
 * express-rate-limit's own behaviour (headers on every response).
 */
async function setRefusalHeaders(
  req: Request,
  res: Response,
  info: RateLimitInfo,
  settings: LimiterSettings,
): Promise<void> {
  const { identifier, windowMs } = settings
  const name = typeof identifier === 'function' ? await identifier(req, res) : identifier
  const reset = info.resetTime?.getTime()
  const seconds =
    reset === undefined
      ? Math.ceil(windowMs / 1000)
      : Math.max(0, Math.ceil((reset - Date.now()) / 1000))
  const pk = partitionKey(info.key)
  res.append('RateLimit', `"${name}"; r=${info.remaining}; t=${seconds}`)
  res.append(
    'RateLimit-Policy',
    `"${name}"; q=${info.limit}; w=${Math.ceil(windowMs / 1000)}; pk=:${pk}:`,
  )
  if (settings.retryAfter !== undefined && !res.hasHeader('Retry-After')) {
    const { retryAfter } = settings
    const after = typeof retryAfter === 'function' ? await retryAfter(req, res) : retryAfter
    res.setHeader('Retry-After', String(after))
  }
}

function createHandler(
  limiter: 'failures' | 'issuance',
  property: string,
  emit: EmitEvent,
  settings: LimiterSettings,
): Options['handler'] {
  const refusalHeaders = settings.standardHeaders === undefined
  const refuse = async (req: Request, res: Response): Promise<void> => {
    const state = stateOf(req)
    const clientId = state?.client?.client_id
    recordOutcome(state, 'too_many_requests')
    emit({
      type: 'rate_limited',
      limiter,
      ...(clientId === undefined ? {} : { clientId }),
      ip: req.ip,
    })
    const info = (req as unknown as Record<string, RateLimitInfo | undefined>)[property]
    if (refusalHeaders && info !== undefined) await setRefusalHeaders(req, res, info, settings)
    // express-rate-limit sets Retry-After only when some rate-limit headers are on; a 429
    // always carries it here (RFC 6585 §4).
    if (!res.hasHeader('Retry-After')) {
      const reset = info?.resetTime?.getTime()
      const seconds = reset === undefined ? 60 : Math.max(1, Math.ceil((reset - Date.now()) / 1000))
      res.setHeader('Retry-After', String(seconds))
    }
    sendJson(res, 429, TOO_MANY_REQUESTS_BODY)
  }
  // An identifier or retryAfter function that throws reaches the endpoint's error handler.
  return (req, res, next) => {
    refuse(req, res).catch(next)
  }
}

// One observing wrapper per store: express-rate-limit refuses a store shared by two limiters
// (ERR_ERL_STORE_REUSE) by its identity, which a new wrapper per limiter would hide.
const observed = new WeakMap<object, Store>()

/**
 * The limiter's own store, wrapped so that a failure the limiter passes over is reported as a
 * `store_error` event: an `increment` that throws while the limiter fails open
 * (`passOnStoreError`, on by default; failing closed answers 503, reported as `server_error`),
 * and any `decrement` that throws (express-rate-limit only logs it). express-rate-limit calls the
 * store with a key only, so the event names no request. The default memory store never fails
 * and is left alone, as is a legacy callback store (`incr`).
 */
function observedStore(
  options: Partial<Options>,
  limiter: 'failures' | 'issuance',
  emit: EmitEvent,
): { store?: Store } {
  const store = options.store as Store | undefined
  if (store === undefined || typeof store.increment !== 'function') return {}
  const known = observed.get(store)
  if (known !== undefined) return { store: known }
  const failOpen = options.passOnStoreError !== false
  const report = (error: unknown): void => {
    emit({ type: 'store_error', store: 'rate_limit', limiter, error, ip: undefined })
  }
  const increment: Store['increment'] = async (key) => {
    try {
      return await store.increment(key)
    } catch (error) {
      if (failOpen) report(error)
      throw error
    }
  }
  const decrement: Store['decrement'] = async (key) => {
    try {
      await store.decrement(key)
    } catch (error) {
      report(error)
      throw error
    }
  }
  const wrapper = new Proxy(store, {
    get(target, property) {
      if (property === 'increment') return increment
      if (property === 'decrement') return decrement
      const value: unknown = Reflect.get(target, property, target)
      // A store's own methods run on the store itself (private fields, bound state).
      return typeof value === 'function' && property !== 'constructor'
        ? (value as (...args: unknown[]) => unknown).bind(target)
        : value
    },
  })
  observed.set(store, wrapper)
  return { store: wrapper }
}
