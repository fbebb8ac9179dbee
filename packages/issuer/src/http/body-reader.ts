import { AsyncResource } from 'node:async_hooks'
import type { IncomingMessage } from 'node:http'
import type { RequestHandler } from 'express'
import { InvalidRequestError } from '../errors.js'
import { stateOf } from './request-state.js'

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
    const state = stateOf(req)
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
