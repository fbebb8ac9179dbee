import { createHash } from 'node:crypto'
import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  DENYLIST_FULL_CODE,
  memoryDenylist,
  type MemoryDenylistOptions,
  redisDenylist,
  type RedisDenylistOptions,
} from '../../src/revocation/denylist.js'
import { REDIS_TIMEOUT_CODE } from '@ccflow/core'

const ISS = 'https://auth.example.com'
const now = (): number => Math.floor(Date.now() / 1000)
const hashed = (iss: string, jti: string): string =>
  createHash('sha256').update(`${iss}\n${jti}`).digest('base64url')

/** Fake timers pinned to a whole second, so that epoch-second expiries are exact. */
function pinTime(): void {
  vi.useFakeTimers()
  vi.setSystemTime(1_767_225_600_000)
}

afterEach(() => {
  vi.useRealTimers()
})

describe('memoryDenylist', () => {
  it('answers true for a revoked token and false for any other', async () => {
    const store = memoryDenylist()
    await store.add(ISS, 'a', now() + 60)
    await expect(store.has(ISS, 'a')).resolves.toBe(true)
    await expect(store.has(ISS, 'b')).resolves.toBe(false)
    await expect(store.has('https://other.example.com', 'a')).resolves.toBe(false)
  })

  it('forgets an entry once its time has passed', async () => {
    pinTime()
    const store = memoryDenylist()
    await store.add(ISS, 'a', now() + 10)
    vi.advanceTimersByTime(9_999)
    await expect(store.has(ISS, 'a')).resolves.toBe(true)
    vi.advanceTimersByTime(1)
    await expect(store.has(ISS, 'a')).resolves.toBe(false)
  })

  it('skips an entry whose time has already passed', async () => {
    const store = memoryDenylist({ max: 1 })
    await store.add(ISS, 'old', now() - 1)
    await expect(store.has(ISS, 'old')).resolves.toBe(false)
    // It took no room either.
    await store.add(ISS, 'new', now() + 60)
    await expect(store.has(ISS, 'new')).resolves.toBe(true)
  })

  it('keeps the later expiry when a token is revoked twice', async () => {
    pinTime()
    const store = memoryDenylist()
    await store.add(ISS, 'a', now() + 100)
    await store.add(ISS, 'a', now() + 10)
    vi.advanceTimersByTime(50_000)
    await expect(store.has(ISS, 'a')).resolves.toBe(true)
  })

  it('makes room from expired entries when it is full', async () => {
    pinTime()
    const store = memoryDenylist({ max: 2 })
    await store.add(ISS, 'a', now() + 1)
    await store.add(ISS, 'b', now() + 100)
    vi.advanceTimersByTime(2_000)
    await store.add(ISS, 'c', now() + 100)
    await expect(store.has(ISS, 'b')).resolves.toBe(true)
    await expect(store.has(ISS, 'c')).resolves.toBe(true)
  })

  it('rejects a new entry rather than forget a live one when it is full', async () => {
    const store = memoryDenylist({ max: 2 })
    await store.add(ISS, 'a', now() + 100)
    await store.add(ISS, 'b', now() + 100)
    await expect(store.add(ISS, 'c', now() + 100)).rejects.toMatchObject({
      code: DENYLIST_FULL_CODE,
    })
    await expect(store.has(ISS, 'a')).resolves.toBe(true)
    await expect(store.has(ISS, 'b')).resolves.toBe(true)
    // Revoking a token already listed needs no room.
    await expect(store.add(ISS, 'a', now() + 100)).resolves.toBeUndefined()
  })

  it.each([
    [{ max: 0 }, /^memoryDenylist: option "max" must be an integer ≥ 1$/],
    [{ max: 1.5 }, /^memoryDenylist: option "max" must be an integer ≥ 1$/],
    [{ max: '10' }, /^memoryDenylist: option "max" must be an integer ≥ 1$/],
    [{ size: 10 }, /^memoryDenylist: unknown option "size"$/],
    [{ maxx: 10 }, /^memoryDenylist: unknown option "maxx" \(did you mean "max"\?\)$/],
  ])('throws a TypeError for %j', (options, message) => {
    expect(() => memoryDenylist(options as MemoryDenylistOptions)).toThrow(message)
    expect(() => memoryDenylist(options as MemoryDenylistOptions)).toThrow(TypeError)
  })
})

