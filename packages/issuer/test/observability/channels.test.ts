import { channel, subscribe, unsubscribe } from 'node:diagnostics_channel'
import request from 'supertest'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { ISSUER_CHANNELS, type IssuerRequestMessage } from '../../src/observability/channels.js'
import type { IssuerEvent } from '../../src/events.js'
import { basic, createApp, form, secrets } from '../helpers.js'

const REPORTER = basic('reporter', secrets.reporter.secret)
const GRANT = { grant_type: 'client_credentials' }

/** A client_credentials token request with the given Authorization header. */
function tokenRequest(app: Parameters<typeof request>[0], authorization: string): request.Test {
  return request(app)
    .post('/token')
    .set('Authorization', authorization)
    .type('form')
    .send(form(GRANT))
}

/** Collects what is published on `name` while subscribed. */
function listen<T>(name: string): { messages: T[]; stop: () => void } {
  const messages: T[] = []
  const onMessage = (message: unknown): void => {
    messages.push(message as T)
  }
  subscribe(name, onMessage)
  return { messages, stop: () => unsubscribe(name, onMessage) }
}

afterEach(() => {
  vi.restoreAllMocks()
})

describe('ISSUER_CHANNELS', () => {
  it('names the channels ccflow:issuer:<topic>', () => {
    expect(ISSUER_CHANNELS).toEqual({
      event: 'ccflow:issuer:event',
      requestStart: 'ccflow:issuer:request:start',
      requestEnd: 'ccflow:issuer:request:end',
      snapshot: 'ccflow:issuer:snapshot',
    })
  })
})

describe('ccflow:issuer:event', () => {
  it('carries every event the onEvent hook gets, the same objects', async () => {
    const onEvent = vi.fn()
    const published = listen<IssuerEvent>(ISSUER_CHANNELS.event)
    try {
      const app = createApp({ rateLimit: false, onEvent })
      await tokenRequest(app, REPORTER)
      await request(app)
        .post('/token')
        .set('Authorization', basic('reporter', 'x'))
        .type('form')
        .send(form(GRANT))
    } finally {
      published.stop()
    }
    expect(published.messages.map((e) => e.type)).toEqual(['token_issued', 'authentication_failed'])
    expect(onEvent.mock.calls.map(([e]) => e as unknown)).toEqual(published.messages)
    expect(onEvent.mock.calls[0]?.[0]).toBe(published.messages[0])
  })

  it('carries the events of an endpoint without an onEvent hook', async () => {
    const published = listen<IssuerEvent>(ISSUER_CHANNELS.event)
    try {
      const app = createApp({ rateLimit: false })
      await tokenRequest(app, REPORTER)
    } finally {
      published.stop()
    }
    expect(published.messages).toEqual([
      expect.objectContaining({ type: 'token_issued', clientId: 'reporter' }),
    ])
  })
})

