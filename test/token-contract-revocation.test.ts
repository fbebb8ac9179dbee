import { randomBytes } from 'node:crypto'
import { redisRevocationCheck } from '@ccflow/guard'
import { redisDenylist } from '@ccflow/issuer'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REDIS_URL, skipWithoutRedis } from './support/redis.js'
import { type TestRedisClient, testRedisClient } from './support/redis-server.js'

/**
 * The denylist contract between the packages, which never import each other: the issuer's
 * `redisDenylist` writes `<prefix>` + base64url(SHA-256(iss + "\n" + jti)) with a PX expiry, and
 * the guard's `redisRevocationCheck` reads exactly that key with EXISTS. Changing either side
 * without the other silently turns revocation off, so both are pinned here against a fixed
 * vector.
 */
const ISS = 'https://auth.example.com'
const JTI = 'abc'
const KEY = 'ccflow:revoked:15efSmcE11tftQKufffqOUUI7bhUUol7tEzf_ryTAuA'

function recorder(reply: unknown) {
  const commands: string[][] = []
  return {
    commands,
    sendCommand: (args: string[]): Promise<unknown> => {
      commands.push(args)
      return Promise.resolve(reply)
    },
  }
}

describe('denylist key contract: @ccflow/issuer redisDenylist ↔ @ccflow/guard redisRevocationCheck', () => {
  it('the issuer writes the pinned key with the default prefix and a PX expiry', async () => {
    const redis = recorder('OK')
    await redisDenylist({ sendCommand: redis.sendCommand }).add(
      ISS,
      JTI,
      Math.floor(Date.now() / 1000) + 120,
    )
    expect(redis.commands).toHaveLength(1)
    const [command, key, value, px, ttl] = redis.commands[0] ?? []
    expect([command, key, value, px]).toEqual(['SET', KEY, '1', 'PX'])
    expect(Number(ttl)).toBeGreaterThan(110_000)
  })

  it('the guard reads the pinned key with the default prefix', async () => {
    const redis = recorder(1)
    await expect(
      redisRevocationCheck({ sendCommand: redis.sendCommand })({ iss: ISS, jti: JTI }),
    ).resolves.toBe(true)
    expect(redis.commands).toEqual([['EXISTS', KEY]])
  })

  it('both sides derive the same key for hostile jti values and a custom prefix', async () => {
    for (const jti of ['a b', '\r\nDEL *', 'x'.repeat(4096), 'ü\u2028']) {
      const writer = recorder('OK')
      const reader = recorder(0)
      await redisDenylist({ sendCommand: writer.sendCommand, prefix: 'p:' }).add(ISS, jti, 4e9)
      await redisRevocationCheck({ sendCommand: reader.sendCommand, prefix: 'p:' })({
        iss: ISS,
        jti,
      })
      // The key's shape first: two missing commands would otherwise compare equal.
      expect(writer.commands[0]?.[1]).toMatch(/^p:[A-Za-z0-9_-]{43}$/)
      expect(reader.commands[0]?.[1]).toBe(writer.commands[0]?.[1])
    }
  })
})

const skip = await skipWithoutRedis()

describe.skipIf(skip)('denylist key contract on a real Redis', () => {
  const prefix = `ccflow-test:${randomBytes(6).toString('hex')}:revoked:`
  let redis: TestRedisClient
  beforeAll(async () => {
    redis = testRedisClient(REDIS_URL)
    await redis.ready
  })
  afterAll(async () => {
    const keys = (await redis.sendCommand(['KEYS', `${prefix}*`])) as string[]
    if (keys.length > 0) await redis.sendCommand(['DEL', ...keys])
    redis.close()
  })

  it('a token the issuer lists is revoked for the guard, and an unlisted one is not', async () => {
    const exp = Math.floor(Date.now() / 1000) + 60
    await redisDenylist({ sendCommand: redis.sendCommand, prefix }).add(ISS, 'listed', exp)
    const isRevoked = redisRevocationCheck({ sendCommand: redis.sendCommand, prefix })
    await expect(isRevoked({ iss: ISS, jti: 'listed', exp })).resolves.toBe(true)
    await expect(isRevoked({ iss: ISS, jti: 'not-listed', exp })).resolves.toBe(false)
    await expect(isRevoked({ iss: 'https://other.example.com', jti: 'listed', exp })).resolves.toBe(
      false,
    )
  })
})
