// ccflow token endpoint: Basic client authentication against a stored secret hash
// (`hmac-sha256` or `scrypt`), or, with `clientAuth: 'private_key_jwt'`, a client assertion
// checked with the client's inline public JWK (default privateKeyJwt options: in-memory replay
// store). RS256 or ES256 signing, rate limits off unless `rateLimit: 'default'`. With
// `metrics: 'prometheus'`, the issuer's Prometheus adapter records every request on a registry
// (scraped by nobody: the cost measured is the recording's).
// With `store: 'postgres'` the client comes from `postgresClientStore` on the database `ccflow_bench`
// of the server at DATABASE_URL (made once, migrated, the client imported afresh); the harness's
// checks before the load fill its cache, so the load measures the warm cache.
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

const BENCH_DATABASE = 'ccflow_bench'

async function postgresStore(record) {
  const { default: pg } = await import('pg')
  const { migrate, postgresClientRegistry, postgresClientStore } =
    await import('@ccflow/issuer/postgres')
  const serverUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
  const admin = new pg.Client({ connectionString: serverUrl, connectionTimeoutMillis: 5000 })
  await admin.connect()
  const found = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [BENCH_DATABASE])
  if (found.rowCount === 0) await admin.query(`CREATE DATABASE ${BENCH_DATABASE}`)
  await admin.end()
  const url = new URL(serverUrl)
  url.pathname = `/${BENCH_DATABASE}`
  const pool = new pg.Pool({ connectionString: url.href, max: 10 })
  await migrate(pool)
  await pool.query('DELETE FROM ccflow_clients WHERE client_id = $1', [record.client_id])
  await postgresClientRegistry({ pool, actor: 'bench' }).importClients([record])
  const store = postgresClientStore({ pool })
  await store.ready()
  return store
}

export async function build({ fixtures, options }) {
  const key = fixtures.keys[options.alg]
  if (options.metrics === 'prometheus') registerIssuerMetrics({ registry: new Registry() })
  const record = await clientRecord(fixtures, options)
  const app = express()
  app.use(
    tokenEndpoint({
      issuer: fixtures.issuer,
      clients:
        options.store === 'postgres' ? await postgresStore(record) : staticClientStore([record]),
      keys: [{ kid: key.kid, alg: key.alg, privateKey: key.privatePem }],
      accessTokenTtlSeconds: fixtures.tokenTtl,
      // 'default': both limiters with their defaults, the issuance quota raised so that the load
      // (one client, thousands of tokens a second) is measured rather than refused.
      rateLimit: options.rateLimit === 'default' ? { issuance: { limit: 1_000_000_000 } } : false,
    }),
  )
  return app
}
