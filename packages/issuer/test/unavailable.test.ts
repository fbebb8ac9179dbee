import type { Store } from 'express-rate-limit'
import request from 'supertest'
import { describe, expect, it, vi } from 'vitest'
import { TemporarilyUnavailableError } from '../src/unavailable.js'
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

describe('TemporarilyUnavailableError', () => {
  it('carries status 503, the code and the failed store', () => {
    const cause = new Error('down')
    const error = new TemporarilyUnavailableError('denylist', cause)
    expect(error).toMatchObject({
      status: 503,
      code: 'temporarily_unavailable',
      store: 'denylist',
      cause,
    })
  })
})

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
