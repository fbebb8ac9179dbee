import { Registry } from 'prom-client'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { registerClientMetrics } from '../../src/observability/register-client-metrics.js'
import { createTokenClient, type TokenClient } from '../../src/token-client.js'
import type { TokenClientOptions } from '../../src/options/types.js'
import { errorReply, SECRET, startTokenServer, tokenReply, type TokenServer } from '../helpers.js'

let server: TokenServer
let registry: Registry
let stop: () => void
const clients: TokenClient[] = []

beforeEach(async () => {
  server = await startTokenServer()
  registry = new Registry()
  stop = registerClientMetrics({ registry })
})
afterEach(async () => {
  stop()
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

/** The value of one series, 0 when it does not exist (yet). */
async function value(name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name)
  const match = metric?.values.find(
    (v) =>
      (v as { metricName?: string }).metricName === undefined &&
      Object.keys(labels).length === Object.keys(v.labels).length &&
      Object.entries(labels).every(([k, l]) => v.labels[k] === l),
  )
  return match?.value ?? 0
}

/** The count of a histogram's series. */
async function count(name: string, labels: Record<string, string>): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name)
  const match = metric?.values.find(
    (v) =>
      (v as { metricName?: string }).metricName === `${name}_count` &&
      Object.entries(labels).every(([k, l]) => v.labels[k] === l),
  )
  return match?.value ?? 0
}

const ACQUISITIONS = 'ccflow_client_token_acquisitions_total'
const DURATION = 'ccflow_client_token_fetch_duration_seconds'

describe('registerClientMetrics', () => {
  it('registers exactly the four client metrics', async () => {
    const names = (await registry.getMetricsAsJSON()).map((m) => m.name).sort()
    expect(names).toEqual([
      'ccflow_client_throttled_total',
      'ccflow_client_token_acquisitions_total',
      'ccflow_client_token_fetch_duration_seconds',
      'ccflow_client_token_retries_total',
    ])
  })

  it('counts a network token, a cache hit and a coalesced wait by source', async () => {
    const tokens = client()
    await Promise.all([tokens.getToken(), tokens.getToken()])
    await tokens.getToken()
    expect(await value(ACQUISITIONS, { source: 'network', outcome: 'success' })).toBe(1)
    expect(await value(ACQUISITIONS, { source: 'coalesced', outcome: 'success' })).toBe(1)
    expect(await value(ACQUISITIONS, { source: 'cache', outcome: 'success' })).toBe(1)
    expect(await count(DURATION, { outcome: 'success' })).toBe(1)
  })

  it('counts a refused request by its outcome, for the caller and the fetch', async () => {
    server.reply(() => errorReply(401, 'invalid_client'))
    await expect(client().getToken()).rejects.toMatchObject({ code: 'oauth_error' })
    expect(await value(ACQUISITIONS, { source: 'network', outcome: 'oauth_error' })).toBe(1)
    expect(await count(DURATION, { outcome: 'oauth_error' })).toBe(1)
  })

  it('counts a caller that gave up as aborted, and the request it left goes on', async () => {
    let release: () => void = () => {}
    server.reply(() => new Promise((resolve) => (release = () => resolve(tokenReply('late')))))
    const tokens = client()
    const controller = new AbortController()
    const gaveUp = tokens.getToken({ signal: controller.signal })
    const patient = tokens.getToken()
    await vi.waitFor(() => expect(server.requests).toHaveLength(1))
    controller.abort(new Error('caller gave up'))
    await expect(gaveUp).rejects.toThrow('caller gave up')
    release()
    await patient
    expect(await value(ACQUISITIONS, { source: 'network', outcome: 'aborted' })).toBe(1)
    expect(await value(ACQUISITIONS, { source: 'coalesced', outcome: 'success' })).toBe(1)
  })

  it('counts each retry by reason and each Retry-After answer', async () => {
    server.reply((_r, n) =>
      n === 1
        ? { status: 503, headers: { 'retry-after': '0' }, body: '' }
        : n === 2
          ? 'reset'
          : tokenReply('third'),
    )
    await expect(client().getToken()).resolves.toMatchObject({ value: 'third' })
    expect(await value('ccflow_client_token_retries_total', { reason: 'http_status' })).toBe(1)
    expect(await value('ccflow_client_token_retries_total', { reason: 'network' })).toBe(1)
    expect(await value('ccflow_client_throttled_total')).toBe(1)
    expect(await count(DURATION, { outcome: 'success' })).toBe(1)
  })

  it('never puts the token, the secret or a client assertion into the scrape', async () => {
    const tokens = client()
    const { value: token } = await tokens.getToken()
    server.reply(() => errorReply(400, 'invalid_scope'))
    await expect(tokens.getToken({ scope: 'other' })).rejects.toThrow()
    const text = await registry.metrics()
    for (const secret of [token, SECRET, 'billing', 'other', server.tokenEndpoint]) {
      expect(text).not.toContain(secret)
    }
  })

  it('stops counting and takes its metrics off the registry when stopped', async () => {
    stop()
    expect(await registry.getMetricsAsJSON()).toEqual([])
    await client().getToken()
    stop = registerClientMetrics({ registry })
    expect(await value(ACQUISITIONS, { source: 'network', outcome: 'success' })).toBe(0)
  })

  it('puts the prefix in front of every name', async () => {
    const other = new Registry()
    const stopOther = registerClientMetrics({ registry: other, prefix: 'myapp_' })
    try {
      expect((await other.getMetricsAsJSON()).map((m) => m.name)).toContain(
        'myapp_ccflow_client_throttled_total',
      )
    } finally {
      stopOther()
    }
  })

  it.each([
    [undefined, /options must be/],
    [{ registry: {} }, /option "registry" is required/],
    [{ registry: new Registry(), prefix: '1x' }, /prefix/],
    [{ registry: new Registry(), registy: 1 }, /registy/],
  ])('refuses %o', (options, message) => {
    expect(() => registerClientMetrics(options as never)).toThrow(message)
  })
})
