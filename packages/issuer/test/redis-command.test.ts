import { createHash } from 'node:crypto'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { REDIS_TIMEOUT_CODE } from '@ccflow/core'
import { rateLimitRedisCommand } from '../src/redis-command.js'

afterEach(() => {
  vi.useRealTimers()
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
      /^rateLimitRedisCommand: option "sendCommand" is required and must be a function/,
    )
  })

  it('refuses an unknown option, suggesting the known one', () => {
    expect(() =>
      rateLimitRedisCommand({ sendCommand: () => Promise.resolve(0), timeout: 5 } as never),
    ).toThrow(/^rateLimitRedisCommand: unknown option "timeout" \(did you mean "timeoutMs"\?\)$/)
  })

  it('refuses a timeoutMs out of range', () => {
    expect(() =>
      rateLimitRedisCommand({ sendCommand: () => Promise.resolve(0), timeoutMs: 60_001 }),
    ).toThrow(/^rateLimitRedisCommand: option "timeoutMs" must be an integer from 1 to 60000$/)
  })
})