describe('ccflow:issuer:request:start and :end', () => {
  it('publishes the same message when the request enters the route and, completed, when it ends', async () => {
    const starts = listen<IssuerRequestMessage>(ISSUER_CHANNELS.requestStart)
    const ends = listen<IssuerRequestMessage>(ISSUER_CHANNELS.requestEnd)
    let atStart: Partial<IssuerRequestMessage> | undefined
    const peek = (m: unknown): void => {
      atStart ??= { ...(m as IssuerRequestMessage) }
    }
    subscribe(ISSUER_CHANNELS.requestStart, peek)
    try {
      const app = createApp()
      await tokenRequest(app, REPORTER)
    } finally {
      starts.stop()
      ends.stop()
      unsubscribe(ISSUER_CHANNELS.requestStart, peek)
    }
    expect(starts.messages).toHaveLength(1)
    expect(ends.messages[0]).toBe(starts.messages[0])
    expect(atStart).toMatchObject({ route: 'token', outcome: undefined, endTime: undefined })
    expect(ends.messages[0]).toMatchObject({
      route: 'token',
      outcome: 'success',
      status: 200,
      grantType: 'client_credentials',
      authMethod: 'client_secret_basic',
      authenticated: true,
      clientId: 'reporter',
      reason: undefined,
    })
    const message = ends.messages[0] as IssuerRequestMessage
    expect(message.endTime).toBeGreaterThanOrEqual(message.startTime)
    expect(message.phases.map((p) => [p.name, p.detail, p.failed])).toEqual([
      ['rate_limit', 'failures', false],
      ['client_authentication', undefined, false],
      ['rate_limit', 'issuance', false],
      ['sign', undefined, false],
    ])
  })

  it('records a refusal with its error code and reason, and the claimed client id', async () => {
    const starts = listen<IssuerRequestMessage>(ISSUER_CHANNELS.requestStart)
    const ends = listen<IssuerRequestMessage>(ISSUER_CHANNELS.requestEnd)
    try {
      const app = createApp({ rateLimit: false })
      await request(app)
        .post('/token')
        .type('form')
        .send(form({ grant_type: 'password', client_id: 'reporter', client_secret: 'nope' }))
    } finally {
      starts.stop()
      ends.stop()
    }
    expect(ends.messages[0]).toMatchObject({
      outcome: 'invalid_client',
      reason: 'wrong_secret',
      status: 401,
      grantType: 'other',
      authMethod: 'client_secret_post',
      authenticated: false,
      clientId: 'reporter',
    })
    expect(ends.messages[0]?.phases.map((p) => [p.name, p.failed])).toEqual([
      ['client_authentication', true],
    ])
  })

  it('ends a 429 with the limiter step failed', async () => {
    const starts = listen<IssuerRequestMessage>(ISSUER_CHANNELS.requestStart)
    const ends = listen<IssuerRequestMessage>(ISSUER_CHANNELS.requestEnd)
    try {
      const app = createApp({ rateLimit: { failures: false, issuance: { limit: 1 } } })
      for (let i = 0; i < 2; i++) {
        await tokenRequest(app, REPORTER)
      }
    } finally {
      starts.stop()
      ends.stop()
    }
    expect(ends.messages[1]).toMatchObject({ outcome: 'too_many_requests', status: 429 })
    expect(ends.messages[1]?.phases.map((p) => [p.name, p.detail, p.failed])).toEqual([
      ['client_authentication', undefined, false],
      ['rate_limit', 'issuance', true],
    ])
  })

  it('times no steps when only :end has subscribers (metrics): phases stay empty, the outcome is complete', async () => {
    const ends = listen<IssuerRequestMessage>(ISSUER_CHANNELS.requestEnd)
    try {
      const app = createApp()
      await tokenRequest(app, REPORTER)
    } finally {
      ends.stop()
    }
    expect(ends.messages[0]).toMatchObject({ outcome: 'success', status: 200, phases: [] })
    expect(ends.messages[0]?.endTime).toBeGreaterThanOrEqual(ends.messages[0]?.startTime ?? 0)
  })

  it('ends a request whose client went away before the answer as aborted, with status 0', async () => {
    const ends = listen<IssuerRequestMessage>(ISSUER_CHANNELS.requestEnd)
    let release: () => void = () => undefined
    const app = createApp({
      rateLimit: false,
      clients: {
        findClient: () =>
          new Promise((resolve) => {
            release = () => resolve(undefined)
          }),
      },
    })
    const server = app.listen(0, '127.0.0.1')
    try {
      await new Promise((resolve) => server.once('listening', resolve))
      const { port } = server.address() as { port: number }
      const controller = new AbortController()
      const pending = fetch(`http://127.0.0.1:${port}/token`, {
        method: 'POST',
        headers: { authorization: REPORTER, 'content-type': 'application/x-www-form-urlencoded' },
        body: form(GRANT),
        signal: controller.signal,
      }).catch(() => undefined)
      await vi.waitFor(() => {
        expect(release).not.toBe(undefined)
      })
      await new Promise((resolve) => setTimeout(resolve, 50))
      controller.abort()
      await pending
      await vi.waitFor(() => {
        expect(ends.messages).toHaveLength(1)
      })
      release()
    } finally {
      ends.stop()
      server.close()
    }
    expect(ends.messages[0]).toMatchObject({ outcome: 'aborted', status: 0, clientId: 'reporter' })
  })

  it('publishes nothing, on any channel, when nobody subscribes', async () => {
    const publishes = [
      ISSUER_CHANNELS.event,
      ISSUER_CHANNELS.requestStart,
      ISSUER_CHANNELS.requestEnd,
    ].map((name) => vi.spyOn(channel(name), 'publish'))
    const app = createApp({ rateLimit: { failures: { limit: 1 } } })
    await request(app).post('/token').set('Authorization', REPORTER).type('form').send(form(GRANT))
    await request(app)
      .post('/token')
      .set('Authorization', basic('reporter', 'x'))
      .type('form')
      .send(form(GRANT))
    await request(app)
      .post('/token')
      .set('Authorization', basic('reporter', 'x'))
      .type('form')
      .send(form(GRANT))
    for (const publish of publishes) expect(publish).not.toHaveBeenCalled()
  })
})
