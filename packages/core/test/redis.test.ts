import { createHash } from 'node:crypto'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { checkDenylistPrefix, denylistKey, isDenylistPrefix } from '../src/redis/denylist-key.js'
import { checkRedisKeyPrefix, hashedPairKey, isRedisKeyPrefix } from '../src/redis/key.js'
import {
  REDIS_TIMEOUT_CODE,
  type RedisCommandOptions,
  REDIS_COMMAND_OPTIONS,
  resolveRedisCommand,
  withRedisTimeout,
} from '../src/redis/send-command.js'

const ISS = 'https://auth.example.com'
const hashed = (iss: string, jti: string): string =>
  createHash('sha256').update(`${iss}\n${jti}`).digest('base64url')

afterEach(() => {
  vi.useRealTimers()
})

describe('withRedisTimeout', () => {
  it('passes the reply through', async () => {
    const send = withRedisTimeout((args) => Promise.resolve(args.join(' ')), 100)
    await expect(send(['PING'])).resolves.toBe('PING')
  })

  it('rejects with a timeout error naming the command when no reply comes in time', async () => {
    vi.useFakeTimers()
    const send = withRedisTimeout(() => new Promise(() => {}), 250)
    const settled = expect(send(['EXISTS', 'k'])).rejects.toMatchObject({
      code: REDIS_TIMEOUT_CODE,
      message: expect.stringContaining('EXISTS') as unknown,
    })
    await vi.advanceTimersByTimeAsync(249)
    await vi.advanceTimersByTimeAsync(1)
    await settled
  })

  it('says "a command" in the timeout error when the arguments are empty', async () => {
    vi.useFakeTimers()
    const send = withRedisTimeout(() => new Promise(() => {}), 250)
    const settled = expect(send([])).rejects.toMatchObject({
      code: REDIS_TIMEOUT_CODE,
      message: 'Redis did not answer a command within 250 ms',
    })
    await vi.advanceTimersByTimeAsync(250)
    await settled
  })

  it('turns a synchronous throw into a rejection', async () => {
    const send = withRedisTimeout(() => {
      throw new Error('client is closed')
    }, 100)
    await expect(send(['PING'])).rejects.toThrow('client is closed')
  })

  it('wraps a non-Error rejection in an Error', async () => {
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
    const send = withRedisTimeout(() => Promise.reject('nope'), 100)
    await expect(send(['PING'])).rejects.toThrow(Error)
  })
})

describe('resolveRedisCommand', () => {
  const sendCommand = (): Promise<unknown> => Promise.resolve('OK')

  it.each([
    [null, /options must be an object/],
    [{}, /"sendCommand" is required/],
    [{ sendCommand, timeoutMs: 0 }, /^x: option "timeoutMs" must be an integer from 1 to 60000$/],
    [{ sendCommand, timeoutMs: 60_001 }, /option "timeoutMs" must be an integer from 1 to 60000/],
    [{ sendCommand, timeoutMs: 2.5 }, /option "timeoutMs" must be an integer/],
    [{ sendCommand, timeoutMs: '5' }, /option "timeoutMs" must be an integer/],
    [{ sendCommand, client: {} }, /^x: unknown option "client"$/],
    [{ sendCommand, timeout: 5 }, /^x: unknown option "timeout" \(did you mean "timeoutMs"\?\)$/],
  ])('throws a TypeError for %j', (options, message) => {
    expect(() => resolveRedisCommand(options as unknown as RedisCommandOptions, 'x')).toThrow(
      message,
    )
  })

  it('accepts the extra keys its caller checks', () => {
    expect(() =>
      resolveRedisCommand({ sendCommand, prefix: 'p:' } as RedisCommandOptions, 'x', {
        ...REDIS_COMMAND_OPTIONS,
        prefix: true,
      }),
    ).not.toThrow()
  })
})

describe('denylistKey', () => {
  it('is base64url(SHA-256(iss + newline + jti))', () => {
    expect(denylistKey(ISS, 'abc')).toBe(hashed(ISS, 'abc'))
  })

  it('has a fixed length and key-safe characters whatever the jti holds', () => {
    for (const jti of ['', '*', 'a b\r\nDEL x', '\u2028', 'x'.repeat(10_000)]) {
      expect(denylistKey(ISS, jti)).toMatch(/^[A-Za-z0-9_-]{43}$/)
    }
  })

  it('separates iss from jti so that moving characters across the boundary changes the key', () => {
    expect(denylistKey('https://a', 'bc')).not.toBe(denylistKey('https://ab', 'c'))
  })
})

describe('isDenylistPrefix', () => {
  it.each(['ccflow:revoked:', 'a', 'x'.repeat(128), '!~'])('accepts %j', (prefix) => {
    expect(isDenylistPrefix(prefix)).toBe(true)
  })

  it.each(['', 'a b', 'x'.repeat(129), 'é', 'a\n', 42, undefined])('refuses %j', (prefix) => {
    expect(isDenylistPrefix(prefix)).toBe(false)
  })
})

describe('checkDenylistPrefix', () => {
  const at = { where: 'redisDenylist', path: 'prefix' }

  it('defaults to the prefix issuer and guard share', () => {
    expect(checkDenylistPrefix(undefined, at)).toBe('ccflow:revoked:')
    expect(checkDenylistPrefix('app:deny:', at)).toBe('app:deny:')
  })

  it('refuses a prefix with a space, naming the factory and the option', () => {
    expect(() => checkDenylistPrefix('a b', at)).toThrow(
      /^redisDenylist: option "prefix" must be 1-128 printable ASCII characters without spaces$/,
    )
  })
})

describe('hashedPairKey and checkRedisKeyPrefix (shared by the denylist and the replay store)', () => {
  it('hashes the pair as the denylist contract does, at a fixed length', () => {
    expect(hashedPairKey('svc', 'j1')).toBe(hashed('svc', 'j1'))
    expect(hashedPairKey('svc', 'x'.repeat(5000))).toHaveLength(43)
    expect(denylistKey(ISS, 'j1')).toBe(hashedPairKey(ISS, 'j1'))
  })

  it('accepts printable ASCII prefixes, defaults to the fallback, and names the option', () => {
    const at = { where: 'redisReplayStore', path: 'prefix' }
    expect(checkRedisKeyPrefix(undefined, at, 'ccflow:assertion:')).toBe('ccflow:assertion:')
    expect(checkRedisKeyPrefix('app:jti:', at, 'x')).toBe('app:jti:')
    expect(isRedisKeyPrefix('a b')).toBe(false)
    expect(() => checkRedisKeyPrefix('été:', at, 'x')).toThrow(
      'redisReplayStore: option "prefix" must be 1-128 printable ASCII characters without spaces',
    )
  })
})
