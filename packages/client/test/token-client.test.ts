import { generateKeyPairSync } from 'node:crypto'
import { Agent, type Dispatcher } from 'undici'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { isTokenClientError, OAuthError, ThrottledError, TransportError } from '../src/errors.js'
import type { TokenClientEvent } from '../src/events.js'
import type { TokenClientOptions } from '../src/options/types.js'
import { redisTokenStore } from '../src/store/redis-token-store.js'
import { createTokenClient, type TokenClient } from '../src/token-client.js'
import {
  errorReply,
  everythingIn,
  fakeJwt,
  jwtPayload,
  SECRET,
  startTokenServer,
  tokenReply,
  type TokenServer,
} from './helpers.js'
import { skipWithoutRedis, type TestRedis, testRedis } from './redis.js'

const skipRedis = await skipWithoutRedis()

let server: TokenServer
const clients: TokenClient[] = []

beforeEach(async () => {
  server = await startTokenServer()
})

afterEach(async () => {
  vi.useRealTimers()
  vi.restoreAllMocks()
  for (const client of clients.splice(0)) await client.close()
  await server.close()
})

function client(options: Partial<TokenClientOptions> = {}): TokenClient {
  const created = createTokenClient({
    tokenEndpoint: server.tokenEndpoint,
    clientId: 'billing',
    clientSecret: SECRET,
    ...options,
  })
  clients.push(created)
  return created
}

/** Moves Date.now() (only) forward; timers stay real so the HTTP server keeps working. */
function fakeClock(): { advance(ms: number): void } {
  vi.useFakeTimers({ toFake: ['Date'] })
  vi.setSystemTime(new Date('2030-01-01T00:00:00Z'))
  return {
    advance(ms) {
      vi.setSystemTime(Date.now() + ms)
    },
  }
}

