// Peer: passport-jwt with jwks-rsa's passportJwtSecret (cached keys), plus a scope check.
import express from 'express'
import jwksRsa from 'jwks-rsa'
import passport from 'passport'
import { ExtractJwt, Strategy } from 'passport-jwt'
import { hasScope, jsonErrors, routeHandler } from '../common.mjs'

export function build({ fixtures, options, jwksUri }) {
  passport.use(
    new Strategy(
      {
        jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
        secretOrKeyProvider: jwksRsa.passportJwtSecret({ jwksUri, cache: true, rateLimit: true }),
        issuer: fixtures.issuer,
        audience: fixtures.audience,
        algorithms: [options.alg],
      },
      (claims, done) => done(null, claims),
    ),
  )
  const app = express()
  app.get(
    fixtures.route,
    passport.authenticate('jwt', { session: false }),
    (req, res, next) => {
      if (hasScope(req.user?.scope, fixtures.scope)) next()
      else res.status(403).json({ error: 'insufficient_scope' })
    },
    routeHandler(fixtures),
  )
  app.use(jsonErrors)
  return app
}
