import { readCappedText } from '../http/read-capped.js'
import { isSecureOrLoopback } from '../url.js'
import { checkUrl, type OptionPath } from '../options/check.js'

// Bounded HTTP GET of a JSON document (a JWKS or authorization server metadata) on Node's global
// fetch (undici), or on the caller's injected one: one AbortSignal covers connect, redirects and the body, the body is streamed
// against a byte cap, and redirects are followed only within the configured origin.

/** Why a key source request failed; stable, safe to log and to put in metrics. */
export type KeySourceFailureReason =
  | 'timeout'
  | 'network'
  | 'aborted'
  | 'http_status'
  | 'redirect'
  | 'too_large'
  | 'invalid_json'
  | 'invalid_shape'
  | 'issuer_mismatch'
  | 'no_usable_keys'

/**
 * A failed key source request. Internal: the remote key set turns it into a
 * `KeySetUnavailableError` when no usable key set is left.
 */
export class KeySourceFetchError extends Error {
  override readonly name = 'KeySourceFetchError'
  readonly reason: KeySourceFailureReason
  /** HTTP status when `reason` is `http_status`. */
  readonly status: number | undefined
  /** The URL that failed, when the thrower knows it (discovery sets it). */
  readonly url: string | undefined
  /** With `issuer_mismatch`: the `issuer` the metadata names, when it is a string. */
  readonly metadataIssuer: string | undefined

  constructor(
    reason: KeySourceFailureReason,
    message: string,
    options?: {
      cause?: unknown
      status?: number | undefined
      url?: string | undefined
      metadataIssuer?: string | undefined
    },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.reason = reason
    this.status = options?.status
    this.url = options?.url
    this.metadataIssuer = options?.metadataIssuer
  }
}

/**
 * The fetch a key source request goes through: the global `fetch`, or one the caller injects
 * (the issuer's, whose connections are address-filtered). It is called with an absolute URL and
 * an `init` holding `method: 'GET'`, an `accept` header, `redirect: 'manual'` and a `signal`
 * that it must honour.
 */
export type KeySourceFetch = (input: URL, init: RequestInit) => Promise<Response>

/** Limits for one bounded request. */
export interface FetchLimits {
  /** Milliseconds for the whole request: connect, redirects and body. */
  timeout: number
  /** Largest accepted body in bytes. */
  maxResponseBytes: number
  /** Aborts the request early (the key set's close()). */
  signal?: AbortSignal
  /** The fetch to use; the global `fetch` when absent. */
  fetch?: KeySourceFetch | undefined
}

/** A parsed JSON response and the headers that carry caching information. */
export interface JsonResponse {
  json: unknown
  headers: Headers
  /** The URL the document was finally read from (after same-origin redirects). */
  url: string
}

// Same-origin redirects (a trailing slash, a versioned path, a CDN rewrite) are common and
// harmless; a redirect to another origin would move the trust anchor to a host the operator
// never configured, so it is refused. A short chain is enough for every real deployment.
const MAX_REDIRECTS = 3

/**
 * Parses a key source URL: https, or http only for a loopback host (local development and
 * tests), without credentials or fragment.
 *
 * @throws {TypeError} `<where>: option "<path>" …` naming the option.
 */
export function parseKeySourceUrl(value: unknown, at: OptionPath): URL {
  return checkUrl(value, at, (url) => {
    if (!isSecureOrLoopback(url)) return 'must use https (http is allowed only for localhost)'
    if (url.username !== '' || url.password !== '') return 'must not contain credentials'
    if (url.hash !== '') return 'must not contain a fragment'
    return undefined
  })
}

/**
 * GETs `url` and parses the body as JSON, within `limits`. Rejects with a
 * {@link KeySourceFetchError}; never with a raw fetch or parse error.
 */
