import { checkUrl, fetchIssuerMetadata, KeySourceFetchError } from '@ccflow/core'
import { TransportError } from '../errors.js'
import type { TokenClientConfig } from '../options/resolve.js'
import { endpointProblem } from '../options/resolve.js'
import { raceSignal } from '../race-signal.js'

/**
 * Resolves the token endpoint URL for one request: settles as soon as the URL is known, or
 * rejects with `signal.reason` as soon as this request's signal aborts (its deadline, say).
 */
export type EndpointResolver = (signal: AbortSignal) => Promise<URL>

/**
 * The token endpoint of a client: the configured URL, or the `token_endpoint` of the issuer's
 * RFC 8414 metadata, read once (one read at a time for every caller) and kept; a failed read is
 * not kept, so the next request asks again.
 *
 * The shared read belongs to no caller: it runs within its own timeout (the client's
 * `deadlineMs`) and stops only then or when `closed` aborts. Each caller waits for it within its
 * own signal, so a caller that gives up (its deadline passed, its `AbortSignal` fired) leaves the
 * others waiting, and the read goes on for them.
 *
 * @param closed Aborted when the client closes: stops a read still running.
 * @see https://www.rfc-editor.org/rfc/rfc8414#section-3
 */
export function createEndpointResolver(
  config: TokenClientConfig,
  closed?: AbortSignal,
): EndpointResolver {
  const source = config.endpoint
  if (source.kind === 'static') return () => Promise.resolve(source.url)
  let known: URL | undefined
  let pending: Promise<URL> | undefined
  const { fetch: send, dispatcher } = config
  const read = (): Promise<URL> => {
    const shared = fetchIssuerMetadata(source.issuer, source.issuerUrl, {
      timeout: config.deadlineMs,
      maxResponseBytes: config.maxResponseBytes,
      ...(closed === undefined ? {} : { signal: closed }),
      fetch: (input, init) =>
        send(input, dispatcher === undefined ? init : ({ ...init, dispatcher } as RequestInit)),
    })
      .then(({ metadata }) => {
        known = tokenEndpointOf(metadata.token_endpoint)
        return known
      }, discoveryFailed)
      .finally(() => {
        pending = undefined
      })
    // Every caller may have given up before the read ends: its failure is then nobody's.
    shared.catch(() => {})
    return shared
  }
  return (signal) => {
    if (known !== undefined) return Promise.resolve(known)
    if (signal.aborted) return Promise.reject(signal.reason as Error)
    pending ??= read()
    return raceSignal(pending, signal)
  }
}

function tokenEndpointOf(value: unknown): URL {
  try {
    return checkUrl(value, { where: 'issuer metadata', path: 'token_endpoint' }, endpointProblem)
  } catch (error) {
    throw new TransportError('discovery', 'issuer metadata has no usable token_endpoint', {
      retryable: false,
      cause: error,
    })
  }
}

function discoveryFailed(error: unknown): never {
  if (error instanceof TransportError) throw error
  const reason = error instanceof KeySourceFetchError ? error.reason : 'network'
  const status = error instanceof KeySourceFetchError ? error.status : undefined
  // Worth asking again later: the issuer or the network is down, not misconfigured.
  const retryable =
    reason === 'network' ||
    reason === 'timeout' ||
    (reason === 'http_status' && status !== undefined && status >= 500)
  throw new TransportError('discovery', `issuer metadata could not be read (${reason})`, {
    retryable,
    status,
    cause: error,
  })
}
