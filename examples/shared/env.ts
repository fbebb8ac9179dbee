/**
 * Reading the environment of the example programs. Every problem is a {@link ConfigError} whose
 * message says what to fix; the server entries print it as one line and exit 1.
 */

/** A configuration problem the operator can fix; `message` names the variable or the file. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError'
}

/** The environment, as `process.env` or a plain object in tests. */
export type Env = Readonly<Record<string, string | undefined>>

/** A non-empty variable, trimmed; `undefined` when unset or blank. */
export function optional(env: Env, name: string): string | undefined {
  const value = env[name]?.trim()
  return value === undefined || value === '' ? undefined : value
}

/** A variable that must be set. */
export function required(env: Env, name: string, what: string): string {
  const value = optional(env, name)
  if (value === undefined) throw new ConfigError(`${name} is required (${what})`)
  return value
}

/** `HOST`: the interface to bind. Loopback by default, so nothing is exposed by accident. */
export function host(env: Env): string {
  return optional(env, 'HOST') ?? '127.0.0.1'
}

/** `PORT`: 0–65535, where 0 asks the system for a free port. */
export function port(env: Env, fallback: number): number {
  const value = optional(env, 'PORT')
  if (value === undefined) return fallback
  const parsed = Number(value)
  if (!/^\d+$/.test(value) || parsed > 65_535) {
    throw new ConfigError('PORT must be an integer from 0 to 65535 (0 picks a free port)')
  }
  return parsed
}

/** Where the metrics listener binds (`METRICS_HOST`, `METRICS_PORT`). */
export interface MetricsListener {
  host: string
  port: number
}

/**
 * `METRICS_PORT` (0–65535; 0 picks a free port) and `METRICS_HOST` (default `127.0.0.1`, so
 * the metrics are not exposed by accident): the second listener that serves `GET /metrics`.
 * `undefined` when `METRICS_PORT` is unset: no metrics listener at all.
 */
export function metricsListener(env: Env): MetricsListener | undefined {
  const value = optional(env, 'METRICS_PORT')
  const host = optional(env, 'METRICS_HOST')
  if (value === undefined) {
    if (host !== undefined) throw new ConfigError('METRICS_HOST is set but METRICS_PORT is not')
    return undefined
  }
  const parsed = Number(value)
  if (!/^\d+$/.test(value) || parsed > 65_535) {
    throw new ConfigError('METRICS_PORT must be an integer from 0 to 65535 (0 picks a free port)')
  }
  return { host: host ?? '127.0.0.1', port: parsed }
}

/** A positive whole number of seconds, or `undefined` when unset. */
export function seconds(env: Env, name: string): number | undefined {
  const value = optional(env, name)
  if (value === undefined) return undefined
  const parsed = Number(value)
  if (!/^\d+$/.test(value) || parsed < 1 || !Number.isSafeInteger(parsed)) {
    throw new ConfigError(`${name} must be a positive whole number of seconds`)
  }
  return parsed
}

/** An absolute http(s) URL. */
export function url(value: string, name: string): string {
  let parsed: URL
  try {
    parsed = new URL(value)
  } catch {
    throw new ConfigError(`${name} must be an absolute http(s) URL`)
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new ConfigError(`${name} must be an absolute http(s) URL`)
  }
  return value
}

/** The value Express's `trust proxy` setting accepts. */
export type TrustProxy = boolean | number | string

/**
 * `TRUST_PROXY`, read as Express reads `app.set('trust proxy', …)`: `true`/`false`, a hop count,
 * or a comma-separated list of addresses, subnets and the names `loopback`, `linklocal`,
 * `uniquelocal`. Unset means `false`: the client address is the socket's, which is right when the
 * server is reached directly, and keeps the per-IP rate limit from trusting a spoofable
 * `X-Forwarded-For`.
 */
export function trustProxy(env: Env): TrustProxy {
  const value = optional(env, 'TRUST_PROXY')
  if (value === undefined || value === 'false') return false
  if (value === 'true') return true
  if (/^\d+$/.test(value)) return Number(value)
  if (!/^[0-9A-Za-z.:/, ]+$/.test(value)) {
    throw new ConfigError(
      'TRUST_PROXY must be true, false, a hop count or a comma-separated list of addresses/subnets',
    )
  }
  return value
}

/** `http://host:port` for a bound address, with brackets around an IPv6 host. */
export function originOf(hostname: string, boundPort: number): string {
  return `http://${hostname.includes(':') ? `[${hostname}]` : hostname}:${boundPort}`
}
