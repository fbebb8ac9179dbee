import { describe, expect, it, vi } from 'vitest'
import { OAuthError, TransportError } from '../../src/errors.js'
import { sendTokenRequest, type TokenRequest } from '../../src/http/send-token-request.js'
import type { FetchFunction } from '../../src/options/types.js'

const json = (body: unknown, status = 200, headers: Record<string, string> = {}): Response =>
  new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  })

function request(fetch: FetchFunction, extra: Partial<TokenRequest> = {}): TokenRequest {
  return {
    url: new URL('https://auth.example/token'),
    body: new URLSearchParams([['grant_type', 'client_credentials']]),
    authorization: 'Basic abc',
    fetch,
    dispatcher: undefined,
    signal: new AbortController().signal,
    maxResponseBytes: 65_536,
    ...extra,
  }
}

describe('sendTokenRequest', () => {
  it('POSTs the form with the credentials, no redirects, and reads the token', async () => {
    const fetch = vi.fn<FetchFunction>(() =>
      Promise.resolve(json({ access_token: 'a', token_type: 'Bearer', expires_in: 60 })),
    )
    const dispatcher = { dispatch: () => true }
    const outcome = await sendTokenRequest(request(fetch, { dispatcher }))
    expect(outcome).toMatchObject({ ok: true, token: { value: 'a', expiresIn: 60 } })
    const [url, init] = fetch.mock.calls[0] ?? []
    expect(url).toEqual(new URL('https://auth.example/token'))
    expect(init).toMatchObject({
      method: 'POST',
      body: 'grant_type=client_credentials',
      redirect: 'manual',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
        authorization: 'Basic abc',
      },
      dispatcher,
    })
  })

  it('sends no Authorization header without one', async () => {
    const fetch = vi.fn<FetchFunction>(() => Promise.resolve(json({ error: 'x' }, 400)))
    await sendTokenRequest(request(fetch, { authorization: undefined }))
    expect(fetch.mock.calls[0]?.[1]?.headers).not.toHaveProperty('authorization')
  })

  it('answers an OAuth error, not to retry, for a 400 with an error body', async () => {
    const outcome = await sendTokenRequest(
      request(() => Promise.resolve(json({ error: 'invalid_grant' }, 400))),
    )
    expect(outcome).toMatchObject({ ok: false, retry: false, status: 400 })
    expect(!outcome.ok && outcome.error).toBeInstanceOf(OAuthError)
  })

  it.each([
    [429, { 'retry-after': '7' }, true, 7],
    [503, { 'retry-after': '3' }, true, 3],
    [500, { 'retry-after': '3' }, true, undefined],
    [502, {}, true, undefined],
    [504, {}, true, undefined],
    [501, {}, false, undefined],
    [404, {}, false, undefined],
    [302, { location: 'https://elsewhere.example/' }, false, undefined],
  ])('classifies HTTP %i: retry %s, Retry-After %s', async (status, headers, retry, retryAfter) => {
    const outcome = await sendTokenRequest(
      request(() => Promise.resolve(new Response('<html>', { status, headers }))),
    )
    expect(outcome).toMatchObject({ ok: false, retry, retryAfter, status })
    expect(!outcome.ok && outcome.error).toMatchObject({ reason: 'http_status', retryable: retry })
  })

  it('answers a retryable network error when fetch throws', async () => {
    const outcome = await sendTokenRequest(
      request(() => Promise.reject(new TypeError('fetch failed'))),
    )
    expect(outcome).toMatchObject({ ok: false, retry: true, status: undefined })
    expect(!outcome.ok && outcome.error).toMatchObject({ reason: 'network' })
  })

  it('answers the signal reason (deadline or closed) when the signal aborted the request', async () => {
    const controller = new AbortController()
    const deadline = new TransportError('deadline', 'late', { retryable: true })
    const outcome = await sendTokenRequest(
      request(
        () => {
          controller.abort(deadline)
          return Promise.reject(new DOMException('aborted', 'AbortError'))
        },
        { signal: controller.signal },
      ),
    )
    expect(outcome).toMatchObject({ ok: false, retry: false, error: deadline })
  })

  it('answers a non-retryable error for an invalid token response or an oversized body', async () => {
    const invalid = await sendTokenRequest(
      request(() => Promise.resolve(json({ token_type: 'Bearer' }))),
    )
    expect(invalid).toMatchObject({ ok: false, retry: false })
    const large = await sendTokenRequest(
      request(
        () => Promise.resolve(json({ access_token: 'x'.repeat(2000), token_type: 'Bearer' })),
        {
          maxResponseBytes: 1024,
        },
      ),
    )
    expect(!large.ok && large.error).toMatchObject({ reason: 'too_large' })
  })
})
