import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import type { IncomingMessage, ServerResponse } from 'node:http'
import express, { type NextFunction, type Request, type Response } from 'express'
import request from 'supertest'
import { describe, expect, it, vi } from 'vitest'
import type { TokenRequestState } from '../../src/http/request-state.js'
import { beginTokenRequest } from '../../src/http/request-state.js'
import { ISSUER_CHANNELS, type IssuerRequestMessage } from '../../src/observability/channels.js'
import { recordOutcome, timedStep } from '../../src/observability/request-trace.js'

function state(trace?: IssuerRequestMessage): TokenRequestState {
  return {
    bodyType: undefined,
    params: undefined,
    clientId: undefined,
    method: undefined,
    client: undefined,
    trace,
  }
}

/** A request that entered the route while something listened: it has a trace. */
function tracedRequest(): { req: Request; res: Response; trace: () => IssuerRequestMessage } {
  const req = { url: '/token', headers: {} } as unknown as IncomingMessage as Request
  const listeners: Record<string, () => void> = {}
  const res = {
    setHeader: vi.fn(),
    on: (event: string, fn: () => void) => {
      listeners[event] = fn
    },
  } as unknown as ServerResponse as Response
  let message: IssuerRequestMessage | undefined
  const onStart = (m: unknown): void => {
    message = m as IssuerRequestMessage
  }
  subscribe(ISSUER_CHANNELS.requestStart, onStart)
  try {
    beginTokenRequest('token')(req, res, () => undefined)
  } finally {
    unsubscribe(ISSUER_CHANNELS.requestStart, onStart)
  }
  return { req, res, trace: () => message as IssuerRequestMessage }
}

describe('the end of a request trace', () => {
  it('calls an error answer that no ccflow handler recorded a server_error', async () => {
    const ends: IssuerRequestMessage[] = []
    const onEnd = (m: unknown): void => {
      ends.push(m as IssuerRequestMessage)
    }
    const app = express().post('/token', beginTokenRequest('token'), (_req, res) => {
      res.status(418).end()
    })
    subscribe(ISSUER_CHANNELS.requestEnd, onEnd)
    try {
      await request(app).post('/token')
      await vi.waitFor(() => {
        expect(ends).toHaveLength(1)
      })
    } finally {
      unsubscribe(ISSUER_CHANNELS.requestEnd, onEnd)
    }
    expect(ends[0]).toMatchObject({ outcome: 'server_error', status: 418, grantType: undefined })
  })
})

describe('recordOutcome', () => {
  it('does nothing for a request that is not traced', () => {
    const untraced = state()
    recordOutcome(untraced, 'invalid_scope', 'scope_not_allowed')
    recordOutcome(undefined, 'server_error')
    expect(untraced.trace).toBeUndefined()
  })
})

describe('timedStep', () => {
  it('hands an untraced request straight to the step', () => {
    const handler = vi.fn((_req: Request, _res: Response, next: NextFunction) => next())
    const next = vi.fn()
    timedStep('sign', undefined, handler)({} as Request, {} as Response, next)
    expect(handler).toHaveBeenCalledTimes(1)
    expect(next).toHaveBeenCalledWith()
  })

  it('times the step of a traced request and marks it failed on an error, not on next("route")', () => {
    const { req, res, trace } = tracedRequest()
    const next = vi.fn()
    timedStep('rate_limit', 'failures', (_q, _s, go) => go('route'))(req, res, next)
    timedStep('client_authentication', undefined, (_q, _s, go) => go(new Error('x')))(
      req,
      res,
      next,
    )
    expect(
      trace().phases.map((p) => [p.name, p.detail, p.failed, p.endTime !== undefined]),
    ).toEqual([
      ['rate_limit', 'failures', false, true],
      ['client_authentication', undefined, true, true],
    ])
    expect(next.mock.calls).toEqual([['route'], [new Error('x')]])
  })
})