describe('createTokenClient', () => {
  describe('getToken', () => {
    it('returns the token with its type, expiry counted from the request, scope and source', async () => {
      const clock = fakeClock()
      const sentAt = Date.now()
      const tokens = client({ scope: 'b a' })
      const token = await tokens.getToken()
      expect(token).toEqual({
        value: 't1',
        type: 'Bearer',
        expiresAt: sentAt + 300_000,
        scope: 'a b',
        source: 'network',
      })
      clock.advance(1000)
      await expect(tokens.getToken()).resolves.toMatchObject({ value: 't1', source: 'cache' })
    })

    it('sends grant_type, the sorted scope, every resource and the extra params', async () => {
      await client({
        scope: ['z', 'a', 'z'],
        resource: ['https://b.example', 'https://a.example'],
        params: { audience: 'api' },
      }).getToken()
      const form = server.requests[0]?.form
      expect(form?.get('grant_type')).toBe('client_credentials')
      expect(form?.get('scope')).toBe('a z')
      expect(form?.getAll('resource')).toEqual(['https://a.example', 'https://b.example'])
      expect(form?.get('audience')).toBe('api')
    })

    it('makes exactly one token request for 10,000 concurrent calls on a cold cache', async () => {
      const tokens = client()
      const results = await Promise.all(Array.from({ length: 10_000 }, () => tokens.getToken()))
      expect(server.requests).toHaveLength(1)
      expect(new Set(results.map((token) => token.value))).toEqual(new Set(['t1']))
      expect(results.filter((token) => token.source === 'network')).toHaveLength(1)
      expect(results.filter((token) => token.source === 'coalesced')).toHaveLength(9_999)
    })

    it('makes exactly one token request for 10,000 concurrent calls on an expired cache', async () => {
      const clock = fakeClock()
      const tokens = client()
      await tokens.getToken()
      clock.advance(296_000) // past the hard expiry (300 s - 5 s)
      const results = await Promise.all(Array.from({ length: 10_000 }, () => tokens.getToken()))
      expect(server.requests).toHaveLength(2)
      expect(new Set(results.map((token) => token.value))).toEqual(new Set(['t2']))
    })

    it('keeps tokens apart by scope and resource: one token per sorted, de-duplicated set', async () => {
      const tokens = client()
      const a = await tokens.getToken({ scope: 'read write' })
      const b = await tokens.getToken({ scope: ['write', 'read', 'read'] })
      const c = await tokens.getToken({ scope: 'read' })
      const d = await tokens.getToken({ scope: 'read', resource: 'https://api.example' })
      const e = await tokens.getToken({ scope: 'read', resource: ['https://api.example'] })
      expect([a.value, b.value, c.value, d.value, e.value]).toEqual(['t1', 't1', 't2', 't3', 't3'])
      expect(server.requests.map((request) => request.form.get('scope'))).toEqual([
        'read write',
        'read',
        'read',
      ])
    })

    it('keeps tokens apart by extra params and by credential', async () => {
      await client({ params: { audience: 'a' } }).getToken()
      await client({ params: { audience: 'b' } }).getToken()
      await client({ clientSecret: `${SECRET}-rotated` }).getToken()
      expect(server.requests).toHaveLength(3)
    })

    it('answers the scope it asked for when the server names none, and none when neither does', async () => {
      await expect(client({ scope: 'a' }).getToken()).resolves.toMatchObject({ scope: 'a' })
      await expect(client().getToken()).resolves.toMatchObject({ scope: undefined })
      server.reply(() => tokenReply('granted', { scope: 'x y' }))
      await expect(client({ scope: 'x' }).getToken({ minTtl: 1 })).resolves.toMatchObject({
        scope: 'x y',
      })
    })

    it('refreshes a 300 s token in the background between 240 s and 295 s of its life', async () => {
      vi.spyOn(Math, 'random').mockReturnValue(0)
      const clock = fakeClock()
      const events: TokenClientEvent[] = []
      const tokens = client({ onEvent: (event) => events.push(event) })
      await tokens.getToken()
      for (let second = 1; second < 240; second++) {
        clock.advance(1000)
        await expect(tokens.getToken()).resolves.toMatchObject({ value: 't1', source: 'cache' })
      }
      expect(server.requests).toHaveLength(1)
      clock.advance(1000) // 240 s: refreshAt with no jitter
      await expect(tokens.getToken()).resolves.toMatchObject({ value: 't1', source: 'cache' })
      expect(events.filter((event) => event.type === 'refresh_started')).toHaveLength(1)
      await vi.waitFor(() => expect(tokens.inspect()[0]?.refreshing).toBe(false))
      expect(server.requests).toHaveLength(2)
      await expect(tokens.getToken()).resolves.toMatchObject({ value: 't2', source: 'cache' })
    })

    it('starts the refresh up to 10 % of the margin earlier with the largest jitter (234 s)', async () => {
      vi.spyOn(Math, 'random').mockReturnValue(0.999_999)
      const clock = fakeClock()
      const tokens = client()
      await tokens.getToken()
      clock.advance(233_000)
      await tokens.getToken()
      expect(tokens.inspect()[0]?.refreshing).toBe(false)
      clock.advance(1000)
      await tokens.getToken()
      expect(tokens.inspect()[0]?.refreshing).toBe(true)
    })

    it('returns the cached token at once between refreshAt and hardExpiry, while the refresh hangs', async () => {
      const clock = fakeClock()
      const tokens = client()
      await tokens.getToken()
      server.reply(() => 'hang')
      clock.advance(250_000)
      await expect(tokens.getToken()).resolves.toMatchObject({ value: 't1', source: 'cache' })
      await expect(tokens.getToken()).resolves.toMatchObject({ value: 't1', source: 'cache' })
      await vi.waitFor(() => expect(server.requests).toHaveLength(2))
      expect(tokens.inspect()[0]?.refreshing).toBe(true)
    })

    it('reports a failed background refresh as an event, keeps serving, and waits before the next', async () => {
      const clock = fakeClock()
      const events: TokenClientEvent[] = []
      const tokens = client({ onEvent: (event) => events.push(event) })
      await tokens.getToken()
      server.reply(() => errorReply(400, 'invalid_client'))
      clock.advance(250_000)
      await tokens.getToken()
      await vi.waitFor(() => expect(events.some((event) => event.type === 'failed')).toBe(true))
      expect(events.find((event) => event.type === 'failed')).toMatchObject({ background: true })
      await expect(tokens.getToken()).resolves.toMatchObject({ value: 't1', source: 'cache' })
      expect(server.requests).toHaveLength(2)
      clock.advance(5000)
      await tokens.getToken()
      await vi.waitFor(() => expect(server.requests).toHaveLength(3))
    })

    it('waits for a new token after the hard expiry (5 s before expiresAt)', async () => {
      const clock = fakeClock()
      const tokens = client()
      await tokens.getToken()
      clock.advance(295_000)
      await expect(tokens.getToken()).resolves.toMatchObject({ value: 't2', source: 'network' })
    })

    it('requests a new token when the cached one has less than minTtl seconds left', async () => {
      const clock = fakeClock()
      const tokens = client()
      await tokens.getToken()
      clock.advance(100_000)
      await expect(tokens.getToken({ minTtl: 200 })).resolves.toMatchObject({ value: 't1' })
      await expect(tokens.getToken({ minTtl: 201 })).resolves.toMatchObject({ value: 't2' })
    })

    it('uses the exp of a JWT when expires_in is absent', async () => {
      const clock = fakeClock()
      const exp = Math.floor(Date.now() / 1000) + 120
      const jwt = fakeJwt({ exp })
      server.reply(() => tokenReply(jwt, { expires_in: undefined }))
      const tokens = client()
      await expect(tokens.getToken()).resolves.toMatchObject({ expiresAt: exp * 1000 })
      clock.advance(60_000)
      await expect(tokens.getToken()).resolves.toMatchObject({ source: 'cache' })
    })

    it('does not cache an opaque token without expires_in', async () => {
      server.reply((_request, n) => tokenReply(`opaque${n}`, { expires_in: undefined }))
      const tokens = client()
      await expect(tokens.getToken()).resolves.toMatchObject({
        value: 'opaque1',
        expiresAt: undefined,
      })
      await expect(tokens.getToken()).resolves.toMatchObject({ value: 'opaque2' })
    })

    it('does not cache a token whose life is 5 s or less', async () => {
      server.reply((_request, n) => tokenReply(`short${n}`, { expires_in: 5 }))
      const tokens = client()
      await tokens.getToken()
      await expect(tokens.getToken()).resolves.toMatchObject({ value: 'short2', source: 'network' })
    })

    it('does not cache a failure: the next call asks again', async () => {
      server.reply((_request, n) => (n === 1 ? errorReply(400, 'invalid_scope') : tokenReply('ok')))
      const tokens = client()
      await expect(tokens.getToken()).rejects.toBeInstanceOf(OAuthError)
      await expect(tokens.getToken()).resolves.toMatchObject({ value: 'ok' })
    })

    it("stops one caller's wait on its own signal while the shared request goes on", async () => {
      let release: () => void = () => {}
      server.reply(() => new Promise((resolve) => (release = () => resolve(tokenReply('late')))))
      const tokens = client()
      const controller = new AbortController()
      const aborted = tokens.getToken({ signal: controller.signal })
      const patient = tokens.getToken()
      await vi.waitFor(() => expect(server.requests).toHaveLength(1))
      controller.abort(new Error('caller gave up'))
      await expect(aborted).rejects.toThrow('caller gave up')
      release()
      await expect(patient).resolves.toMatchObject({ value: 'late' })
    })

    it('rejects at once with an already aborted signal', async () => {
      await expect(client().getToken({ signal: AbortSignal.abort() })).rejects.toMatchObject({
        name: 'AbortError',
      })
    })

    it('checks every call, also one whose scope and resource it has seen before', async () => {
      const tokens = client()
      await tokens.getToken({ scope: 'a', resource: ['https://api.example'] })
      await expect(
        tokens.getToken({ scope: 'a', resource: ['https://api.example'] }),
      ).resolves.toMatchObject({
        source: 'cache',
      })
      await expect(
        tokens.getToken({ scope: 'a', resource: ['https://api.example'], minTtl: -1 }),
      ).rejects.toThrow('getToken: option "minTtl"')
      await expect(tokens.getToken({ scope: 'a', scpe: 'b' } as never)).rejects.toThrow(
        'unknown option "scpe"',
      )
      await expect(tokens.getToken('a' as never)).rejects.toThrow(
        'getToken: options must be an object',
      )
      expect(server.requests).toHaveLength(1)
    })

    it('refuses a bad option of a call with a TypeError naming it', async () => {
      await expect(client().getToken({ scope: 'a  b' })).rejects.toThrow(
        /^getToken: option "scope"/,
      )
    })
  })

  describe('client authentication', () => {
    it('sends client_secret_basic with each part form-encoded (RFC 6749 Appendix B)', async () => {
      await client({ clientId: 'id:with%colon' }).getToken()
      const header = server.requests[0]?.headers.authorization as string
      const decoded = Buffer.from(header.replace(/^Basic /, ''), 'base64').toString()
      expect(decoded).toBe('id%3Awith%25colon:test-only%3Asecret%25with%2Bodd+chars')
      const [id, secret] = decoded
        .split(':')
        .map((part) => decodeURIComponent(part.replace(/\+/g, ' ')))
      expect([id, secret]).toEqual(['id:with%colon', SECRET])
      expect(server.requests[0]?.form.has('client_secret')).toBe(false)
    })

    it('sends client_secret_post in the body', async () => {
      await client({ authMethod: 'client_secret_post' }).getToken()
      const { form, headers } = server.requests[0]!
      expect([form.get('client_id'), form.get('client_secret')]).toEqual(['billing', SECRET])
      expect(headers.authorization).toBeUndefined()
    })

    it('retries a 503 once with a new assertion (a different jti)', async () => {
      server.reply((_request, n) => (n === 1 ? { status: 503 } : tokenReply('ok')))
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
      vi.spyOn(Math, 'random').mockReturnValue(0)
      const tokens = client({ clientSecret: undefined, privateKey, issuer: server.issuer })
      await expect(tokens.getToken()).resolves.toMatchObject({ value: 'ok' })
      expect(server.requests).toHaveLength(2)
      const [first, second] = server.requests.map((request) =>
        jwtPayload(request.form.get('client_assertion') as string),
      )
      expect(first?.jti).not.toBe(second?.jti)
      expect(first).toMatchObject({ iss: 'billing', sub: 'billing', aud: server.issuer })
    })
  })

  describe('retries and deadlines', () => {
    it('waits out a 429 with Retry-After and then gets the token', async () => {
      server.reply((_request, n) =>
        n === 1 ? { status: 429, headers: { 'retry-after': '1' } } : tokenReply('ok'),
      )
      const events: TokenClientEvent[] = []
      const tokens = client({ onEvent: (event) => events.push(event) })
      await expect(tokens.getToken()).resolves.toMatchObject({ value: 'ok' })
      expect(events.find((event) => event.type === 'throttled')).toMatchObject({
        status: 429,
        retryAfter: 1,
      })
      expect(events.find((event) => event.type === 'retry')).toMatchObject({
        attempt: 1,
        delayMs: 1000,
        status: 429,
      })
    })

    it('fails with ThrottledError at once when Retry-After is longer than allowed', async () => {
      server.reply(() => ({ status: 429, headers: { 'retry-after': '61' } }))
      const error = await client()
        .getToken()
        .catch((caught: unknown) => caught)
      expect(error).toBeInstanceOf(ThrottledError)
      expect(error).toMatchObject({ code: 'throttled', retryAfter: 61, status: 429 })
      expect(server.requests).toHaveLength(1)
    })

    it('sends nothing for a throttled key until Retry-After while a valid cached token is served', async () => {
      const clock = fakeClock()
      const tokens = client({ maxRetryAfterSeconds: 30 })
      await tokens.getToken()
      server.reply(() => ({ status: 503, headers: { 'retry-after': '120' } }))
      clock.advance(250_000)
      await tokens.getToken() // starts the background refresh, which is refused for 120 s
      await vi.waitFor(() => expect(tokens.inspect()[0]?.throttledUntil).toBeDefined())
      for (let i = 0; i < 10; i++) {
        clock.advance(1000)
        await expect(tokens.getToken()).resolves.toMatchObject({ value: 't1', source: 'cache' })
      }
      expect(server.requests).toHaveLength(2)
      clock.advance(40_000) // past hardExpiry, still throttled: fails without a request
      await expect(tokens.getToken()).rejects.toBeInstanceOf(ThrottledError)
      expect(server.requests).toHaveLength(2)
    })

    it('retries network failures and 500/502/503/504 at most twice, then fails with the last', async () => {
      vi.spyOn(Math, 'random').mockReturnValue(0)
      for (const status of [500, 502, 503, 504]) {
        server.requests.length = 0
        server.reply(() => ({ status }))
        const error = await client()
          .getToken()
          .catch((caught: unknown) => caught)
        expect(error).toMatchObject({ code: 'transport_error', reason: 'http_status', status })
        expect(server.requests).toHaveLength(3)
      }
      server.requests.length = 0
      server.reply(() => 'reset')
      await expect(client().getToken()).rejects.toMatchObject({
        reason: 'network',
        retryable: true,
      })
      expect(server.requests).toHaveLength(3)
    })

    it('never retries a 400 or 401 OAuth error', async () => {
      for (const [status, code] of [
        [400, 'invalid_scope'],
        [401, 'invalid_client'],
      ] as const) {
        server.requests.length = 0
        server.reply(() => errorReply(status, code))
        const error = await client()
          .getToken()
          .catch((caught: unknown) => caught)
        expect(error).toMatchObject({ code: 'oauth_error', error: code, status })
        expect((error as OAuthError).error_description).toBe(`described ${code}`)
        expect(server.requests).toHaveLength(1)
      }
    })

    it('fails with a deadline error when the server hangs', async () => {
      server.reply(() => 'hang')
      const error = await client({ deadlineMs: 150 })
        .getToken()
        .catch((caught: unknown) => caught)
      expect(error).toBeInstanceOf(TransportError)
      expect(error).toMatchObject({ reason: 'deadline', retryable: true })
    })

    it('does not start a retry whose backoff would end past the deadline', async () => {
      vi.spyOn(Math, 'random').mockReturnValue(0.99)
      server.reply(() => ({ status: 503 }))
      await expect(client({ deadlineMs: 100 }).getToken()).rejects.toMatchObject({ status: 503 })
      expect(server.requests).toHaveLength(1)
    })
  })

  describe('dispatcher', () => {
    it('sends the metadata, token and API requests through an injected undici Dispatcher', async () => {
      const paths: string[] = []
      class RecordingAgent extends Agent {
        override dispatch(
          options: Dispatcher.DispatchOptions,
          handler: Dispatcher.DispatchHandlers,
        ): boolean {
          paths.push(options.path)
          return super.dispatch(options, handler)
        }
      }
      const dispatcher = new RecordingAgent()
      try {
        const tokens = client({ tokenEndpoint: undefined, issuer: server.issuer, dispatcher })
        await tokens.getToken()
        await tokens.fetch(`${server.issuer}/.well-known/oauth-authorization-server`)
        expect(paths).toEqual([
          '/.well-known/oauth-authorization-server',
          '/token',
          '/.well-known/oauth-authorization-server',
        ])
      } finally {
        await dispatcher.close()
      }
    })
  })

  describe('discovery', () => {
    it('reads the token endpoint from the RFC 8414 metadata once', async () => {
      const tokens = client({ tokenEndpoint: undefined, issuer: server.issuer })
      await tokens.getToken()
      await tokens.getToken({ scope: 'other' })
      expect(server.metadataRequests).toEqual(['/.well-known/oauth-authorization-server'])
      expect(server.requests).toHaveLength(2)
    })

    it("answers a second caller when the first caller's deadline ends the wait for metadata", async () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
      const issuer = 'https://auth.example'
      let release: () => void = () => {}
      const held = new Promise<void>((resolve) => (release = resolve))
      const json = (body: unknown): Response =>
        new Response(JSON.stringify(body), {
          headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
        })
      // Fails like fetch when its signal aborts; the metadata answer waits for release().
      const fetch = (input: string | URL | Request, init?: RequestInit): Promise<Response> =>
        new Promise((resolve, reject) => {
          const signal = init?.signal ?? undefined
          signal?.addEventListener('abort', () => reject(signal.reason as Error), { once: true })
          if (new Request(input).url.includes('/.well-known/')) {
            void held.then(() => resolve(json({ issuer, token_endpoint: `${issuer}/token` })))
          } else {
            resolve(json({ access_token: 'second', token_type: 'Bearer', expires_in: 300 }))
          }
        })
      const tokens = client({ tokenEndpoint: undefined, issuer, fetch, deadlineMs: 1000 })
      const first = tokens.getToken({ scope: 'a' })
      first.catch(() => {})
      await vi.advanceTimersByTimeAsync(600)
      const second = tokens.getToken({ scope: 'b' })
      await vi.advanceTimersByTimeAsync(500)
      await expect(first).rejects.toMatchObject({ reason: 'deadline' })
      release()
      await expect(second).resolves.toMatchObject({ value: 'second', source: 'network' })
    })

    it('refuses metadata that names another issuer', async () => {
      server.metadata({ issuer: 'https://evil.example', token_endpoint: server.tokenEndpoint })
      await expect(
        client({ tokenEndpoint: undefined, issuer: server.issuer }).getToken(),
      ).rejects.toMatchObject({ reason: 'discovery', retryable: false })
      expect(server.requests).toHaveLength(0)
    })

    it('refuses a token endpoint on plain http off localhost', async () => {
      server.metadata({ issuer: server.issuer, token_endpoint: 'http://auth.example/token' })
      await expect(
        client({ tokenEndpoint: undefined, issuer: server.issuer }).getToken(),
      ).rejects.toMatchObject({ reason: 'discovery', retryable: false })
    })
  })

  describe('errors', () => {
    it('never shows the secret, the assertion or a token in any error', async () => {
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
      const seen: string[] = []
      server.reply((request) => {
        const assertion = request.form.get('client_assertion')
        if (assertion !== null) seen.push(assertion)
        return errorReply(401, 'invalid_client')
      })
      const keyed = client({ clientSecret: undefined, privateKey })
      const errors = [
        await keyed.getToken().catch((caught: unknown) => caught),
        await client()
          .getToken()
          .catch((caught: unknown) => caught),
      ]
      server.reply(() => ({ status: 200, headers: { 'content-type': 'text/html' }, body: 'leak' }))
      errors.push(
        await client({ scope: 'x' })
          .getToken()
          .catch((caught: unknown) => caught),
      )
      server.reply(() => tokenReply('secret-token', { token_type: 'mac' }))
      errors.push(
        await client({ scope: 'y' })
          .getToken()
          .catch((caught: unknown) => caught),
      )
      expect(seen).toHaveLength(1)
      for (const error of errors) {
        expect(isTokenClientError(error)).toBe(true)
        const text = everythingIn(error)
        for (const secret of [SECRET, ...seen, 'secret-token', 'leak']) {
          expect(text).not.toContain(secret)
        }
      }
    })
  })

  describe('events', () => {
    it('reports where each token came from, and a throwing hook changes nothing', async () => {
      const sources: string[] = []
      const tokens = client({
        onEvent: (event) => {
          if (event.type === 'acquired') sources.push(event.source)
          throw new Error('hook failed')
        },
      })
      await Promise.all([tokens.getToken(), tokens.getToken()])
      await tokens.getToken()
      expect(sources).toEqual(['network', 'coalesced', 'cache'])
    })
  })

  describe('invalidate', () => {
    it('drops a token by value, by scope, or every token', async () => {
      const tokens = client()
      const a = await tokens.getToken()
      await tokens.getToken({ scope: 's' })
      await tokens.invalidate('not-a-cached-token')
      await expect(tokens.getToken()).resolves.toMatchObject({ value: a.value })
      await tokens.invalidate(a.value)
      await expect(tokens.getToken()).resolves.toMatchObject({ value: 't3' })
      await tokens.invalidate({ scope: 's' })
      await expect(tokens.getToken({ scope: 's' })).resolves.toMatchObject({ value: 't4' })
      await tokens.getToken({ resource: 'https://api.example' })
      await tokens.invalidate({ resource: 'https://api.example' })
      await tokens.invalidate({ scope: 'never-requested' })
      await expect(tokens.getToken({ resource: 'https://api.example' })).resolves.toMatchObject({
        value: 't6',
      })
      await tokens.invalidate()
      await expect(tokens.getToken()).resolves.toMatchObject({ value: 't7' })
      await expect(tokens.getToken({ scope: 's' })).resolves.toMatchObject({ value: 't8' })
    })
  })

  describe('fetch', () => {
    /**
     * A fetch that sends token requests to the token server and answers API calls itself: 401
     * invalid_token for `rejected`, 200 for any other Authorization, each recorded in `seen`.
     */
    const apiRejecting =
      (rejected: string, seen: string[] = []): TokenClientOptions['fetch'] =>
      (input, init) => {
        if (input instanceof URL && input.href === server.tokenEndpoint) return fetch(input, init)
        const authorization = new Headers(init?.headers).get('authorization') as string
        seen.push(authorization)
        return Promise.resolve(
          authorization === rejected
            ? new Response(null, {
                status: 401,
                headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
              })
            : new Response('ok'),
        )
      }

    it('calls an API with the token, and after 401 invalid_token drops it and retries with a new one', async () => {
      const seen: string[] = []
      const tokens = client({
        fetch: apiRejecting('Bearer t1', seen),
      })
      const response = await tokens.fetch('https://api.example/reports')
      expect(await response.text()).toBe('ok')
      expect(seen).toEqual(['Bearer t1', 'Bearer t2'])
      await expect(tokens.getToken()).resolves.toMatchObject({ value: 't2', source: 'cache' })
    })

    it('keeps a newer token when a call rejected with an older one drops it (compare-and-delete)', async () => {
      const tokens = client({
        fetch: apiRejecting('Bearer t1'),
      })
      await tokens.getToken()
      // Both calls are sent with t1; the first drop replaces it with t2, the second finds t2
      // cached and leaves it, so no third token is requested.
      const responses = await Promise.all([
        tokens.fetch('https://api.example/a'),
        tokens.fetch('https://api.example/b'),
      ])
      expect(responses.map((response) => response.status)).toEqual([200, 200])
      expect(server.requests).toHaveLength(2)
    })
  })

  describe('inspect', () => {
    it('lists keys, scope, resource and deadlines, never a token value', async () => {
      vi.spyOn(Math, 'random').mockReturnValue(0)
      const clock = fakeClock()
      const now = Date.now()
      const tokens = client()
      await tokens.getToken({ scope: 'b a', resource: 'https://api.example' })
      clock.advance(1)
      const entries = tokens.inspect()
      expect(entries).toEqual([
        {
          key: expect.stringMatching(/^[\w-]{43}$/) as unknown,
          scope: ['a', 'b'],
          resource: ['https://api.example'],
          expiresAt: now + 300_000,
          refreshAt: now + 240_000,
          hardExpiry: now + 295_000,
          throttledUntil: undefined,
          refreshing: false,
        },
      ])
      expect(JSON.stringify(entries)).not.toContain('t1')
    })
  })

  describe('close', () => {
    it('aborts a running request and refuses later calls with TransportError closed', async () => {
      server.reply(() => 'hang')
      const tokens = client()
      const pending = tokens.getToken()
      await vi.waitFor(() => expect(server.requests).toHaveLength(1))
      await tokens.close()
      await expect(pending).rejects.toMatchObject({ reason: 'closed' })
      await expect(tokens.getToken()).rejects.toMatchObject({ reason: 'closed' })
      expect(tokens.inspect()).toEqual([])
      await tokens.close()
    })
  })

  describe.skipIf(skipRedis)('with a shared store (real Redis)', () => {
    /** A store of its own for each simulated process, all on the test's prefix. */
    const sharedStore = (redis: TestRedis) =>
      redisTokenStore({ sendCommand: redis.sendCommand, prefix: redis.prefix })

    it('makes one token request for two processes and 2,000 concurrent calls', async () => {
      const redis = await testRedis()
      try {
        const store = () => sharedStore(redis)
        const a = client({ store: store() })
        const b = client({ store: store() })
        const results = await Promise.all(
          Array.from({ length: 2000 }, (_, i) => (i % 2 === 0 ? a : b).getToken()),
        )
        expect(server.requests).toHaveLength(1)
        expect(new Set(results.map((token) => token.value))).toEqual(new Set(['t1']))
        expect(new Set(results.map((token) => token.source))).toEqual(
          new Set(['network', 'coalesced', 'store']),
        )
      } finally {
        await redis.cleanup()
      }
    })

    it('drops a rejected token for the whole fleet, and only that token', async () => {
      const redis = await testRedis()
      try {
        const store = () => sharedStore(redis)
        const a = client({ store: store() })
        const b = client({ store: store() })
        const first = await a.getToken()
        await a.invalidate(first.value)
        await expect(b.getToken()).resolves.toMatchObject({ value: 't2', source: 'network' })
        await a.invalidate('t1') // a holds no t1 any more, and the store's t2 stays
        await expect(client({ store: store() }).getToken()).resolves.toMatchObject({
          value: 't2',
          source: 'store',
        })
      } finally {
        await redis.cleanup()
      }
    })
  })

  describe('with a failing store', () => {
    it('gets tokens alone and reports store_error', async () => {
      const events: TokenClientEvent[] = []
      const failing = redisTokenStore({
        sendCommand: () => Promise.reject(new Error('ECONNREFUSED')),
      })
      const tokens = client({ store: failing, onEvent: (event) => events.push(event) })
      const token = await tokens.getToken()
      expect(token).toMatchObject({ value: 't1', source: 'network' })
      await tokens.invalidate(token.value)
      expect(
        events.filter((event) => event.type === 'store_error').map((event) => event.operation),
      ).toEqual(['read', 'delete'])
    })
  })
})
