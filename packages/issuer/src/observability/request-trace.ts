import {
  beginPhase,
  endPhase,
  isOperationObserved,
  operationChannels,
  phaseListFor,
  publishEnd,
  publishStart,
} from '@ccflow/core'
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { ServerResponse, type IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import { performance } from 'node:perf_hooks'
import type { RequestHandler } from 'express'
import { stateOf, type TokenRequestState } from '../http/request-state.js'
import type {
  IssuerOutcome,
  IssuerPhaseName,
  IssuerRequestMessage,
  IssuerRoute,
} from './channels.js'

// `ccflow:issuer:request:start` and `…:end` (ISSUER_CHANNELS.requestStart/requestEnd).
const requestChannels = operationChannels('issuer', 'request')

// How a trace learns that its answer is over, without a listener on each response. Express
// gives every `req` and `res` a map (hidden class) of its own: it swaps their prototypes, and V8
// keeps no shared transitions for the properties added after that. So every property access on
// them misses V8's inline caches, about 2,000 instructions each (measured with callgrind), and a
// `close` listener plus the reads at its end cost seven of them per request. Instead:
// - a finished answer is reported by Node on `http.server.response.finish`, one subscription for
//   the process while traces are open;
// - an answer the client went away from never finishes: its socket's `close` ends it, one
//   listener per connection (a keep-alive connection serves many requests), whose map is shared.
// A response that is not Node's `http.ServerResponse` (HTTP/2's compatibility API, a test
// double) falls back to its own `close` event.
const RESPONSE_FINISH_CHANNEL = 'http.server.response.finish'

/** The traces still open on each connection, with their requests, in the order they came in. */
const openBySocket = new WeakMap<Socket, Map<TokenRequestState, IncomingMessage>>()
let openTraces = 0
let finishSubscribed = false

/** What Node publishes on `http.server.response.finish`. */
interface ResponseFinish {
  readonly request: IncomingMessage
  readonly response: ServerResponse
  readonly socket: Socket
}

function onResponseFinish(data: unknown): void {
  const { request, response, socket } = data as ResponseFinish
  const open = openBySocket.get(socket)
  if (open !== undefined) {
    // Usually one entry; a request that entered the route twice has two traces to end.
    for (const [state, req] of open) {
      if (req !== request) continue
      open.delete(state)
      endIfOpen(state, response.statusCode)
    }
  }
  // Detached adapters leave no per-response cost behind once the last open trace has ended.
  if (openTraces === 0 && !isOperationObserved(requestChannels)) {
    unsubscribe(RESPONSE_FINISH_CHANNEL, onResponseFinish)
    finishSubscribed = false
  }
}

function onSocketClose(this: Socket): void {
  const open = openBySocket.get(this)
  if (open === undefined) return
  openBySocket.delete(this)
  for (const state of open.keys()) endIfOpen(state, undefined)
}

/** Arranges for `state`'s trace to end when the answer to `req` finishes or is abandoned. */
function watchAnswer(req: IncomingMessage, res: ServerResponse, state: TokenRequestState): void {
  const socket = req.socket as Socket | null | undefined
  if (!(res instanceof ServerResponse) || socket === null || socket === undefined) {
    res.on('close', () => {
      endIfOpen(state, res.writableFinished ? res.statusCode : undefined)
    })
    return
  }
  if (socket.destroyed) {
    // Gone before the request reached the route: its `close` has been emitted already.
    queueMicrotask(() => {
      endIfOpen(state, undefined)
    })
    return
  }
  if (!finishSubscribed) {
    subscribe(RESPONSE_FINISH_CHANNEL, onResponseFinish)
    finishSubscribed = true
  }
  let open = openBySocket.get(socket)
  if (open === undefined) {
    open = new Map()
    openBySocket.set(socket, open)
    socket.on('close', onSocketClose)
  }
  open.set(state, req)
}

/**
 * Starts the trace of a request entering `route`, or returns `undefined` (and does nothing, not
 * even read the clock) when nobody listens to the request channels. The trace ends when the
 * answer has been written, or when its connection closes before that.
 *
 * @internal
 */
export function beginRequestTrace(
  route: IssuerRoute,
  state: TokenRequestState,
  req: IncomingMessage,
  res: ServerResponse,
): IssuerRequestMessage | undefined {
  if (!isOperationObserved(requestChannels)) return undefined
  const message: IssuerRequestMessage = {
    route,
    startTime: performance.now(),
    endTime: undefined,
    phases: phaseListFor(requestChannels),
    outcome: undefined,
    reason: undefined,
    status: 0,
    grantType: undefined,
    authMethod: undefined,
    authenticated: false,
    clientId: undefined,
    revoked: undefined,
    active: undefined,
  }
  publishStart(requestChannels, message)
  openTraces++
  watchAnswer(req, res, state)
  return message
}

/** Ends `state`'s trace unless it has ended (or was never begun). */
function endIfOpen(state: TokenRequestState, status: number | undefined): void {
  const trace = state.trace
  if (trace !== undefined && trace.endTime === undefined) endRequestTrace(trace, state, status)
}

/** Ends a trace: `status` is the answer's, or `undefined` when no answer was finished. */
function endRequestTrace(
  message: IssuerRequestMessage,
  state: TokenRequestState,
  status: number | undefined,
): void {
  openTraces--
  message.endTime = performance.now()
  message.status = status ?? 0
  // Every refusal is recorded by the handler that answers it. An answer nobody recorded is a
  // success, unless the client went away before one was written.
  message.outcome ??= status === undefined ? 'aborted' : status < 400 ? 'success' : 'server_error'
  const grantType = state.params?.values.get('grant_type')
  message.grantType =
    grantType === undefined ? undefined : grantType === 'client_credentials' ? grantType : 'other'
  message.authMethod = state.method
  message.authenticated = state.client !== undefined
  message.clientId = state.client?.client_id ?? state.clientId
  publishEnd(requestChannels, message)
}

/**
 * Records how a traced request was answered (its `error` code and reason); a no-op for a
 * request that is not traced.
 *
 * @internal
 */
export function recordOutcome(
  state: TokenRequestState | undefined,
  outcome: Exclude<IssuerOutcome, 'success' | 'aborted'>,
  reason?: IssuerRequestMessage['reason'],
): void {
  const trace = state?.trace
  if (trace === undefined) return
  trace.outcome = outcome
  trace.reason = reason
}

/**
 * Times `handler` as the step `name` of a traced request: from its call to its `next()`. A step
 * that answers the request itself (a 429) ends, as failed, with the request.
 *
 * @internal
 */
export function timedStep(
  name: IssuerPhaseName,
  detail: string | undefined,
  handler: RequestHandler,
): RequestHandler {
  return (req, res, next) => {
    const trace = stateOf(req)?.trace
    const phase = trace === undefined ? undefined : beginPhase(trace, name, detail)
    if (phase === undefined) {
      handler(req, res, next)
      return
    }
    handler(req, res, (err?: unknown) => {
      endPhase(phase, err !== undefined && err !== null && err !== 'route' && err !== 'router')
      next(err)
    })
  }
}
