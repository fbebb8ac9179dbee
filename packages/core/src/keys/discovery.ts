import { optionError, type OptionPath } from '../options/check.js'
import {
  type FetchLimits,
  fetchJson,
  KeySourceFetchError,
  parseKeySourceUrl,
} from './jwks-fetch.js'

/**
 * The metadata URLs tried for an issuer, in order (duplicates removed).
 *
 * 1. RFC 8414 §3.1: `/.well-known/oauth-authorization-server` is inserted between the host and
 *    the issuer's path, after removing a terminating `/`
 *    (`https://h/tenant` → `https://h/.well-known/oauth-authorization-server/tenant`).
 * 2. The same name appended to the issuer (`https://h/tenant/.well-known/oauth-authorization-server`):
 *    where a router mounted at the issuer's path (such as `@ccflow/issuer` under `/tenant`) can
 *    serve it. For an issuer without a path it is the same URL as 1 and is not asked twice.
 * 3. OpenID Connect Discovery 1.0 §4: `/.well-known/openid-configuration` is appended to the
 *    issuer (`https://h/tenant/.well-known/openid-configuration`), which is where OIDC providers
 *    (Keycloak, Auth0, Okta) publish it.
 */
export function wellKnownUrls(issuer: URL): URL[] {
  const path = issuer.pathname.replace(/\/$/, '')
  const inserted = new URL(`/.well-known/oauth-authorization-server${path}`, issuer.origin)
  const appended = new URL(`${issuer.origin}${path}/.well-known/oauth-authorization-server`)
  const openid = new URL(`${issuer.origin}${path}/.well-known/openid-configuration`)
  return inserted.href === appended.href ? [inserted, openid] : [inserted, appended, openid]
}

/**
 * Checks an issuer identifier for discovery: a key source URL (https, or http on loopback)
 * without query or fragment (RFC 8414 §2). Throws a TypeError naming the option.
 */
export function parseDiscoveryIssuer(issuer: unknown, at: OptionPath): URL {
  const url = parseKeySourceUrl(issuer, at)
  if (url.search !== '') {
    throw optionError(at.where, at.path, 'must not contain a query to be used for discovery')
  }
  return url
}

/**
 * Reads the issuer's authorization server metadata (RFC 8414) and returns it as a JSON object
 * whose `issuer` equals the configured issuer exactly.
 *
 * The URLs of {@link wellKnownUrls} are tried in order; the next one only when the previous
 * answers with a 4xx status (not published there). A 5xx, timeout or network failure is not a reason to ask
 * elsewhere: the issuer is down and the caller retries later. The metadata's `issuer` must
 * equal the configured issuer exactly, or the document is refused. Every failure names the URL
 * (and, for a mismatch, the metadata's issuer) so that the cause can be reported.
 *
 * @throws {KeySourceFetchError} when no valid metadata can be read.
 * @see RFC 8414 §3.3 (issuer equality), OpenID Connect Discovery 1.0 §4.3
 */
export async function fetchIssuerMetadata(
  issuer: string,
  issuerUrl: URL,
  limits: FetchLimits,
): Promise<{ metadata: Record<string, unknown>; url: string }> {
  const urls = wellKnownUrls(issuerUrl)
  for (let index = 0; ; index++) {
    const url = urls[index] as URL
    let metadata: unknown
    try {
      metadata = (await fetchJson(url, limits)).json
    } catch (error) {
      // fetchJson rejects with KeySourceFetchError only.
      const failure = error as KeySourceFetchError
      const notPublished =
        failure.reason === 'http_status' &&
        failure.status !== undefined &&
        failure.status >= 400 &&
        failure.status < 500
      if (notPublished && index < urls.length - 1) continue
      throw new KeySourceFetchError(failure.reason, failure.message, {
        cause: failure.cause,
        ...(failure.status === undefined ? {} : { status: failure.status }),
        url: url.href,
      })
    }
    return { metadata: checkedMetadata(metadata, issuer, url.href), url: url.href }
  }
}

function checkedMetadata(metadata: unknown, issuer: string, url: string): Record<string, unknown> {
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    throw new KeySourceFetchError('invalid_shape', 'issuer metadata is not a JSON object', { url })
  }
  const record = metadata as Record<string, unknown>
  // RFC 8414 §3.3: a different issuer value means the metadata MUST NOT be used, it may be
  // an attempt to make us trust another issuer's keys or endpoints.
  if (record.issuer !== issuer) {
    throw new KeySourceFetchError('issuer_mismatch', 'issuer metadata names a different issuer', {
      url,
      ...(typeof record.issuer === 'string' ? { metadataIssuer: record.issuer } : {}),
    })
  }
  return record
}

/**
 * Reads the issuer's metadata ({@link fetchIssuerMetadata}) and returns its `jwks_uri`.
 *
 * @throws {KeySourceFetchError} when no valid metadata or no usable `jwks_uri` can be read.
 */
export async function discoverJwksUri(
  issuer: string,
  issuerUrl: URL,
  limits: FetchLimits,
): Promise<URL> {
  const { metadata, url } = await fetchIssuerMetadata(issuer, issuerUrl, limits)
  try {
    return parseKeySourceUrl(metadata.jwks_uri, { where: 'issuer metadata', path: 'jwks_uri' })
  } catch (error) {
    throw new KeySourceFetchError('invalid_shape', 'issuer metadata has no usable jwks_uri', {
      cause: error,
      url,
    })
  }
}
