// Peer: the hand-written middleware many apps have: jsonwebtoken.verify with a static public
// KeyObject (no JWKS), the algorithm allow-list, issuer and audience, then the scope.
import express from 'express'
import jwt from 'jsonwebtoken'
import { hasScope, keyPair, routeHandler } from '../common.mjs'

export function build({ fixtures, options }) {
  const { publicKey } = keyPair(fixtures, options.alg)
  const verifyOptions = {
    algorithms: [options.alg],
    issuer: fixtures.issuer,
    audience: fixtures.audience,
  }
  const guard = (req, res, next) => {
    const header = req.headers.authorization
    if (typeof header !== 'string' || !header.startsWith('Bearer ')) {
      res.status(401).set('www-authenticate', 'Bearer').json({ error: 'invalid_request' })
      return
    }
    let claims
    try {
      claims = jwt.verify(header.slice(7), publicKey, verifyOptions)
    } catch {
      res.status(401).set('www-authenticate', 'Bearer error="invalid_token"')
      res.json({ error: 'invalid_token' })
      return
    }
    if (!hasScope(claims.scope, fixtures.scope)) {
      res.status(403).json({ error: 'insufficient_scope' })
      return
    }
    req.auth = claims
    next()
  }
  const app = express()
  app.get(fixtures.route, guard, routeHandler(fixtures))
  return app
}
