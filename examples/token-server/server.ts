/**
 * Runs the token server: `tsx examples/token-server/server.ts` (root: `pnpm start:token-server`).
 * Configuration comes from the environment; see examples/README.md.
 */
import { connectRedis } from '../shared/redis.js'
import { closeOnSignal, fail, listen } from '../shared/serve.js'
import { createTokenServerApp } from './app.js'
import { loadTokenServerConfig } from './config.js'

const PROGRAM = 'token-server'

try {
  const config = loadTokenServerConfig(process.env)
  for (const warning of config.warnings) console.warn(`${PROGRAM}: warning: ${warning}`)
  const redis = config.redisUrl === undefined ? undefined : connectRedis(config.redisUrl, PROGRAM)
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
  console.log(
    redis === undefined
      ? 'rate limits, revocations and used client assertions in this process only (set REDIS_URL to share them)'
      : 'rate limits and revocations shared through Redis, and each client assertion is accepted once across instances',
  )
  closeOnSignal(PROGRAM, served)
} catch (err) {
  fail(PROGRAM, err)
}
