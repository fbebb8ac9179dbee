import type { IncomingMessage } from 'node:http'
import type { RequestHandler } from 'express'
import type { Client } from '../clients/client-store.js'
import { InvalidRequestError } from '../errors.js'
import type { ClientAuthMethod } from '../events.js'
import { setNoStore } from './respond.js'
import type { IssuerRequestMessage, IssuerRoute } from '../observability/channels.js'
import { beginRequestTrace } from '../observability/request-trace.js'

/** The parameters of one token request, checked for repeats and types. */
export interface TokenParams {
  /** Every single-valued parameter; empty values are absent (RFC 6749 §3.2). */
  readonly values: ReadonlyMap<string, string>
  /** `resource` values in request order (RFC 8707 §2 allows repeats). */
  readonly resource: readonly string[]
  /** `audience` values in request order (RFC 8693 §2.1 allows repeats). */
  readonly audience: readonly string[]
}

/** What the token route learns about one request as it passes the middleware. */
export interface TokenRequestState {
  bodyType: 'form' | 'json' | undefined
  params: TokenParams | undefined
  /** The client id the request named, known once credentials are decoded (for events). */
  clientId: string | undefined
  method: ClientAuthMethod | undefined
  /** The authenticated client record. */
  client: Client | undefined
  /** The request's trace, when anything listens to the request channels. */
  trace: IssuerRequestMessage | undefined
}

// Per-request state lives beside the request, not on it: nothing is added to `req` for the app
// to trip over, and the entry goes away with the request.
const states = new WeakMap<IncomingMessage, TokenRequestState>()

/** The token-route state of `req`, or `undefined` if the request never entered the route. */
export function stateOf(req: IncomingMessage): TokenRequestState | undefined {
  return states.get(req)
}

// Names that RFC 6749 §2.3.1 forbids in the request URI, and the private_key_jwt parameters,
// which RFC 7521 §4.2 sends in the form body: an assertion in a URL lands in access logs.
const CREDENTIAL_PARAMETERS = [
  'client_id',
  'client_secret',
  'client_assertion',
  'client_assertion_type',
] as const

/**
 * First step of the token, revocation and introspection routes: marks the request as ours
 * (and starts its trace when something listens), sets the no-store headers that every answer
 * carries, and refuses client credentials in the query string.
 *
 * @see RFC 6749 §2.3.1 ("MUST NOT be included in the request URI"), §5.1
 */
export function beginTokenRequest(route: IssuerRoute): RequestHandler {
  return (req, res, next) => {
    const state: TokenRequestState = {
      bodyType: undefined,
      params: undefined,
      clientId: undefined,
      method: undefined,
      client: undefined,
      trace: undefined,
    }
    states.set(req, state)
    state.trace = beginRequestTrace(route, state, req, res)
    setNoStore(res)
    const url = req.url
    const q = url.indexOf('?')
    if (q !== -1) {
      // Parsed here rather than read from req.query: the app's 'query parser' setting (or
      // Express 4's qs) must not decide whether a secret in the URL is noticed.
      const query = new URLSearchParams(url.slice(q + 1))
      if (CREDENTIAL_PARAMETERS.some((name) => query.has(name))) {
        next(
          new InvalidRequestError('Client credentials must not be sent in the request URI.', {
            reason: 'credentials_in_query',
          }),
        )
        return
      }
    }
    next()
  }
}
