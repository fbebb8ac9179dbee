// Soak app: a ccflow token endpoint and a ccflow-guarded route in one Express app, the way a
// small service that is its own issuer runs. Rate limits are off so that the invalid traffic
// is answered by the checks themselves (the soak measures memory, not the limiter).
import { requireScopes, requireToken } from '@ccflow/guard'
import { hashClientSecret, staticClientStore, tokenEndpoint } from '@ccflow/issuer'
import express from 'express'
import { routeHandler } from '../common.mjs'

export async function build({ fixtures, jwksUri }) {
  const { client } = fixtures
  const key = fixtures.keys.RS256
  const hash = await hashClientSecret(client.secret, { algorithm: 'hmac-sha256' })
  const guard = requireToken({
    issuer: fixtures.issuer,
    audience: fixtures.audience,
    jwksUri,
    algorithms: ['RS256', 'ES256'],
  })
  await guard.ready
  const app = express()
  app.use(
    tokenEndpoint({
      issuer: fixtures.issuer,
      clients: staticClientStore([
        {
          client_id: client.id,
          scope: fixtures.clientScope,
          audiences: [fixtures.audience],
          secrets: [{ id: client.secretId, hash }],
        },
      ]),
      keys: [{ kid: key.kid, alg: key.alg, privateKey: key.privatePem }],
      accessTokenTtlSeconds: fixtures.tokenTtl,
      rateLimit: false,
    }),
  )
  app.get(fixtures.route, guard, requireScopes(fixtures.scope), routeHandler(fixtures))
  return app
}
