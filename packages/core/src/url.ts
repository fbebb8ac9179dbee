/** Hosts for which plain `http` is allowed: local development and tests only. */
export const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['localhost', '127.0.0.1', '[::1]'])

/**
 * Whether `url` may be used as a trust anchor (an issuer, a JWKS or metadata URL): `https`, or
 * `http` on a loopback host (RFC 8414 §2 and RFC 9700 §4.1: TLS for everything else).
 */
export function isSecureOrLoopback(url: URL): boolean {
  return url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname))
}
