// Helpers shared by the target servers. Everything a target needs (claims, keys, the client)
// comes from the fixtures file the harness writes, so the harness and the servers cannot drift.
import { createHmac, createPrivateKey, createPublicKey, timingSafeEqual } from 'node:crypto'

/** The route every guard and ceiling target serves: the same small JSON. */
export function routeHandler(fixtures) {
  const body = fixtures.body
  return (req, res) => {
    res.json(body)
  }
}

/** Private and public KeyObjects for one algorithm of the fixtures. */
export function keyPair(fixtures, alg) {
  const key = fixtures.keys[alg]
  if (!key) throw new TypeError(`no fixture key for ${alg}`)
  return {
    kid: key.kid,
    alg: key.alg,
    privateKey: createPrivateKey(key.privatePem),
    publicKey: createPublicKey(key.publicPem),
    privatePem: key.privatePem,
    privateJwk: key.privateJwk,
    publicJwk: key.publicJwk,
  }
}

/** True when a space-delimited `scope` claim holds every scope in `needed`. */
export function hasScope(scope, needed) {
  if (typeof scope !== 'string') return false
  const granted = scope.split(' ')
  return needed.split(' ').every((s) => granted.includes(s))
}

/**
 * The peers' client-secret check: a keyed SHA-256 digest compared in constant time, the same
 * cost as ccflow's `hmac-sha256` stored hashes, so that the issuer comparison measures the
 * libraries and not a difference in secret storage.
 */
export function secretChecker(fixtures) {
  const key = 'ccflow-bench-peer-secret-key'
  const digest = (secret) => createHmac('sha256', key).update(secret).digest()
  const stored = new Map([[fixtures.client.id, digest(fixtures.client.secret)]])
  return (clientId, secret) => {
    const expected = stored.get(clientId)
    if (expected === undefined || typeof secret !== 'string') return false
    return timingSafeEqual(expected, digest(secret))
  }
}

/**
 * The JSON error handler every Express peer gets: libraries that call next(err) would
 * otherwise render Express's HTML page, which is neither what an API does nor a fair cost.
 */
// Express tells error handlers by their four parameters, so `next` stays.
// eslint-disable-next-line @typescript-eslint/no-unused-vars
export function jsonErrors(err, req, res, next) {
  const status = typeof err.status === 'number' ? err.status : 500
  if (err.headers && typeof err.headers === 'object') res.set(err.headers)
  res.status(status).json({ error: typeof err.code === 'string' ? err.code : 'error' })
}
