import type { Store } from 'express-rate-limit'
import request from 'supertest'
import { describe, expect, it, vi } from 'vitest'
import type { ClientStore } from '../src/clients/client-store.js'
import { withinTime } from '../src/unavailable.js'
import { basic, createApp, eventSpy, form, NO_STORE, secrets } from './helpers.js'

/** A rate-limit store whose every call fails, as a Redis store does while Redis is down. */
function brokenStore(): Store {
  const down = (): Promise<never> => Promise.reject(new Error('The client is offline'))
  return { increment: down, decrement: down, resetKey: down }
}

const tokenRequest = (app: Parameters<typeof request>[0]) =>
  request(app)
    .post('/token')
    .set('Authorization', basic('reporter', secrets.reporter.secret))
    .type('form')
    .send(form({ grant_type: 'client_credentials' }))

describe('a rate-limit store that fails', () => {
  it('lets token requests through and logs the error by default (fail open)', async () => {
    const logger = { warn: vi.fn(), error: vi.fn() }
    const app = createApp({
      rateLimit: {
        failures: { store: brokenStore(), logger },
        issuance: { store: brokenStore(), logger },
      },
    })
    const res = await tokenRequest(app)
    expect(res.status).toBe(200)
    expect(logger.error).toHaveBeenCalledWith(
      expect.any(Error),
      expect.stringContaining('allowing request without rate-limiting'),
    )
  })

  it.each(['failures', 'issuance'] as const)(
    'answers 503 temporarily_unavailable when the %s limiter is set to fail closed',
    async (limiter) => {
      const spy = eventSpy()
      const app = createApp({
        rateLimit: { [limiter]: { store: brokenStore(), passOnStoreError: false } },
        onEvent: spy.onEvent,
      })
      const res = await tokenRequest(app)
      expect(res.status).toBe(503)
      expect(res.body).toEqual({
        error: 'temporarily_unavailable',
        error_description:
          'The service is temporarily unavailable. Retry after the number of seconds in the Retry-After header.',
      })
      expect(res.headers['retry-after']).toBe('1')
      expect(res.headers).toMatchObject(NO_STORE)
      expect(spy.events('server_error')).toHaveLength(1)
      expect(spy.events('token_issued')).toHaveLength(0)
    },
  )
})

describe('withinTime', () => {
  it('settles like the value when it answers in time', async () => {
    await expect(withinTime(Promise.resolve('client'), 50, 'client_store')).resolves.toBe('client')
    await expect(withinTime('sync value', 50, 'client_store')).resolves.toBe('sync value')
  })

  it('rejects with TemporarilyUnavailableError naming the dependency when time runs out', async () => {
    const never = new Promise<never>(() => undefined)
    await expect(withinTime(never, 10, 'extra_claims')).rejects.toMatchObject({
      status: 503,
      store: 'extra_claims',
    })
  })
})

describe('hooks that never answer (hookTimeoutMs)', () => {
  const silentStore: ClientStore = { findClient: () => new Promise<never>(() => undefined) }

  it('answers 503 temporarily_unavailable when findClient does not answer within hookTimeoutMs', async () => {
    const spy = eventSpy()
    const app = createApp({ clients: silentStore, hookTimeoutMs: 20, onEvent: spy.onEvent })
    const res = await tokenRequest(app)
    expect(res.status).toBe(503)
    expect(res.body).toMatchObject({ error: 'temporarily_unavailable' })
    expect(res.headers['retry-after']).toBe('1')
    expect(res.headers).toMatchObject(NO_STORE)
    const [event] = spy.events('server_error')
    expect(event?.error).toMatchObject({ store: 'client_store' })
  })

  it('answers 503 and issues no token when extraClaims does not answer within hookTimeoutMs', async () => {
    const spy = eventSpy()
    const app = createApp({
      extraClaims: () => new Promise<never>(() => undefined),
      hookTimeoutMs: 20,
      onEvent: spy.onEvent,
    })
    const res = await tokenRequest(app)
    expect(res.status).toBe(503)
    expect(res.body).not.toHaveProperty('access_token')
    expect(spy.events('server_error')[0]?.error).toMatchObject({ store: 'extra_claims' })
    expect(spy.events('token_issued')).toHaveLength(0)
  })

  it.each([0, 1.5, 60_001, '100'])(
    'refuses hookTimeoutMs %s with a TypeError naming it',
    (value) => {
      expect(() => createApp({ hookTimeoutMs: value as number })).toThrow(
        /^tokenEndpoint: option "hookTimeoutMs" must be an integer from 1 to 60000$/,
      )
    },
  )
})
