import { randomBytes } from 'node:crypto'
import { createClient } from 'redis'
import { REDIS_URL, skipWithoutRedis } from '../../../test/support/redis.js'

export { skipWithoutRedis }

/** A node-redis client for one test file, with a key prefix of its own. */
export interface TestRedis {
  readonly sendCommand: (args: string[]) => Promise<unknown>
  /** A fresh prefix under `ccflow-test:client:`; `cleanup()` deletes every key under it. */
  readonly prefix: string
  cleanup(): Promise<void>
}

/**
 * Connects to the tests' Redis (`REDIS_URL`) as the docs recommend (an error listener and no
 * offline queue), with a random key prefix; `cleanup()` deletes the keys and disconnects.
 */
export async function testRedis(): Promise<TestRedis> {
  const client = createClient({ url: REDIS_URL, disableOfflineQueue: true })
  client.on('error', () => {})
  await client.connect()
  const prefix = `ccflow-test:client:${randomBytes(6).toString('hex')}:`
  return {
    sendCommand: (args) => client.sendCommand(args),
    prefix,
    async cleanup() {
      const keys = await client.keys(`${prefix}*`)
      if (keys.length > 0) await client.del(keys)
      client.destroy()
    },
  }
}
