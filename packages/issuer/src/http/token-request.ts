import { AsyncResource } from 'node:async_hooks'
import type { IncomingMessage } from 'node:http'
import type { RequestHandler } from 'express'
import type { Client } from '../clients/client-store.js'
import { InvalidRequestError } from '../errors.js'
import type { ClientAuthMethod } from '../events.js'
import { parseForm } from './form.js'
import { setNoStore } from './respond.js'

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
}

// Per-request state lives beside the request, not on it: nothing is added to `req` for the app
// to trip over, and the entry goes away with the request.
const states = new WeakMap<IncomingMessage, TokenRequestState>()

/** The token-route state of `req`, or `undefined` if the request never entered the route. */
export function stateOf(req: IncomingMessage): TokenRequestState | undefined {
  return states.get(req)
}

// Names that RFC 6749 §2.3.1 forbids in the request URI.
const CREDENTIAL_PARAMETERS = ['client_id', 'client_secret'] as const
// RFC 8707 §2 lets `resource` repeat; RFC 8693 §2.1 lets `audience` repeat.
const REPEATABLE: ReadonlySet<string> = new Set(['resource', 'audience'])
const MAX_PARAMETERS = 64

/**
 * First step of the token route: marks the request as ours, sets the no-store headers that
 * every answer carries, and refuses client credentials in the query string.
 *
 * @see RFC 6749 §2.3.1 ("MUST NOT be included in the request URI"), §5.1
 */
export function beginTokenRequest(): RequestHandler {
  return (req, res, next) => {
    states.set(req, {
      bodyType: undefined,
      params: undefined,
      clientId: undefined,
      method: undefined,
      client: undefined,
    })
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

/**
 * Checks the request's media type before any of the body is read: a form (RFC 6749 §3.2), or
 * JSON when `allowJson` is set; the charset, if given, must be UTF-8 (RFC 6749 Appendix B).
 */
export function checkContentType(allowJson: boolean): RequestHandler {
  return (req, _res, next) => {
    const header = req.headers['content-type']
    const semi = header === undefined ? -1 : header.indexOf(';')
    const type = (semi === -1 ? header : header?.slice(0, semi))?.trim().toLowerCase()
    let bodyType: 'form' | 'json' | undefined
    if (type === 'application/x-www-form-urlencoded') bodyType = 'form'
    else if (allowJson && type === 'application/json') bodyType = 'json'
    if (bodyType === undefined) {
      next(
        new InvalidRequestError(
          allowJson
            ? 'The request body must be application/x-www-form-urlencoded or application/json.'
            : 'The request body must be application/x-www-form-urlencoded.',
          { reason: 'unsupported_content_type' },
        ),
      )
      return
    }
    if (semi !== -1 && header !== undefined) {
      const charset = /(?:^|;)\s*charset\s*=\s*"?([^";\s]*)"?/i.exec(header.slice(semi))?.[1]
      if (charset !== undefined && charset.toLowerCase() !== 'utf-8') {
        next(
          new InvalidRequestError('The request body must be encoded as UTF-8.', {
            reason: 'unsupported_charset',
          }),
        )
        return
      }
    }
    const state = states.get(req)
    if (state !== undefined) state.bodyType = bodyType
    next()
  }
}

/**
 * A failure while reading the body. `type` and `status` are the ones Express's body reader
 * (body-parser) gives the same failure, so the route's error handler answers both alike.
 */
class BodyReadError extends Error {
  /** body-parser's error type, such as `entity.too.large`. */
  readonly type: string
  /** The HTTP status body-parser would give it. */
  readonly status: number

  constructor(type: string, status: number, message: string) {
    super(message)
    this.type = type
    this.status = status
  }
}

/**
 * Reads the body into `req.body` as UTF-8 text, at most `limit` bytes, without compression.
 * Parsing is ours ({@link parseTokenParams}), so it is the same under Express 4 (querystring)
 * and 5 (qs) and sees every repeated parameter.
 *
 * It follows the rules of `express.text({ limit, inflate: false })`, which it replaces because
 * body-parser's general machinery (type-is, raw-body, iconv-lite, http-errors) was a large part
 * of the cost of a token request:
 * - a body the app already read (its own parser ran first) is left to {@link parseTokenParams};
 *   a request without a body (no `Content-Length`, no `Transfer-Encoding`) has none;
 * - `Content-Encoding` other than `identity` → `encoding.unsupported` (415);
 * - a declared `Content-Length` over the limit is refused before any byte is read, and a body
 *   that grows past it (chunked) as soon as it does → `entity.too.large` (413); the rest of the
 *   request is then read off and dropped, so the client gets the answer on a usable connection;
 * - a body that ends short of its `Content-Length`, or a request aborted or failing mid-body →
 *   `request.size.invalid` / `request.aborted` (400);
 * - bytes that are not UTF-8 become U+FFFD (which {@link parseTokenParams} refuses) and a
 *   leading byte order mark is dropped, as iconv-lite's decoder did.
 *
 * The continuation runs in the async context the request arrived with (as raw-body's did), so an
 * app's AsyncLocalStorage is still there in `extraClaims` and `onEvent`.
 */
