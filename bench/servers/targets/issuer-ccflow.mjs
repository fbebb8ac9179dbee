// ccflow token endpoint: Basic client authentication against a stored secret hash
// (`hmac-sha256` or `scrypt`), RS256 or ES256 signing, rate limits off for the benchmark.
import { hashClientSecret, staticClientStore, tokenEndpoint } from '@ccflow/issuer'
import express from 'express'

export async function build({ fixtures, options }) {
  const key = fixtures.keys[options.alg]
  const { client } = fixtures
  const hash = await hashClientSecret(client.secret, { algorithm: options.secretHash })
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
  return app
}
