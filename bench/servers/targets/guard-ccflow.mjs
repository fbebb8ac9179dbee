// ccflow guard: requireToken with the JWKS fetched from the sibling endpoint, then requireScopes.
import { requireScopes, requireToken } from '@ccflow/guard'
import express from 'express'
import { routeHandler } from '../common.mjs'

export async function build({ fixtures, options, jwksUri }) {
  const guard = requireToken({
    issuer: fixtures.issuer,
    audience: fixtures.audience,
    jwksUri,
    algorithms: [options.alg],
  })
  // The first JWKS fetch happens before any measured request, as it would at app start.
  await guard.ready
  const app = express()
  app.get(fixtures.route, guard, requireScopes(fixtures.scope), routeHandler(fixtures))
  return app
}