export async function fetchJson(url: URL, limits: FetchLimits): Promise<JsonResponse> {
  const timeoutSignal = AbortSignal.timeout(limits.timeout)
  const signal =
    limits.signal === undefined ? timeoutSignal : AbortSignal.any([timeoutSignal, limits.signal])
  const send: KeySourceFetch = limits.fetch ?? fetch
  try {
    let current = url
    for (let hop = 0; ; hop++) {
      const response = await send(current, {
        method: 'GET',
        headers: { accept: 'application/json, application/jwk-set+json' },
        redirect: 'manual',
        signal,
      })
      if (response.status >= 300 && response.status < 400) {
        await response.body?.cancel()
        current = nextRedirect(current, response, hop)
        continue
      }
      if (!response.ok) {
        await response.body?.cancel()
        throw new KeySourceFetchError(
          'http_status',
          `key source answered HTTP ${response.status}`,
          {
            status: response.status,
          },
        )
      }
      const text = await readText(response, limits.maxResponseBytes)
      let json: unknown
      try {
        json = JSON.parse(text)
      } catch (error) {
        throw new KeySourceFetchError('invalid_json', 'key source response is not JSON', {
          cause: error,
        })
      }
      return { json, headers: response.headers, url: current.href }
    }
  } catch (error) {
    if (error instanceof KeySourceFetchError) throw error
    if (timeoutSignal.aborted) {
      throw new KeySourceFetchError(
        'timeout',
        `key source did not answer within ${limits.timeout} ms`,
        {
          cause: error,
        },
      )
    }
    if (limits.signal?.aborted === true) {
      throw new KeySourceFetchError('aborted', 'key source request aborted', { cause: error })
    }
    throw new KeySourceFetchError('network', 'key source request failed', { cause: error })
  }
}

function nextRedirect(current: URL, response: Response, hop: number): URL {
  const location = response.headers.get('location')
  if (location === null || hop >= MAX_REDIRECTS) {
    throw new KeySourceFetchError('redirect', 'key source redirected too often or without Location')
  }
  let next: URL
  try {
    next = new URL(location, current)
  } catch (error) {
    throw new KeySourceFetchError('redirect', 'key source redirected to an invalid URL', {
      cause: error,
    })
  }
  if (next.origin !== current.origin) {
    throw new KeySourceFetchError('redirect', 'key source redirected to another origin')
  }
  return next
}

async function readText(response: Response, maxBytes: number): Promise<string> {
  const read = await readCappedText(response, maxBytes)
  if ('text' in read) return read.text
  if (read.problem === 'too_large') throw tooLarge(maxBytes)
  throw new KeySourceFetchError('invalid_json', 'key source response is not UTF-8')
}

function tooLarge(maxBytes: number): KeySourceFetchError {
  return new KeySourceFetchError('too_large', `key source response exceeds ${maxBytes} bytes`)
}

/**
 * Freshness lifetime in seconds from `Cache-Control: max-age` minus `Age` (RFC 9111 §4.2.1,
 * §5.1), or undefined when the response carries none or forbids storing (`no-store`,
 * `no-cache`): the caller then applies its configured default. Not clamped here.
 */
export function freshnessLifetime(headers: Headers): number | undefined {
  const cacheControl = headers.get('cache-control')
  if (cacheControl === null) return undefined
  let maxAge: number | undefined
  for (const directive of cacheControl.split(',')) {
    const [rawName = '', rawValue] = directive.split('=', 2)
    const name = rawName.trim().toLowerCase()
    if (name === 'no-store' || name === 'no-cache') return undefined
    if (name === 'max-age' && rawValue !== undefined) {
      const value = rawValue.trim().replace(/^"(.*)"$/, '$1')
      // RFC 9111 §1.2.2: delta-seconds is 1*DIGIT; anything else makes the directive invalid.
      if (/^\d{1,10}$/.test(value)) maxAge = Number(value)
    }
  }
  if (maxAge === undefined) return undefined
  const age = headers.get('age')
  const ageSeconds = age !== null && /^\d{1,10}$/.test(age.trim()) ? Number(age.trim()) : 0
  return Math.max(0, maxAge - ageSeconds)
}
