/**
 * Runs the resource server: `tsx examples/resource-server/server.ts`
 * (root: `pnpm start:resource-server`). Configuration comes from the environment.
 */
import { redisRevocationCheck } from '@ccflow/guard'
import { connectRedis } from '../shared/redis.js'
import { closeOnSignal, fail, listen } from '../shared/serve.js'
import { createResourceServerApp } from './app.js'
import { loadResourceServerConfig } from './config.js'

const PROGRAM = 'resource-server'

try {
  const config = loadResourceServerConfig(process.env)
  // A token revoked at the token server is refused here within 5 s (the check's cache); while
  // Redis is down requests get 503 rather than skip the check.
  const redis = config.redisUrl === undefined ? undefined : connectRedis(config.redisUrl, PROGRAM)
  const isRevoked =
    redis === undefined ? undefined : redisRevocationCheck({ sendCommand: redis.sendCommand })
  const served = await listen(config.host, config.port, () =>
    createResourceServerApp({ ...config, isRevoked }),
  )
  console.log(`resource server listening on ${served.url}`)
  console.log(`accepting tokens from ${config.issuer} for audience ${config.audience}`)
  console.log(
    redis === undefined
      ? 'revoked tokens are not checked (set REDIS_URL to check them)'
      : 'revoked tokens are checked in Redis',
  )
  closeOnSignal(PROGRAM, served)
} catch (err) {
  fail(PROGRAM, err)
}
