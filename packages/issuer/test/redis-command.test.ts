import { createHash } from 'node:crypto'
import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  rateLimitRedisCommand,
  REDIS_TIMEOUT_CODE,
  type RedisCommandOptions,
  resolveRedisCommand,
  withTimeout,
} from '../src/redis-command.js'

afterEach(() => {
  vi.useRealTimers()
})

describe('withTimeout', () => {
  it('passes the reply through', async () => {
    const send = withTimeout((args) => Promise.resolve(args.join(' ')), 100)
    await expect(send(['PING'])).resolves.toBe('PING')
  })

  it('rejects with a timeout error naming the command when no reply comes in time', async () => {
    vi.useFakeTimers()
    const send = withTimeout(() => new Promise(() => {}), 250)
    const settled = expect(send(['EXISTS', 'k'])).rejects.toMatchObject({
      code: REDIS_TIMEOUT_CODE,
      message: expect.stringContaining('EXISTS') as unknown,
    })
    await vi.advanceTimersByTimeAsync(249)
    await vi.advanceTimersByTimeAsync(1)
    await settled
  })

  it('turns a synchronous throw into a rejection', async () => {
    const send = withTimeout(() => {
      throw new Error('client is closed')
    }, 100)
    await expect(send(['PING'])).rejects.toThrow('client is closed')
  })

  it('wraps a non-Error rejection in an Error', async () => {
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
    const send = withTimeout(() => Promise.reject('nope'), 100)
    await expect(send(['PING'])).rejects.toThrow(Error)
  })
})

describe('resolveRedisCommand', () => {
  const sendCommand = (): Promise<unknown> => Promise.resolve('OK')

  it.each([
    [null, /options must be an object/],
    [{}, /"sendCommand" is required/],
    [{ sendCommand, timeoutMs: 0 }, /"timeoutMs"/],
    [{ sendCommand, timeoutMs: 60_001 }, /"timeoutMs"/],
    [{ sendCommand, timeoutMs: 2.5 }, /"timeoutMs"/],
    [{ sendCommand, client: {} }, /unknown option "client"/],
  ])('throws a TypeError for %j', (options, message) => {
    expect(() => resolveRedisCommand(options as unknown as RedisCommandOptions, 'x')).toThrow(
      message,
    )
  })

  it('accepts the extra keys its caller checks', () => {
    expect(() =>
      resolveRedisCommand({ sendCommand, prefix: 'p:' } as RedisCommandOptions, 'x', ['prefix']),
    ).not.toThrow()
  })
})

describe('rateLimitRedisCommand', () => {
  const SCRIPT = 'return redis.call("INCR", KEYS[1])'

  it('hands rate-limit-redis variadic arguments to sendCommand as one array', async () => {
    const sendCommand = vi.fn((args: string[]) => Promise.resolve(args.length))
    const send = rateLimitRedisCommand({ sendCommand })
    await expect(send('EVALSHA', 'abc', '1', 'key', '60000')).resolves.toBe(5)
    expect(sendCommand).toHaveBeenCalledWith(['EVALSHA', 'abc', '1', 'key', '60000'])
  })

  it("answers a failed SCRIPT LOAD with the script's SHA-1, so a later NOSCRIPT reloads it", async () => {
    const send = rateLimitRedisCommand({
      sendCommand: () => Promise.reject(new Error('The client is offline')),
    })
    await expect(send('SCRIPT', 'LOAD', SCRIPT)).resolves.toBe(
      createHash('sha1').update(SCRIPT).digest('hex'),
    )
  })

  it('still rejects every other command that fails', async () => {
    const send = rateLimitRedisCommand({
      sendCommand: () => Promise.reject(new Error('The client is offline')),
    })
    await expect(send('EVALSHA', 'abc', '1', 'key', '60000')).rejects.toThrow('offline')
    await expect(send('DECR', 'key')).rejects.toThrow('offline')
  })

  it('bounds every command by timeoutMs', async () => {
    vi.useFakeTimers()
    const send = rateLimitRedisCommand({ sendCommand: () => new Promise(() => {}), timeoutMs: 50 })
    const settled = expect(send('DECR', 'key')).rejects.toMatchObject({ code: REDIS_TIMEOUT_CODE })
    await vi.advanceTimersByTimeAsync(50)
    await settled
  })

  it('throws a TypeError naming a bad option', () => {
    expect(() => rateLimitRedisCommand({ sendCommand: undefined } as never)).toThrow(
      /rateLimitRedisCommand: option "sendCommand"/,
    )
  })
})
