/**
 * The one log line per request: what the server learned while answering it (the outcome, the
 * reason of a refusal, the client) gathered in an AsyncLocalStorage record that the issuer's and
 * the guard's event hooks fill in, then written when the response is finished.
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import type { ServerResponse } from 'node:http'

/** What the event hooks learned about the request being answered. */
export interface RequestFacts {
  /** `success`, an OAuth error code (`invalid_client`, `invalid_token`, …), or a status class. */
  outcome?: string | undefined
  /** The stable reason of a refusal (`wrong_secret`, `token_expired`, …). */
  reason?: string | undefined
  /** The client the request named or authenticated as (cut to 128 characters). */
  clientId?: string | undefined
}

const facts = new AsyncLocalStorage<RequestFacts>()

/** The longest client id written to a log line; longer ones are cut. */
const MAX_CLIENT_ID = 128

/** Runs `handle` (and everything it starts) with `record` as the target of {@link noteRequest}. */
export function withRequestFacts(record: RequestFacts, handle: () => void): void {
  facts.run(record, handle)
}

/**
 * Adds what an event says to the record of the request being answered (a no-op outside one,
 * e.g. for a key set fetched in the background). Set fields are not overwritten by `undefined`.
 */
export function noteRequest(update: RequestFacts): void {
  const record = facts.getStore()
  if (record === undefined) return
  if (update.outcome !== undefined) record.outcome = update.outcome
  if (update.reason !== undefined) record.reason = update.reason
  if (update.clientId !== undefined) record.clientId = update.clientId.slice(0, MAX_CLIENT_ID)
}

/** The fields of a request's log line (`msg` is `request`). */
export interface RequestLine {
  method: string
  /** The path, without the query string (which may carry credentials), at most 200 characters. */
  route: string
  status: number
  duration_ms: number
  outcome: string
  reason?: string
  client_id?: string
}

/**
 * The log line of a finished request. Without an outcome from an event: `error="…"` of an
 * RFC 6750 challenge (`insufficient_scope`, …), `missing_token` for a bare 401 challenge, else
 * the status class: `success`, `not_found`, `client_error`, `unavailable` or `server_error`.
 */
export function requestLine(
  method: string | undefined,
  path: string,
  res: ServerResponse,
  durationMs: number,
  record: RequestFacts,
): RequestLine {
  const line: RequestLine = {
    method: method ?? '-',
    route: path.slice(0, 200),
    status: res.statusCode,
    duration_ms: Math.round(durationMs * 10) / 10,
    outcome: record.outcome ?? outcomeOf(res),
  }
  if (record.reason !== undefined) line.reason = record.reason
  if (record.clientId !== undefined) line.client_id = record.clientId
  return line
}

function outcomeOf(res: ServerResponse): string {
  const status = res.statusCode
  if (status < 400) return 'success'
  const challenge = res.getHeader('www-authenticate')
  if (typeof challenge === 'string' && /^Bearer\b/i.test(challenge)) {
    return /\berror="([a-z_]{1,40})"/.exec(challenge)?.[1] ?? 'missing_token'
  }
  if (status === 404) return 'not_found'
  if (status === 503) return 'unavailable'
  return status < 500 ? 'client_error' : 'server_error'
}
