// ccflow guard: requireToken with the JWKS fetched from the sibling endpoint and the route's scope
// checked in the same layer (`scopes`, the form for a route with a fixed scope; requireScopes is
// for composing a guard mounted once with per-route scopes).
// With `metrics: 'prometheus'`, the guard's Prometheus adapter is registered first (issue 14).
import { requireToken } from '@ccflow/guard'
import { registerGuardMetrics } from '@ccflow/guard/prometheus'
import express from 'express'
import { Registry } from 'prom-client'
import { routeHandler } from '../common.mjs'

export async function build({ fixtures, options, jwksUri }) {
  if (options.metrics === 'prometheus') registerGuardMetrics({ registry: new Registry() })
  const guard = requireToken({
    issuer: fixtures.issuer,
    audience: fixtures.audience,
    jwksUri,
    algorithms: [options.alg],
    scopes: fixtures.scope.split(' '),
  })
  // The first JWKS fetch happens before any measured request, as it would at app start.
  await guard.ready
  const app = express()
  app.get(fixtures.route, guard, routeHandler(fixtures))
  return app
}
