// ccflow token endpoint: Basic client authentication against a stored secret hash
// (`hmac-sha256` or `scrypt`), or, with `clientAuth: 'private_key_jwt'`, a client assertion
// checked with the client's inline public JWK (default privateKeyJwt options: in-memory replay
// store). RS256 or ES256 signing, rate limits off unless `rateLimit: 'default'`. With
// `metrics: 'prometheus'`, the issuer's Prometheus adapter records every request on a registry
// (scraped by nobody: the cost measured is the recording's).
import { hashClientSecret, staticClientStore, tokenEndpoint } from '@ccflow/issuer'
import { registerIssuerMetrics } from '@ccflow/issuer/prometheus'
import express from 'express'
import { Registry } from 'prom-client'

async function clientRecord(fixtures, options) {
  const common = { scope: fixtures.clientScope, audiences: [fixtures.audience] }
  if (options.clientAuth === 'private_key_jwt') {
    return {
      client_id: fixtures.keyClient.id,
      ...common,
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [fixtures.keyClient.publicJwk] },
    }
  }
  const { client } = fixtures
  const hash = await hashClientSecret(client.secret, { algorithm: options.secretHash })
  return { client_id: client.id, ...common, secrets: [{ id: client.secretId, hash }] }
}

export async function build({ fixtures, options }) {
  const key = fixtures.keys[options.alg]
  if (options.metrics === 'prometheus') registerIssuerMetrics({ registry: new Registry() })
  const app = express()
  app.use(
    tokenEndpoint({
      issuer: fixtures.issuer,
      clients: staticClientStore([await clientRecord(fixtures, options)]),
      keys: [{ kid: key.kid, alg: key.alg, privateKey: key.privatePem }],
      accessTokenTtlSeconds: fixtures.tokenTtl,
      // 'default': both limiters with their defaults, the issuance quota raised so that the load
      // (one client, thousands of tokens a second) is measured rather than refused.
      rateLimit: options.rateLimit === 'default' ? { issuance: { limit: 1_000_000_000 } } : false,
    }),
  )
  return app
}
