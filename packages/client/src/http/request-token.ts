import { beginPhase, endPhase } from '@ccflow/core'
import { ThrottledError, type TokenClientError, type TransportError } from '../errors.js'
import type { TokenClientConfig } from '../options/resolve.js'
import { sleep } from '../sleep.js'
import { backoffDelay } from './backoff.js'
import type { EndpointResolver } from './discovery.js'
import type { TokenFetchMessage } from '../observability/channels.js'
import { type AttemptOutcome, sendTokenRequest } from './send-token-request.js'
import type { TokenResponse } from './token-response.js'

/** A `Retry-After` in force for one cache key. */
export interface Throttle {
  /** Epoch milliseconds before which no request is sent. */
  readonly until: number
  readonly status: number
}

/** Everything one token request with retries needs. */
export interface RequestTokenContext {
  readonly config: TokenClientConfig
  /** The cache key, for events and the throttle. */
  readonly key: string
  readonly resolveEndpoint: EndpointResolver
  readonly scope: readonly string[]
  readonly resource: readonly string[]
  /** Aborted at the deadline or on close(), with a TransportError as its reason. */
  readonly signal: AbortSignal
  /** Epoch milliseconds: the request's deadline. */
  readonly deadlineAt: number
  readonly getThrottle: () => Throttle | undefined
  readonly setThrottle: (throttle: Throttle) => void
  /** The request's trace, when anything listens to the token-fetch channels. */
  readonly trace?: TokenFetchMessage | undefined
}

/**
 * Requests a token (RFC 6749 §4.4.2) with retries: after a network failure, a 429 or a 500, 502,
 * 503 or 504, at most `maxRetries` more attempts, each with a new client assertion, after a
 * full-jitter backoff or the server's `Retry-After`. A `Retry-After` longer than
 * `maxRetryAfterSeconds`, or one that would end past the deadline, fails at once with a
 * {@link ThrottledError}; it is remembered for the key, so later requests wait for it too.
 *
 * @throws {TokenClientError} the last attempt's error (OAuth errors at once, never retried).
 */
export async function requestToken(
  context: RequestTokenContext,
): Promise<{ token: TokenResponse; sentAt: number }> {
  const { config, key, signal } = context
  await waitForThrottle(context)
  for (let attempts = 1; ; attempts++) {
    const phase = context.trace === undefined ? undefined : beginPhase(context.trace, 'attempt')
    // An attempt that throws (a deadline, a refused discovery) is ended, failed, with the request.
    const outcome = await attempt(context)
    if (phase !== undefined) endPhase(phase, !outcome.ok)
    if (outcome.ok) return { token: outcome.token, sentAt: outcome.sentAt }

    let failure: TokenClientError = outcome.error
    let delay: number | undefined
    if (outcome.retryAfter !== undefined && outcome.status !== undefined) {
      const until = Date.now() + outcome.retryAfter * 1000
      context.setThrottle({ until, status: outcome.status })
      config.emit({
        type: 'throttled',
        key,
        status: outcome.status,
        retryAfter: outcome.retryAfter,
        until,
      })
      failure = new ThrottledError(outcome.retryAfter, outcome.status)
      if (outcome.retryAfter > config.maxRetryAfterSeconds) throw failure
      delay = outcome.retryAfter * 1000
    }
    if (!outcome.retry || attempts > config.maxRetries) throw failure
    delay ??= backoffDelay(attempts)
    // A wait that ends past the deadline would only end in a deadline error.
    if (Date.now() + delay >= context.deadlineAt) throw failure
    config.emit({
      type: 'retry',
      key,
      attempt: attempts,
      delayMs: delay,
      reason: outcome.status === undefined ? 'network' : 'http_status',
      status: outcome.status,
    })
    await sleep(delay, signal)
  }
}

/**
 * One attempt: the token endpoint (discovered once; a retryable discovery failure counts as a
 * failed attempt), fresh credentials, the request.
 */
async function attempt(context: RequestTokenContext): Promise<AttemptOutcome> {
  const { config, signal } = context
  let url: URL
  try {
    url = await context.resolveEndpoint(signal)
  } catch (error) {
    if (signal.aborted) throw signal.reason as Error
    const failure = error as TransportError
    if (!failure.retryable) throw failure
    return { ok: false, error: failure, retry: true, retryAfter: undefined, status: failure.status }
  }
  // A new assertion (jti, iat, exp) for every attempt: a server that enforces single use would
  // refuse a retry that replays the last one.
  const credentials = config.auth.credentials(config.assertionAudience)
  const body = new URLSearchParams([['grant_type', 'client_credentials']])
  if (context.scope.length > 0) body.append('scope', context.scope.join(' '))
  for (const resource of context.resource) body.append('resource', resource)
  for (const [name, value] of config.params) body.append(name, value)
  for (const [name, value] of credentials.body) body.append(name, value)
  return sendTokenRequest({
    url,
    body,
    authorization: credentials.authorization,
    fetch: config.fetch,
    dispatcher: config.dispatcher,
    signal,
    maxResponseBytes: config.maxResponseBytes,
  })
}

/**
 * Waits out a `Retry-After` the server gave for this key, or fails at once with a
 * {@link ThrottledError} when it ends past the deadline.
 */
async function waitForThrottle(context: RequestTokenContext): Promise<void> {
  const throttle = context.getThrottle()
  const now = Date.now()
  if (throttle === undefined || throttle.until <= now) return
  if (throttle.until >= context.deadlineAt) {
    throw new ThrottledError(Math.ceil((throttle.until - now) / 1000), throttle.status)
  }
  await sleep(throttle.until - now, context.signal)
}
