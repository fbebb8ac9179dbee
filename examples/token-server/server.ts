/**
 * Runs the token server: `tsx examples/token-server/server.ts` (root: `pnpm start:token-server`).
 * Configuration comes from the environment; see examples/README.md.
 */
import { registerIssuerMetrics } from '@ccflow/issuer/prometheus'
import { serveMetrics } from '../shared/metrics.js'
import { connectRedis } from '../shared/redis.js'
import { closeOnSignal, fail, listen } from '../shared/serve.js'
import { createTokenServerApp } from './app.js'
import { loadTokenServerConfig } from './config.js'

const PROGRAM = 'token-server'

try {
  const config = loadTokenServerConfig(process.env)
  for (const warning of config.warnings) console.warn(`${PROGRAM}: warning: ${warning}`)
  // DATABASE_URL: never serve on a schema this ccflow does not know, or without change
  // notifications (a disabled client must be refused everywhere at once).
  await config.database?.ready()
  const redis = config.redisUrl === undefined ? undefined : connectRedis(config.redisUrl, PROGRAM)
  // METRICS_PORT: a second listener, started first so that every request is counted.
  const metrics =
    config.metrics === undefined
      ? undefined
      : await serveMetrics(config.metrics.host, config.metrics.port, (registry) => {
          registerIssuerMetrics({ registry })
        })
  const served = await listen(config.host, config.port, (url) =>
    createTokenServerApp({
      ...config,
      issuer: config.issuer ?? url,
      sendCommand: redis?.sendCommand,
    }),
  )
  const issuer = config.issuer ?? served.url
  console.log(`token server listening on ${served.url}`)
  console.log(
    `issuer ${issuer} (metadata: ${issuer.replace(/\/$/, '')}/.well-known/oauth-authorization-server)`,
  )
  if (config.database !== undefined) {
    console.log('clients from PostgreSQL (DATABASE_URL); manage them with `ccflow client …`')
  }
  console.log(
    redis === undefined
      ? 'rate limits, revocations and used client assertions in this process only (set REDIS_URL to share them)'
      : 'rate limits and revocations shared through Redis, and each client assertion is accepted once across instances',
  )
  if (metrics !== undefined) console.log(`metrics listening on ${metrics.url}/metrics`)
  closeOnSignal(PROGRAM, served, ...(metrics === undefined ? [] : [metrics]))
} catch (err) {
  fail(PROGRAM, err)
}
