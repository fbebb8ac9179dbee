import type { RequestHandler } from 'express'
import { InvalidRequestError, type TokenErrorReason } from '../errors.js'
import { parseForm } from './form.js'
import { stateOf } from './request-state.js'

// RFC 8707 §2 lets `resource` repeat; RFC 8693 §2.1 lets `audience` repeat.
const REPEATABLE: ReadonlySet<string> = new Set(['resource', 'audience'])
const MAX_PARAMETERS = 64

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
    const state = stateOf(req)
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

function malformed(reason: TokenErrorReason): InvalidRequestError {
  const description =
    reason === 'too_many_parameters'
      ? 'The request has too many parameters.'
      : reason === 'invalid_parameter_type'
        ? 'Every request parameter must be a single string value.'
        : 'The request body is malformed.'
  return new InvalidRequestError(description, { reason })
}
