import { createHash } from 'node:crypto'
import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  memoryReplayStore,
  type MemoryReplayStoreOptions,
  redisReplayStore,
  type RedisReplayStoreOptions,
  REPLAY_STORE_FULL_CODE,
} from '../../../src/clients/assertion/replay-store.js'

const now = (): number => Math.floor(Date.now() / 1000)
const hashed = (clientId: string, jti: string): string =>
  createHash('sha256').update(`${clientId}\n${jti}`).digest('base64url')

afterEach(() => {
  vi.useRealTimers()
})

describe('memoryReplayStore', () => {
  it('accepts a jti once and refuses its replay (RFC 7523 §3 item 7)', async () => {
    const store = memoryReplayStore()
    await expect(store.claim('svc', 'j1', now() + 60)).resolves.toBe(true)
    await expect(store.claim('svc', 'j1', now() + 60)).resolves.toBe(false)
  })

  it('keys the jti by client: the same jti of another client is a first use', async () => {
    const store = memoryReplayStore()
    await store.claim('svc', 'j1', now() + 60)
    await expect(store.claim('other', 'j1', now() + 60)).resolves.toBe(true)
  })

  it('cannot be confused by a jti holding the separator', async () => {
    const store = memoryReplayStore()
    await store.claim('a', 'b\nc', now() + 60)
    await expect(store.claim('a\nb', 'c', now() + 60)).resolves.toBe(false)
    // The same text hashed either way: documented, harmless (client ids hold no newline).
    await expect(store.claim('a', 'bc', now() + 60)).resolves.toBe(true)
  })

  it('forgets an entry once its assertion has expired', async () => {
    vi.useFakeTimers()
    const store = memoryReplayStore()
    await store.claim('svc', 'j1', now() + 5)
    vi.advanceTimersByTime(4_000)
    await expect(store.claim('svc', 'j1', now() + 5)).resolves.toBe(false)
    vi.advanceTimersByTime(2_000)
    await expect(store.claim('svc', 'j1', now() + 5)).resolves.toBe(true)
  })

  it('remembers an assertion that expires now for at least a second', async () => {
    vi.useFakeTimers()
    const store = memoryReplayStore()
    await store.claim('svc', 'j1', now() - 10)
    vi.advanceTimersByTime(900)
    await expect(store.claim('svc', 'j1', now() + 60)).resolves.toBe(false)
  })

  it('rejects rather than forget when full of live entries, and makes room from expired ones', async () => {
    vi.useFakeTimers()
    const store = memoryReplayStore({ max: 2 })
    await store.claim('svc', 'a', now() + 5)
    await store.claim('svc', 'b', now() + 60)
    await expect(store.claim('svc', 'c', now() + 60)).rejects.toMatchObject({
      code: REPLAY_STORE_FULL_CODE,
    })
    // A replay of a known jti is still answered while full.
    await expect(store.claim('svc', 'b', now() + 60)).resolves.toBe(false)
    vi.advanceTimersByTime(6_000)
    await expect(store.claim('svc', 'c', now() + 60)).resolves.toBe(true)
  })

  it.each([
    [{ max: 0 }, /^memoryReplayStore: option "max" must be an integer/],
    [{ max: 1.5 }, /^memoryReplayStore: option "max" must be an integer/],
    [{ maxx: 5 }, /^memoryReplayStore: unknown option "maxx" \(did you mean "max"\?\)$/],
    [null, /^memoryReplayStore: options must be an object/],
  ])('refuses bad options %j', (options, message) => {
    expect(() => memoryReplayStore(options as MemoryReplayStoreOptions)).toThrow(message)
  })
})

describe('redisReplayStore', () => {
  function fakeRedis(reply: unknown = 'OK') {
    const commands: string[][] = []
    const sendCommand = vi.fn((args: string[]) => {
      commands.push(args)
      return Promise.resolve(reply)
    })
    return { commands, sendCommand }
  }

  it('records with SET NX PX under a hashed key and reads OK as a first use', async () => {
    vi.useFakeTimers({ now: 1_800_000_000_000 })
    const redis = fakeRedis('OK')
    const store = redisReplayStore({ sendCommand: redis.sendCommand })
    await expect(store.claim('svc', 'j1', now() + 60)).resolves.toBe(true)
    expect(redis.commands).toEqual([
      ['SET', `ccflow:assertion:${hashed('svc', 'j1')}`, '1', 'NX', 'PX', '60000'],
    ])
  })

  it('reads a null reply (the key exists) as a replay', async () => {
    const store = redisReplayStore({ sendCommand: fakeRedis(null).sendCommand })
    await expect(store.claim('svc', 'j1', now() + 60)).resolves.toBe(false)
  })

  it('uses the default prefix when prefix and timeoutMs are set to undefined', async () => {
    const redis = fakeRedis('OK')
    const store = redisReplayStore({
      sendCommand: redis.sendCommand,
      prefix: undefined,
      timeoutMs: undefined,
    })
    await store.claim('svc', 'j1', now() + 60)
    expect(redis.commands[0]?.[1]).toBe(`ccflow:assertion:${hashed('svc', 'j1')}`)
  })

  it('uses the configured prefix and at least one second of life', async () => {
    const redis = fakeRedis('OK')
    const store = redisReplayStore({ sendCommand: redis.sendCommand, prefix: 'app:jti:' })
    await store.claim('svc', 'j1', now() - 100)
    expect(redis.commands[0]?.[1]).toBe(`app:jti:${hashed('svc', 'j1')}`)
    expect(redis.commands[0]?.[5]).toBe('1000')
  })

  it('rejects (never answers true) on a failure, a timeout or an unexpected reply', async () => {
    const failing = redisReplayStore({ sendCommand: () => Promise.reject(new Error('down')) })
    await expect(failing.claim('svc', 'j', now() + 60)).rejects.toThrow('down')
    const hanging = redisReplayStore({ sendCommand: () => new Promise(() => {}), timeoutMs: 50 })
    await expect(hanging.claim('svc', 'j', now() + 60)).rejects.toMatchObject({
      code: 'ERR_CCFLOW_REDIS_TIMEOUT',
    })
    const odd = redisReplayStore({ sendCommand: () => Promise.resolve(1) })
    await expect(odd.claim('svc', 'j', now() + 60)).rejects.toThrow(/unexpected reply/)
  })

  it.each([
    [{}, /^redisReplayStore: option "sendCommand" is required and must be a function/],
    [
      { sendCommand: () => Promise.resolve('OK'), prefix: 'has space' },
      /^redisReplayStore: option "prefix" must be 1-128 printable ASCII characters without spaces$/,
    ],
    [
      { sendCommand: () => Promise.resolve('OK'), prefx: 'a:' },
      /^redisReplayStore: unknown option "prefx" \(did you mean "prefix"\?\)$/,
    ],
  ])('refuses bad options %#', (options, message) => {
    expect(() => redisReplayStore(options as unknown as RedisReplayStoreOptions)).toThrow(message)
  })
})
