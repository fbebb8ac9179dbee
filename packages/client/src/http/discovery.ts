import { checkUrl, fetchIssuerMetadata, KeySourceFetchError } from '@ccflow/core'
import { TransportError } from '../errors.js'
import type { TokenClientConfig } from '../options/resolve.js'
import { endpointProblem } from '../options/resolve.js'

/** Resolves the token endpoint URL within a request's signal and deadline. */
export type EndpointResolver = (signal: AbortSignal, deadlineAt: number) => Promise<URL>

/**
 * The token endpoint of a client: the configured URL, or the `token_endpoint` of the issuer's
 * RFC 8414 metadata, read once (one read at a time for every caller) and kept; a failed read is
 * not kept, so the next request asks again.
 *
 * @see https://www.rfc-editor.org/rfc/rfc8414#section-3
 */
export function createEndpointResolver(config: TokenClientConfig): EndpointResolver {
  const source = config.endpoint
  if (source.kind === 'static') return () => Promise.resolve(source.url)
  let known: URL | undefined
  let pending: Promise<URL> | undefined
  const { fetch: send, dispatcher } = config
  return (signal, deadlineAt) => {
    if (known !== undefined) return Promise.resolve(known)
    pending ??= fetchIssuerMetadata(source.issuer, source.issuerUrl, {
      timeout: Math.max(1, deadlineAt - Date.now()),
      maxResponseBytes: config.maxResponseBytes,
      signal,
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
    return pending
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
