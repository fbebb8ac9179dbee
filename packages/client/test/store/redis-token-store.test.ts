import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  DEFAULT_TOKEN_PREFIX,
  redisTokenStore,
  type RedisTokenStoreOptions,
} from '../../src/store/redis-token-store.js'
import type { StoredToken } from '../../src/store/token-store.js'
import { skipWithoutRedis, type TestRedis, testRedis } from '../redis.js'

const skip = await skipWithoutRedis()
let redis: TestRedis

beforeAll(async () => {
  if (!skip) redis = await testRedis()
})

afterAll(async () => {
  await redis?.cleanup()
})

const token = (value = 'tok', lifeMs = 60_000): StoredToken => {
  const now = Date.now()
  return {
    value,
    type: 'Bearer',
    scope: 'a b',
    expiresAt: now + lifeMs,
    refreshAt: now + lifeMs - 20_000,
    hardExpiry: now + lifeMs - 5000,
  }
}

describe.skipIf(skip)('redisTokenStore (real Redis)', () => {
  const store = (extra: Partial<RedisTokenStoreOptions> = {}) =>
    redisTokenStore({ sendCommand: redis.sendCommand, prefix: redis.prefix, ...extra })

  it('stores a token until its hard expiry and reads it back', async () => {
    const tokens = store()
    const stored = token()
    await tokens.set('k1', stored)
    await expect(tokens.get('k1')).resolves.toEqual(stored)
    const ttl = (await redis.sendCommand(['PTTL', `${redis.prefix}k1`])) as number
    expect(ttl).toBeGreaterThan(50_000)
    expect(ttl).toBeLessThanOrEqual(55_000)
    await expect(tokens.get('absent')).resolves.toBeUndefined()
  })

  it('keeps a token without scope', async () => {
    const tokens = store()
    await tokens.set('k-no-scope', { ...token(), scope: undefined })
    await expect(tokens.get('k-no-scope')).resolves.toMatchObject({ scope: undefined })
  })

  it('does not store a token past its hard expiry', async () => {
    const tokens = store()
    await tokens.set('k-late', token('late', 1000))
    await expect(tokens.get('k-late')).resolves.toBeUndefined()
  })

  it('deletes a token only while it is the stored one (compare-and-delete)', async () => {
    const tokens = store()
    await tokens.set('k2', token('newer'))
    await tokens.delete('k2', 'older')
    await expect(tokens.get('k2')).resolves.toMatchObject({ value: 'newer' })
    await tokens.delete('k2', 'newer')
    await expect(tokens.get('k2')).resolves.toBeUndefined()
  })

  it('gives the refresh lock to one caller at a time, released only by its holder', async () => {
    const tokens = store()
    const [a, b] = await Promise.all([tokens.lock('k3', 5000), tokens.lock('k3', 5000)])
    const holder = (a ?? b) as string
    expect([a, b].filter((id) => id !== undefined)).toHaveLength(1)
    await tokens.unlock('k3', 'not-the-holder')
    await expect(tokens.lock('k3', 5000)).resolves.toBeUndefined()
    await tokens.unlock('k3', holder)
    await expect(tokens.lock('k3', 5000)).resolves.toMatch(/^[\w-]{22}$/)
  })

  it('seals tokens under an encryption key: Redis never holds the token in clear', async () => {
    const key = randomBytes(32)
    const sealed = store({ encryptionKey: key.toString('base64url') })
    await sealed.set('k4', token('clear-text-token'))
    const raw = (await redis.sendCommand(['GET', `${redis.prefix}k4`])) as string
    expect(raw).not.toContain('clear-text-token')
    await expect(store({ encryptionKey: key }).get('k4')).resolves.toMatchObject({
      value: 'clear-text-token',
    })
    await expect(store({ encryptionKey: randomBytes(32) }).get('k4')).resolves.toBeUndefined()
    await expect(store().get('k4')).resolves.toBeUndefined()
  })

  it.each([
    ['not a token store value', 'garbage'],
    ['JSON that is not a token', 'fp.{"value":1}'],
    ['JSON of the wrong shape', 'fp.[]'],
    ['broken JSON', 'fp.{'],
  ])('reads %s as absent', async (_name, raw) => {
    await redis.sendCommand(['SET', `${redis.prefix}k5`, raw])
    await expect(store().get('k5')).resolves.toBeUndefined()
  })
})

describe('redisTokenStore', () => {
  const sendCommand = (): Promise<unknown> => Promise.resolve('OK')

  it('uses ccflow:token: as the default prefix', async () => {
    const seen: string[][] = []
    const tokens = redisTokenStore({
      sendCommand: (args) => {
        seen.push(args)
        return Promise.resolve(null)
      },
    })
    await tokens.get('k')
    expect(DEFAULT_TOKEN_PREFIX).toBe('ccflow:token:')
    expect(seen).toEqual([['GET', 'ccflow:token:k']])
  })

  it('refuses replies it does not expect', async () => {
    const tokens = redisTokenStore({ sendCommand: () => Promise.resolve(42) })
    await expect(tokens.get('k')).rejects.toThrow('redisTokenStore: unexpected reply to GET')
    await expect(tokens.lock('k', 1000)).rejects.toThrow('unexpected reply to SET NX')
  })

  it.each([
    [{ sendCommand, encryptionKey: 'short' }, 'option "encryptionKey" must be 32 bytes'],
    [{ sendCommand, encryptionKey: randomBytes(16) }, 'option "encryptionKey" must be 32 bytes'],
    [{ sendCommand, encryptionKey: 'not base64url!'.padEnd(43, 'x') }, 'must be 32 bytes'],
    [{ sendCommand, prefix: 'has space' }, 'option "prefix"'],
    [{ sendCommand, prefx: 'p' }, 'unknown option "prefx" (did you mean "prefix"?)'],
    [{}, 'option "sendCommand" is required'],
  ])('refuses %j', (options, message) => {
    expect(() => redisTokenStore(options as RedisTokenStoreOptions)).toThrow(message)
  })
})
