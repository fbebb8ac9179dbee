import { channel, subscribe, unsubscribe } from 'node:diagnostics_channel'
import { Agent, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
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
    listeners,
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

/** Collects the ends published while subscribed. */
function listenEnds(): { ends: IssuerRequestMessage[]; stop: () => void } {
  const ends: IssuerRequestMessage[] = []
  const onEnd = (m: unknown): void => {
    ends.push(m as IssuerRequestMessage)
  }
  subscribe(ISSUER_CHANNELS.requestEnd, onEnd)
  return { ends, stop: () => unsubscribe(ISSUER_CHANNELS.requestEnd, onEnd) }
}

/** POSTs `/token` `count` times, one after the other, on one keep-alive connection. */
async function postInSequence(port: number, count: number): Promise<number[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
  const statuses: number[] = []
  try {
    for (let i = 0; i < count; i++) {
      statuses.push(
        await new Promise<number>((resolve, reject) => {
          const req = httpRequest(
            { host: '127.0.0.1', port, method: 'POST', path: '/token', agent },
            (res) => {
              res.resume()
              res.on('end', () => resolve(res.statusCode ?? 0))
            },
          )
          req.on('error', reject)
          req.end()
        }),
      )
    }
  } finally {
    agent.destroy()
  }
  return statuses
}

describe('how a traced request learns that its answer is over', () => {
  it('adds no listener to the response, one close listener per connection, and ends every request', async () => {
    const closeListeners: number[] = []
    const connections: Socket[] = []
    const app = express().post('/token', beginTokenRequest('token'), (req, res) => {
      closeListeners.push(res.listenerCount('close'))
      res.status(req.headers['x-fail'] === undefined ? 200 : 400).end()
    })
    const server = app.listen(0, '127.0.0.1')
    server.on('connection', (socket: Socket) => connections.push(socket))
    await new Promise((resolve) => server.once('listening', resolve))
    const { port } = server.address() as AddressInfo
    try {
      await postInSequence(port, 1) // untraced: the baseline
      const untracedSocketListeners = connections[0]?.listenerCount('close') ?? -1
      const { ends, stop } = listenEnds()
      try {
        expect(await postInSequence(port, 3)).toEqual([200, 200, 200])
        await vi.waitFor(() => {
          expect(ends).toHaveLength(3)
        })
        expect(connections).toHaveLength(2)
        expect(connections[1]?.listenerCount('close')).toBe(untracedSocketListeners + 1)
      } finally {
        stop()
      }
      expect(new Set(closeListeners)).toEqual(new Set([closeListeners[0]]))
      expect(ends.map((m) => [m.outcome, m.status])).toEqual([
        ['success', 200],
        ['success', 200],
        ['success', 200],
      ])
      for (const m of ends) expect(m.endTime).toBeGreaterThanOrEqual(m.startTime)
    } finally {
      server.close()
    }
  })

  it('ends both traces of a request that entered the route twice when its answer finishes', async () => {
    const app = express().post(
      '/token',
      beginTokenRequest('token'),
      beginTokenRequest('token'),
      (_req, res) => {
        res.status(201).end()
      },
    )
    const { ends, stop } = listenEnds()
    try {
      await request(app).post('/token')
      await vi.waitFor(() => {
        expect(ends).toHaveLength(2)
      })
    } finally {
      stop()
    }
    expect(ends.map((m) => [m.outcome, m.status])).toEqual([
      ['success', 201],
      ['success', 201],
    ])
  })

  it('leaves http.server.response.finish once nothing listens and no trace is open', async () => {
    const finish = channel('http.server.response.finish')
    const app = express().post('/token', beginTokenRequest('token'), (_req, res) => {
      res.end()
    })
    const { ends, stop } = listenEnds()
    try {
      await request(app).post('/token')
      await vi.waitFor(() => {
        expect(ends).toHaveLength(1)
      })
      expect(finish.hasSubscribers).toBe(true)
    } finally {
      stop()
    }
    // The first answer finished after the last subscriber left takes the subscription down.
    await request(app).post('/token')
    expect(finish.hasSubscribers).toBe(false)
  })

  it('ends a request as aborted when its connection was closed before it reached the route', async () => {
    const { ends, stop } = listenEnds()
    try {
      const app = express().post(
        '/token',
        (req, _res, next) => {
          req.socket.destroy()
          next()
        },
        beginTokenRequest('token'),
        (_req, res) => {
          res.end()
        },
      )
      await request(app)
        .post('/token')
        .catch(() => undefined)
      await vi.waitFor(() => {
        expect(ends).toHaveLength(1)
      })
    } finally {
      stop()
    }
    expect(ends[0]).toMatchObject({ outcome: 'aborted', status: 0 })
  })

  it('falls back to the close event of a response that is not an http.ServerResponse, and ends once', () => {
    const { ends, stop } = listenEnds()
    try {
      const { res } = tracedRequest()
      const listeners = (res as unknown as { listeners: Record<string, () => void> }).listeners
      Object.assign(res, { writableFinished: true, statusCode: 204 })
      listeners['close']?.()
      listeners['close']?.()
    } finally {
      stop()
    }
    expect(ends.map((m) => [m.outcome, m.status])).toEqual([['success', 204]])
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
