import { once } from 'node:events'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { fetchWithToken, rejectsToken, type TokenSourceForFetch } from '../src/fetch-with-token.js'
import type { AccessToken } from '../src/token-client.js'

interface Api {
  url: string
  seen: Array<{ headers: IncomingHttpHeaders; body: string }>
  /** Answers 401 invalid_token while the token is one of these. */
  rejected: Set<string>
  close(): Promise<void>
}

let api: Api

async function startApi(): Promise<Api> {
  const seen: Api['seen'] = []
  const rejected = new Set<string>()
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      seen.push({ headers: req.headers, body: Buffer.concat(chunks).toString() })
      const token = (req.headers.authorization ?? '').replace(/^\w+ /, '')
      if (rejected.has(token)) {
        res.writeHead(401, { 'www-authenticate': 'Bearer realm="api", error="invalid_token"' })
        res.end('{}')
      } else res.writeHead(200).end('ok')
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/reports`,
    seen,
    rejected,
    async close() {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

beforeEach(async () => {
  api = await startApi()
})

afterEach(async () => {
  await api.close()
})

/** A token source handing out t1, t2, …: a new one after each drop. */
function tokens(): TokenSourceForFetch & { dropped: string[] } {
  let n = 1
  const dropped: string[] = []
  const token = (): AccessToken => ({
    value: `t${n}`,
    type: 'Bearer',
    expiresAt: undefined,
    scope: undefined,
    source: 'cache',
  })
  return {
    dropped,
    getToken: () => Promise.resolve(token()),
    dropToken(dropping) {
      dropped.push(dropping.value)
      if (dropping.value === `t${n}`) n++
      return Promise.resolve()
    },
    fetch: (input, init) => fetch(input, init),
    dispatcher: undefined,
  }
}

describe('fetchWithToken', () => {
  it('adds Authorization and keeps the caller’s headers, method and body', async () => {
    const response = await fetchWithToken(
      tokens(),
      api.url,
      { method: 'POST', headers: { 'x-trace': '1' }, body: 'hello' },
      undefined,
    )
    expect(response.status).toBe(200)
    expect(api.seen[0]?.headers).toMatchObject({ authorization: 'Bearer t1', 'x-trace': '1' })
    expect(api.seen[0]?.body).toBe('hello')
  })

  it('merges the headers of a Request with those of init', async () => {
    const request = new Request(api.url, { headers: { 'x-a': 'request', 'x-b': 'request' } })
    await fetchWithToken(tokens(), request, { headers: { 'x-b': 'init' } }, undefined)
    expect(api.seen[0]?.headers).toMatchObject({ 'x-a': 'request', 'x-b': 'init' })
  })

  it('drops a token the API rejects with 401 invalid_token and retries once with a new one', async () => {
    api.rejected.add('t1')
    const source = tokens()
    const response = await fetchWithToken(source, api.url, { method: 'PUT', body: 'x' }, undefined)
    expect(response.status).toBe(200)
    expect(source.dropped).toEqual(['t1'])
    expect(api.seen.map((seen) => [seen.headers.authorization, seen.body])).toEqual([
      ['Bearer t1', 'x'],
      ['Bearer t2', 'x'],
    ])
  })

  it('retries a Request with a body from a copy taken before the first send', async () => {
    api.rejected.add('t1')
    const request = new Request(api.url, { method: 'POST', body: 'payload' })
    const response = await fetchWithToken(tokens(), request, undefined, undefined)
    expect(response.status).toBe(200)
    expect(api.seen.map((seen) => seen.body)).toEqual(['payload', 'payload'])
  })

  it('retries only once: a second 401 is returned', async () => {
    api.rejected.add('t1').add('t2')
    const response = await fetchWithToken(tokens(), api.url, undefined, undefined)
    expect(response.status).toBe(401)
    expect(api.seen).toHaveLength(2)
  })

  it('returns the 401 of a request whose body is a stream (it cannot be sent twice)', async () => {
    api.rejected.add('t1')
    const body = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('stream'))
        controller.close()
      },
    })
    const response = await fetchWithToken(
      tokens(),
      api.url,
      { method: 'POST', body, duplex: 'half' },
      undefined,
    )
    expect(response.status).toBe(401)
    expect(api.seen).toHaveLength(1)
  })

  it('passes the dispatcher and the caller’s signal on', async () => {
    const source = tokens()
    const send = vi.fn<TokenSourceForFetch['fetch']>(() => Promise.resolve(new Response('ok')))
    const getToken = vi.spyOn(source, 'getToken')
    const dispatcher = { dispatch: () => true }
    const signal = new AbortController().signal
    await fetchWithToken(
      { ...source, getToken, fetch: send, dispatcher },
      api.url,
      { signal },
      { scope: 'a' },
    )
    expect(getToken).toHaveBeenCalledWith({ scope: 'a', signal })
    expect(send.mock.calls[0]?.[1]).toMatchObject({ signal, dispatcher })
  })
})

describe('rejectsToken', () => {
  const response = (status: number, challenge?: string): Response =>
    new Response(null, {
      status,
      headers: challenge === undefined ? {} : { 'www-authenticate': challenge },
    })

  it.each([
    [401, 'Bearer error="invalid_token"', true],
    [401, 'Bearer realm="api", error="invalid_token", error_description="expired"', true],
    [401, 'DPoP error=invalid_token', true],
    [401, 'Bearer error="insufficient_scope"', false],
    [401, 'Bearer realm="api"', false],
    [401, 'Basic realm="invalid_token"', false],
    [401, 'Bearer error="invalid_tokens"', false],
    [401, undefined, false],
    [403, 'Bearer error="invalid_token"', false],
  ])('HTTP %i with %j → %s', (status, challenge, expected) => {
    expect(rejectsToken(response(status, challenge))).toBe(expected)
  })
})
