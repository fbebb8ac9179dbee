// Peer: express-jwt with jwks-rsa's expressJwtSecret (cached keys), plus the scope check every
// express-jwt app has to write itself.
import express from 'express'
import { expressjwt } from 'express-jwt'
import jwksRsa from 'jwks-rsa'
import { hasScope, jsonErrors, routeHandler } from '../common.mjs'

export function build({ fixtures, options, jwksUri }) {
  const app = express()
  app.get(
    fixtures.route,
    expressjwt({
      secret: jwksRsa.expressJwtSecret({ jwksUri, cache: true, rateLimit: true }),
      issuer: fixtures.issuer,
      audience: fixtures.audience,
      algorithms: [options.alg],
    }),
    (req, res, next) => {
      if (hasScope(req.auth?.scope, fixtures.scope)) next()
      else res.status(403).json({ error: 'insufficient_scope' })
    },
    routeHandler(fixtures),
  )
  app.use(jsonErrors)
  return app
}
