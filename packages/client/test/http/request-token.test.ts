import { afterEach, describe, expect, it, vi } from 'vitest'
import { ThrottledError, TransportError } from '../../src/errors.js'
import type { TokenClientEvent } from '../../src/events.js'
import {
  requestToken,
  type RequestTokenContext,
  type Throttle,
} from '../../src/http/request-token.js'
import { resolveOptions } from '../../src/options/resolve.js'
import type { FetchFunction } from '../../src/options/types.js'
import { SECRET } from '../helpers.js'

afterEach(() => {
  vi.restoreAllMocks()
  vi.useRealTimers()
})

const ok = (): Response =>
  new Response(JSON.stringify({ access_token: 'a', token_type: 'Bearer', expires_in: 60 }), {
    headers: { 'content-type': 'application/json' },
  })

function context(
  fetch: FetchFunction,
  extra: Partial<RequestTokenContext> = {},
  events: TokenClientEvent[] = [],
): RequestTokenContext {
  let throttle: Throttle | undefined
  const config = resolveOptions({
    tokenEndpoint: 'https://auth.example/token',
    clientId: 'c',
    clientSecret: SECRET,
    fetch,
    onEvent: (event) => events.push(event),
  })
  return {
    config,
    key: 'k',
    resolveEndpoint: () => Promise.resolve(new URL('https://auth.example/token')),
    scope: ['a'],
    resource: [],
    signal: new AbortController().signal,
    deadlineAt: Date.now() + 10_000,
    getThrottle: () => throttle,
    setThrottle: (next) => {
      throttle = next
    },
    ...extra,
  }
}

describe('requestToken', () => {
  it('retries a network failure after a full-jitter backoff, reporting the retry', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5)
    const events: TokenClientEvent[] = []
    let calls = 0
    const fetch: FetchFunction = () =>
      ++calls === 1 ? Promise.reject(new TypeError('fetch failed')) : Promise.resolve(ok())
    await expect(requestToken(context(fetch, {}, events))).resolves.toMatchObject({
      token: { value: 'a' },
    })
    expect(events).toEqual([
      { type: 'retry', key: 'k', attempt: 1, delayMs: 100, reason: 'network', status: undefined },
    ])
  })

  it('ends with ThrottledError when the retries run out on 429s with Retry-After', async () => {
    const fetch: FetchFunction = () =>
      Promise.resolve(new Response(null, { status: 429, headers: { 'retry-after': '0' } }))
    await expect(requestToken(context(fetch))).rejects.toMatchObject({
      code: 'throttled',
      retryAfter: 0,
    })
  })

  it('fails at once with ThrottledError when a Retry-After would outlast the deadline', async () => {
    const fetch = vi.fn<FetchFunction>(() =>
      Promise.resolve(new Response(null, { status: 503, headers: { 'retry-after': '30' } })),
    )
    await expect(
      requestToken(context(fetch, { deadlineAt: Date.now() + 5000 })),
    ).rejects.toBeInstanceOf(ThrottledError)
    expect(fetch).toHaveBeenCalledTimes(1)
  })

  it('waits for a Retry-After in force before its first attempt', async () => {
    vi.useFakeTimers()
    const fetch = vi.fn<FetchFunction>(() => Promise.resolve(ok()))
    const until = Date.now() + 2000
    const pending = requestToken(context(fetch, { getThrottle: () => ({ until, status: 429 }) }))
    await vi.advanceTimersByTimeAsync(1999)
    expect(fetch).not.toHaveBeenCalled()
    await vi.advanceTimersByTimeAsync(1)
    await expect(pending).resolves.toMatchObject({ token: { value: 'a' } })
  })

  it('refuses at once while a Retry-After in force ends past the deadline', async () => {
    const fetch = vi.fn<FetchFunction>(() => Promise.resolve(ok()))
    const throttle = { until: Date.now() + 20_000, status: 503 }
    await expect(
      requestToken(context(fetch, { getThrottle: () => throttle })),
    ).rejects.toMatchObject({ code: 'throttled', retryAfter: 20, status: 503 })
    expect(fetch).not.toHaveBeenCalled()
  })

  it('answers the signal reason when the client closed during discovery', async () => {
    const controller = new AbortController()
    const closed = new TransportError('closed', 'closed', { retryable: false })
    const resolveEndpoint = (): Promise<URL> => {
      controller.abort(closed)
      return Promise.reject(new TransportError('discovery', 'x', { retryable: true }))
    }
    await expect(
      requestToken(
        context(() => Promise.resolve(ok()), { resolveEndpoint, signal: controller.signal }),
      ),
    ).rejects.toBe(closed)
  })

  it('retries a retryable discovery failure', async () => {
    let calls = 0
    const resolveEndpoint = (): Promise<URL> =>
      ++calls === 1
        ? Promise.reject(new TransportError('discovery', 'x', { retryable: true, status: 502 }))
        : Promise.resolve(new URL('https://auth.example/token'))
    vi.spyOn(Math, 'random').mockReturnValue(0)
    await expect(
      requestToken(context(() => Promise.resolve(ok()), { resolveEndpoint })),
    ).resolves.toMatchObject({ token: { value: 'a' } })
    expect(calls).toBe(2)
  })

  it('passes a discovery failure that is not retryable on at once', async () => {
    const failure = new TransportError('discovery', 'x', { retryable: false })
    await expect(
      requestToken(
        context(() => Promise.resolve(ok()), { resolveEndpoint: () => Promise.reject(failure) }),
      ),
    ).rejects.toBe(failure)
  })
})
