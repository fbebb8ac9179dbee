/**
 * One process of a fleet, for test/client-redis-fleet.test.ts: a token client sharing tokens
 * through Redis, built as the @ccflow/client README shows. Prints `ready`, waits for `go` on
 * stdin, then calls getToken() once and prints `token <value> <source>`.
 * Env: REDIS_URL, TOKEN_ENDPOINT, TOKEN_PREFIX.
 */
import { createInterface } from 'node:readline'
import { createTokenClient, redisTokenStore } from '@ccflow/client'
import { createClient } from 'redis'

/** An environment variable the test always sets. */
function env(name: string): string {
  const value = process.env[name]
  if (value === undefined) throw new Error(`${name} is not set`)
  return value
}

const redis = createClient({ url: env('REDIS_URL'), disableOfflineQueue: true })
redis.on('error', (err: unknown) => console.warn(err))
await redis.connect()

const tokens = createTokenClient({
  tokenEndpoint: env('TOKEN_ENDPOINT'),
  clientId: 'fleet',
  clientSecret: 'fleet-secret',
  scope: 'reports:read',
  store: redisTokenStore({
    sendCommand: (args) => redis.sendCommand(args),
    prefix: env('TOKEN_PREFIX'),
  }),
})

const lines = createInterface({ input: process.stdin })
console.log('ready')
for await (const line of lines) {
  if (line.trim() !== 'go') continue
  const token = await tokens.getToken()
  console.log(`token ${token.value} ${token.source}`)
  break
}
lines.close()
await tokens.close()
await redis.quit()