export function readBody(limit: number): RequestHandler {
  return (req, _res, next) => {
    const socket = req.socket as IncomingMessage['socket'] | null
    // on-finished's isFinished(): already read (by the app's own parser), or nothing to read.
    if (
      (req as { upgrade?: boolean }).upgrade === true ||
      !socket ||
      !socket.readable ||
      (req.complete && !req.readable)
    ) {
      next()
      return
    }
    const headers = req.headers
    const declared = headers['content-length']
    // type-is hasBody(): without both headers there is no body at all (RFC 9112 §6.3).
    if (headers['transfer-encoding'] === undefined && declared === undefined) {
      next()
      return
    }
    const coding = headers['content-encoding']
    if (coding !== undefined && coding.toLowerCase() !== 'identity') {
      next(new BodyReadError('encoding.unsupported', 415, 'content encoding unsupported'))
      return
    }
    if (req.readableEncoding !== null) {
      next(new BodyReadError('stream.encoding.set', 500, 'stream encoding should not be set'))
      return
    }
    if (!req.readable) {
      next(new BodyReadError('stream.not.readable', 500, 'stream is not readable'))
      return
    }
    // Node's parser has checked the header's syntax; a value it let through is an integer.
    const length = declared === undefined ? undefined : Number(declared)
    const scope = new AsyncResource('ccflow.readBody')
    if (length !== undefined && length > limit) {
      discardRest(req, () => scope.runInAsyncScope(next, undefined, tooLarge()))
      return
    }

    let received = 0
    let first: Buffer | undefined
    let more: Buffer[] | undefined
    let settled = false
    const fail = (err: BodyReadError): void => {
      if (settled) return
      settled = true
      req.removeListener('data', onData)
      discardRest(req, () => scope.runInAsyncScope(next, undefined, err))
    }
    const onData = (chunk: Buffer): void => {
      received += chunk.length
      if (received > limit) fail(tooLarge())
      else if (first === undefined) first = chunk
      else (more ??= [first]).push(chunk)
    }
    // An aborted request emits 'error' (ECONNRESET) before 'close'.
    const onError = (): void => fail(new BodyReadError('request.aborted', 400, 'request aborted'))
    const onEnd = (): void => {
      // Listeners left on the request after this measurably slowed every request down.
      req.removeListener('data', onData)
      req.removeListener('error', onError)
      if (settled) return
      if (length !== undefined && received !== length) {
        fail(
          new BodyReadError(
            'request.size.invalid',
            400,
            'request size did not match content length',
          ),
        )
        return
      }
      settled = true
      const bytes = more === undefined ? first : Buffer.concat(more, received)
      const text = bytes === undefined ? '' : bytes.toString('utf8')
      req.body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text
      scope.runInAsyncScope(next, undefined)
    }
    req.on('data', onData)
    req.once('end', onEnd)
    req.on('error', onError)
  }
}

function tooLarge(): BodyReadError {
  return new BodyReadError('entity.too.large', 413, 'request entity too large')
}

/** Reads off and drops the rest of a refused request, then calls `done` (once). */
function discardRest(req: IncomingMessage, done: () => void): void {
  if (req.destroyed || (req.complete && !req.readable)) {
    done()
    return
  }
  let called = false
  const finish = (): void => {
    if (called) return
    called = true
    done()
  }
  req.once('end', finish)
  req.once('close', finish)
  req.once('error', finish)
  req.resume()
}

/**
 * Turns the body into {@link TokenParams}: no repeated parameter except `resource` and
 * `audience`, only string values, empty values dropped.
 *
 * If the app parsed the body before the router (its own `express.urlencoded()`), that object is
 * used: repeats show up there as arrays and are refused the same way.
 *
 * @see RFC 6749 §3.2 ("MUST NOT be included more than once", empty means omitted)
 */
export function parseTokenParams(): RequestHandler {
  return (req, _res, next) => {
    const state = states.get(req)
    const body: unknown = req.body
    let entries: Array<[string, unknown]>
    if (typeof body === 'string') {
      // The reader turned bytes that are not UTF-8 into U+FFFD. RFC 6749 Appendix B: the body is
      // UTF-8, and a compliant client percent-encodes anything non-ASCII, so refuse them the way
      // formDecode refuses a %-escape of the same bytes.
      if (body.includes('\uFFFD')) {
        next(malformed('malformed_body'))
        return
      }
      if (state?.bodyType === 'json') {
        const parsed = parseJson(body)
        if (parsed === undefined) {
          next(malformed('malformed_body'))
          return
        }
        entries = Object.entries(parsed)
      } else {
        const form = parseForm(body, MAX_PARAMETERS)
        if (!form.ok) {
          next(malformed(form.reason))
          return
        }
        entries = form.pairs
      }
    } else if (typeof body === 'object' && body !== null && !Array.isArray(body)) {
      entries = Object.entries(body)
    } else {
      entries = []
    }
    if (entries.length > MAX_PARAMETERS) {
      next(malformed('too_many_parameters'))
      return
    }

    const values = new Map<string, string>()
    const resource: string[] = []
    const audience: string[] = []
    for (const [name, raw] of entries) {
      const repeatable = REPEATABLE.has(name)
      if (Array.isArray(raw) && !repeatable) {
        next(raw.length > 1 ? duplicate() : malformed('invalid_parameter_type'))
        return
      }
      const list = Array.isArray(raw) ? (raw as unknown[]) : [raw]
      for (const value of list) {
        if (typeof value !== 'string') {
          next(malformed('invalid_parameter_type'))
          return
        }
        if (value === '') continue
        if (name === 'resource') resource.push(value)
        else if (name === 'audience') audience.push(value)
        else if (values.has(name)) {
          next(duplicate())
          return
        } else values.set(name, value)
      }
    }
    if (state !== undefined) state.params = { values, resource, audience }
    next()
  }
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text)
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined
  } catch {
    return undefined
  }
}

function duplicate(): InvalidRequestError {
  return new InvalidRequestError('A request parameter was sent more than once.', {
    reason: 'duplicate_parameter',
  })
}

function malformed(reason: string): InvalidRequestError {
  const description =
    reason === 'too_many_parameters'
      ? 'The request has too many parameters.'
      : reason === 'invalid_parameter_type'
        ? 'Every request parameter must be a single string value.'
        : 'The request body is malformed.'
  return new InvalidRequestError(description, { reason })
}
