import { isObjectRecord } from '@ccflow/core'

// How long before `expiresAt` a token is no longer handed out.
const HARD_EXPIRY_MARGIN_MS = 5000
const MIN_MARGIN_MS = 5000
const MAX_MARGIN_MS = 300_000

/** The two deadlines of a cached token, in epoch milliseconds. */
export interface TokenDeadlines {
  /** From here on, callers still get the token at once and one background refresh starts. */
  readonly refreshAt: number
  /** From here on, the token is no longer handed out: callers wait for a new one. */
  readonly hardExpiry: number
}

/**
 * The deadlines of a token that expires at `expiresAt` and was requested at `sentAt`:
 *
 * - margin = 20 % of the lifetime, at least 5 s and at most 300 s;
 * - refreshAt = expiresAt − margin − jitter, the jitter random up to 10 % of the margin, so that
 *   a fleet that got its tokens together does not refresh together;
 * - hardExpiry = expiresAt − 5 s.
 *
 * A lifetime of 300 s gives refreshAt between 234 s and 240 s and hardExpiry at 295 s.
 */
export function tokenDeadlines(sentAt: number, expiresAt: number): TokenDeadlines {
  const lifetime = expiresAt - sentAt
  const margin = Math.min(MAX_MARGIN_MS, Math.max(MIN_MARGIN_MS, lifetime * 0.2))
  const jitter = Math.random() * margin * 0.1
  return {
    refreshAt: Math.floor(expiresAt - margin - jitter),
    hardExpiry: expiresAt - HARD_EXPIRY_MARGIN_MS,
  }
}

/**
 * The `exp` of a token that is a JWT (three base64url segments, a JSON payload with a numeric
 * `exp`), in epoch milliseconds; `undefined` for an opaque token. Nothing is verified: the
 * value only decides how long the client keeps the token, never whether anyone trusts it.
 */
export function jwtExpiry(token: string): number | undefined {
  const parts = token.split('.')
  if (parts.length !== 3) return undefined
  try {
    const payload: unknown = JSON.parse(Buffer.from(parts[1] as string, 'base64url').toString())
    if (!isObjectRecord(payload)) return undefined
    const exp = payload.exp
    return typeof exp === 'number' && Number.isFinite(exp) && exp > 0 ? exp * 1000 : undefined
  } catch {
    return undefined
  }
}
