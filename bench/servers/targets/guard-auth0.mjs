// Peer: auth0's express-oauth2-jwt-bearer (jose inside), JWKS from the sibling endpoint.
import express from 'express'
import { auth, requiredScopes } from 'express-oauth2-jwt-bearer'
import { jsonErrors, routeHandler } from '../common.mjs'

export function build({ fixtures, options, jwksUri }) {
  const app = express()
  app.get(
    fixtures.route,
    auth({
      issuer: fixtures.issuer,
      audience: fixtures.audience,
      jwksUri,
      tokenSigningAlg: options.alg,
    }),
    requiredScopes(fixtures.scope),
    routeHandler(fixtures),
  )
  app.use(jsonErrors)
  return app
}