describe('redisDenylist', () => {
  function fakeRedis() {
    const commands: string[][] = []
    const keys = new Set<string>()
    const sendCommand = vi.fn((args: string[]): Promise<unknown> => {
      commands.push(args)
      if (args[0] === 'SET') keys.add(args[1] ?? '')
      return Promise.resolve(args[0] === 'SET' ? 'OK' : keys.has(args[1] ?? '') ? 1 : 0)
    })
    return { commands, sendCommand }
  }

  it('writes one key per token with a PX expiry at the given time', async () => {
    pinTime()
    const redis = fakeRedis()
    const store = redisDenylist({ sendCommand: redis.sendCommand })
    await store.add(ISS, 'j1', now() + 90)
    expect(redis.commands).toEqual([
      ['SET', `ccflow:revoked:${hashed(ISS, 'j1')}`, '1', 'PX', '90000'],
    ])
  })

  it('uses the default prefix and timeout when they are set to undefined', async () => {
    pinTime()
    const redis = fakeRedis()
    const store = redisDenylist({
      sendCommand: redis.sendCommand,
      prefix: undefined,
      timeoutMs: undefined,
    })
    await store.add(ISS, 'j1', now() + 90)
    expect(redis.commands[0]?.[1]).toBe(`ccflow:revoked:${hashed(ISS, 'j1')}`)
  })

  it('reads with EXISTS on the same key', async () => {
    const redis = fakeRedis()
    const store = redisDenylist({ sendCommand: redis.sendCommand, prefix: 'app:deny:' })
    await store.add(ISS, 'j1', now() + 90)
    await expect(store.has(ISS, 'j1')).resolves.toBe(true)
    await expect(store.has(ISS, 'j2')).resolves.toBe(false)
    expect(redis.commands[1]).toEqual(['EXISTS', `app:deny:${hashed(ISS, 'j1')}`])
  })

  it('sends nothing for an entry whose time has passed', async () => {
    const redis = fakeRedis()
    await redisDenylist({ sendCommand: redis.sendCommand }).add(ISS, 'j', now() - 1)
    expect(redis.sendCommand).not.toHaveBeenCalled()
  })

  it('accepts a string reply to EXISTS', async () => {
    const store = redisDenylist({ sendCommand: () => Promise.resolve('1') })
    await expect(store.has(ISS, 'j')).resolves.toBe(true)
  })

  it('rejects on an unexpected reply instead of guessing', async () => {
    const store = redisDenylist({ sendCommand: () => Promise.resolve(null) })
    await expect(store.has(ISS, 'j')).rejects.toThrow(TypeError)
  })

  it('rejects when Redis fails, for add and has', async () => {
    const store = redisDenylist({
      sendCommand: () => Promise.reject(new Error('The client is offline')),
    })
    await expect(store.add(ISS, 'j', now() + 60)).rejects.toThrow('offline')
    await expect(store.has(ISS, 'j')).rejects.toThrow('offline')
  })

  it('rejects with a timeout error when Redis does not answer within timeoutMs', async () => {
    pinTime()
    const store = redisDenylist({ sendCommand: () => new Promise(() => {}), timeoutMs: 300 })
    const settled = expect(store.has(ISS, 'j')).rejects.toMatchObject({
      code: REDIS_TIMEOUT_CODE,
    })
    await vi.advanceTimersByTimeAsync(300)
    await settled
  })

  it.each([
    [{}, /^redisDenylist: option "sendCommand" is required and must be a function/],
    [{ sendCommand: 'redis' }, /^redisDenylist: option "sendCommand" is required/],
    [
      { sendCommand: () => Promise.resolve(0), prefix: '' },
      /^redisDenylist: option "prefix" must be 1-128 printable ASCII characters without spaces$/,
    ],
    [{ sendCommand: () => Promise.resolve(0), prefix: 'a b' }, /option "prefix" must be 1-128/],
    [
      { sendCommand: () => Promise.resolve(0), timeoutMs: 0 },
      /^redisDenylist: option "timeoutMs" must be an integer from 1 to 60000$/,
    ],
    [{ sendCommand: () => Promise.resolve(0), ttl: 5 }, /^redisDenylist: unknown option "ttl"$/],
    [
      { sendCommand: () => Promise.resolve(0), prefx: 'p:' },
      /^redisDenylist: unknown option "prefx" \(did you mean "prefix"\?\)$/,
    ],
  ])('throws a TypeError naming the option for %j', (options, message) => {
    expect(() => redisDenylist(options as unknown as RedisDenylistOptions)).toThrow(message)
  })
})
