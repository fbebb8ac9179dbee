import {
  beginPhase,
  endPhase,
  isOperationObserved,
  operationChannels,
  phaseListFor,
  publishEnd,
  publishStart,
} from '@ccflow/core'
import type { ServerResponse } from 'node:http'
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

/**
 * Starts the trace of a request entering `route`, or returns `undefined` (and does nothing, not
 * even read the clock) when nobody listens to the request channels. The trace ends when the
 * response closes, finished or not.
 *
 * @internal
 */
export function beginRequestTrace(
  route: IssuerRoute,
  state: TokenRequestState,
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
  // `on`, not `once`: a response closes once, and `once` costs a wrapper and a removal per request.
  res.on('close', () => {
    endRequestTrace(message, state, res)
  })
  return message
}

function endRequestTrace(
  message: IssuerRequestMessage,
  state: TokenRequestState,
  res: ServerResponse,
): void {
  message.endTime = performance.now()
  const finished = res.writableFinished
  message.status = finished ? res.statusCode : 0
  // Every refusal is recorded by the handler that answers it. An answer nobody recorded is a
  // success, unless the client went away before one was written.
  message.outcome ??= !finished ? 'aborted' : res.statusCode < 400 ? 'success' : 'server_error'
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
