import { createHash } from 'node:crypto'
import { afterEach, describe, expect, it, vi } from 'vitest'
import request from 'supertest'
import { DEFAULT_REDIS_TIMEOUT_MS, REDIS_TIMEOUT_CODE } from '@ccflow/core'
import { requireToken } from '../../src/index.js'
import {
  redisRevocationCheck,
  type RedisRevocationCheckOptions,
  REDIS_REVOCATION_CHECK_DEFAULTS,
  REVOCATION_LOOKUP_TIMEOUT_MS,
} from '../../src/verify/revocation-check.js'
import {
  accessClaims,
  AUDIENCE,
  bodyOf,
  createApp,
  ISSUER,
  rsaKeyPair,
  signToken,
} from '../helpers.js'

const ISS = 'https://auth.example.com'
const expectedKey = (iss: string, jti: string): string =>
  createHash('sha256').update(`${iss}\n${jti}`).digest('base64url')

/** A fake Redis: a set of revoked keys and a log of the commands sent. */
function fakeRedis(revoked: string[] = []) {
  const keys = new Set(revoked)
  const commands: string[][] = []
  const sendCommand = vi.fn((args: string[]): Promise<unknown> => {
    commands.push(args)
    return Promise.resolve(keys.has(args[1] ?? '') ? 1 : 0)
  })
  return { keys, commands, sendCommand }
}

function check(
  overrides: Partial<RedisRevocationCheckOptions> &
    Pick<RedisRevocationCheckOptions, 'sendCommand'>,
) {
  return redisRevocationCheck({ onError: () => {}, ...overrides })
}

afterEach(() => {
  vi.useRealTimers()
  vi.restoreAllMocks()
})

describe('redisRevocationCheck', () => {
  it('asks EXISTS on the prefixed key and answers true for a listed token', async () => {
    const redis = fakeRedis([`ccflow:revoked:${expectedKey(ISS, 'j1')}`])
    const isRevoked = check({ sendCommand: redis.sendCommand })
    await expect(isRevoked({ iss: ISS, jti: 'j1' })).resolves.toBe(true)
    expect(redis.commands).toEqual([['EXISTS', `ccflow:revoked:${expectedKey(ISS, 'j1')}`]])
  })

  it('answers false for a token that is not listed', async () => {
    const redis = fakeRedis()
    await expect(check({ sendCommand: redis.sendCommand })({ iss: ISS, jti: 'j2' })).resolves.toBe(
      false,
    )
  })

  it('treats options set to undefined as not given', async () => {
    const redis = fakeRedis([`ccflow:revoked:${expectedKey(ISS, 'j1')}`])
    const isRevoked = redisRevocationCheck({
      sendCommand: redis.sendCommand,
      prefix: undefined,
      cacheTtlMs: undefined,
      cacheMax: undefined,
      timeoutMs: undefined,
      failOpen: undefined,
      onError: undefined,
    })
    await expect(isRevoked({ iss: ISS, jti: 'j1', exp: undefined })).resolves.toBe(true)
  })

  it('uses the configured prefix', async () => {
    const redis = fakeRedis([`app1:deny:${expectedKey(ISS, 'j1')}`])
    const isRevoked = check({ sendCommand: redis.sendCommand, prefix: 'app1:deny:' })
    await expect(isRevoked({ iss: ISS, jti: 'j1' })).resolves.toBe(true)
  })

  it('accepts a string reply, as some clients give for integers', async () => {
    const isRevoked = check({ sendCommand: () => Promise.resolve('1') })
    await expect(isRevoked({ iss: ISS, jti: 'j' })).resolves.toBe(true)
  })

  it('answers false without asking Redis for a token that has no jti', async () => {
    const redis = fakeRedis()
    await expect(check({ sendCommand: redis.sendCommand })({ iss: ISS })).resolves.toBe(false)
    expect(redis.sendCommand).not.toHaveBeenCalled()
  })

  it('reuses an answer for cacheTtlMs, then asks again', async () => {
    vi.useFakeTimers()
    const redis = fakeRedis()
    const isRevoked = check({ sendCommand: redis.sendCommand, cacheTtlMs: 5000 })
    await isRevoked({ iss: ISS, jti: 'j' })
    redis.keys.add(`ccflow:revoked:${expectedKey(ISS, 'j')}`)
    vi.advanceTimersByTime(4999)
    await expect(isRevoked({ iss: ISS, jti: 'j' })).resolves.toBe(false)
    expect(redis.sendCommand).toHaveBeenCalledTimes(1)
    vi.advanceTimersByTime(2)
    await expect(isRevoked({ iss: ISS, jti: 'j' })).resolves.toBe(true)
    expect(redis.sendCommand).toHaveBeenCalledTimes(2)
  })

  it('asks Redis on every call with cacheTtlMs 0', async () => {
    const redis = fakeRedis()
    const isRevoked = check({ sendCommand: redis.sendCommand, cacheTtlMs: 0 })
    await isRevoked({ iss: ISS, jti: 'j' })
    await isRevoked({ iss: ISS, jti: 'j' })
    expect(redis.sendCommand).toHaveBeenCalledTimes(2)
  })

  it('keeps a revoked answer until the token expires, since revocation is final', async () => {
    vi.useFakeTimers()
    const exp = Math.floor(Date.now() / 1000) + 60
    const redis = fakeRedis([`ccflow:revoked:${expectedKey(ISS, 'j')}`])
    const isRevoked = check({ sendCommand: redis.sendCommand, cacheTtlMs: 1000 })
    await isRevoked({ iss: ISS, jti: 'j', exp })
    vi.advanceTimersByTime(30_000)
    await expect(isRevoked({ iss: ISS, jti: 'j', exp })).resolves.toBe(true)
    expect(redis.sendCommand).toHaveBeenCalledTimes(1)
  })

  it('sends one lookup for concurrent checks of the same token', async () => {
    let answer: (value: unknown) => void = () => {}
    const sendCommand = vi.fn(
      () =>
        new Promise<unknown>((resolve) => {
          answer = resolve
        }),
    )
    const isRevoked = check({ sendCommand })
    const all = Promise.all([1, 2, 3].map(() => isRevoked({ iss: ISS, jti: 'same' })))
    answer(0)
    await expect(all).resolves.toEqual([false, false, false])
    expect(sendCommand).toHaveBeenCalledTimes(1)
  })

  it('keeps at most cacheMax answers', async () => {
    const redis = fakeRedis()
    const isRevoked = check({ sendCommand: redis.sendCommand, cacheMax: 2 })
    for (const jti of ['a', 'b', 'c', 'a']) await isRevoked({ iss: ISS, jti })
    // 'a' was dropped when 'c' came in, so it is asked for again.
    expect(redis.commands.map((c) => c[1])).toEqual(
      ['a', 'b', 'c', 'a'].map((j) => `ccflow:revoked:${expectedKey(ISS, j)}`),
    )
  })

  describe('when Redis fails', () => {
    it('rejects by default (fail closed), and does not cache the failure', async () => {
      const sendCommand = vi
        .fn<(args: string[]) => Promise<unknown>>()
        .mockRejectedValueOnce(new Error('The client is offline'))
        .mockResolvedValueOnce(0)
      const isRevoked = check({ sendCommand })
      await expect(isRevoked({ iss: ISS, jti: 'j' })).rejects.toThrow('offline')
      await expect(isRevoked({ iss: ISS, jti: 'j' })).resolves.toBe(false)
    })

    it('answers false with failOpen and reports the error', async () => {
      const onError = vi.fn()
      const failure = new Error('The client is offline')
      const isRevoked = redisRevocationCheck({
        sendCommand: () => Promise.reject(failure),
        failOpen: true,
        onError,
      })
      await expect(isRevoked({ iss: ISS, jti: 'j' })).resolves.toBe(false)
      expect(onError).toHaveBeenCalledWith(failure)
    })

    it('rejects with a timeout error when Redis does not answer within timeoutMs', async () => {
      vi.useFakeTimers()
      const isRevoked = check({ sendCommand: () => new Promise(() => {}), timeoutMs: 250 })
      const result = isRevoked({ iss: ISS, jti: 'j' })
      const settled = expect(result).rejects.toMatchObject({ code: REDIS_TIMEOUT_CODE })
      await vi.advanceTimersByTimeAsync(250)
      await settled
    })

    it('treats a sendCommand that throws synchronously as a failure', async () => {
      const isRevoked = check({
        sendCommand: () => {
          throw new Error('boom')
        },
      })
      await expect(isRevoked({ iss: ISS, jti: 'j' })).rejects.toThrow('boom')
    })

    it('treats an unexpected reply as a failure', async () => {
      const isRevoked = check({ sendCommand: () => Promise.resolve('OK') })
      await expect(isRevoked({ iss: ISS, jti: 'j' })).rejects.toThrow(TypeError)
    })

    it('warns once when lookups start failing, not once per request', async () => {
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
      let up = false
      const isRevoked = redisRevocationCheck({
        sendCommand: () => (up ? Promise.resolve(0) : Promise.reject(new Error('down'))),
        cacheTtlMs: 0,
      })
      for (let i = 0; i < 3; i++) await isRevoked({ iss: ISS, jti: 'j' }).catch(() => {})
      expect(warn).toHaveBeenCalledTimes(1)
      up = true
      await isRevoked({ iss: ISS, jti: 'j' })
      up = false
      await isRevoked({ iss: ISS, jti: 'j' }).catch(() => {})
      expect(warn).toHaveBeenCalledTimes(2)
    })

    it('warns what happens to requests meanwhile: refused with 503, or accepted unchecked with failOpen', async () => {
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
      const down = () => Promise.reject(new Error('down'))
      await redisRevocationCheck({ sendCommand: down })({ iss: ISS, jti: 'j' }).catch(() => {})
      await expect(
        redisRevocationCheck({ sendCommand: down, failOpen: true })({ iss: ISS, jti: 'j' }),
      ).resolves.toBe(false)
      expect(warn.mock.calls.map((call: unknown[]) => call[0])).toEqual([
        expect.stringMatching(
          /^redisRevocationCheck: cannot reach Redis; requests are refused with 503/,
        ),
        expect.stringContaining('tokens are accepted unchecked'),
      ])
    })

    it('never lets a throwing onError change the answer', async () => {
      const isRevoked = redisRevocationCheck({
        sendCommand: () => Promise.reject(new Error('down')),
        failOpen: true,
        onError: () => {
          throw new Error('logger broke')
        },
      })
      await expect(isRevoked({ iss: ISS, jti: 'j' })).resolves.toBe(false)
    })
  })

  describe('options', () => {
    const sendCommand = (): Promise<unknown> => Promise.resolve(0)

    it('throws a TypeError naming an unknown option', () => {
      expect(() =>
        redisRevocationCheck({
          sendCommand,
          cacheTTL: 5,
        } as unknown as RedisRevocationCheckOptions),
      ).toThrow(/^redisRevocationCheck: unknown option "cacheTTL" \(did you mean "cacheTtlMs"\?\)$/)
    })

    it('requires sendCommand', () => {
      expect(() => redisRevocationCheck({} as RedisRevocationCheckOptions)).toThrow(
        /^redisRevocationCheck: option "sendCommand" is required and must be a function/,
      )
    })

    it.each([
      ['cacheTtlMs', -1],
      ['cacheTtlMs', 1.5],
      ['cacheMax', 0],
      ['timeoutMs', 0],
      ['timeoutMs', '500'],
      ['failOpen', 'yes'],
      ['prefix', ''],
      ['prefix', 'has space'],
      ['onError', 'log'],
    ])('throws a TypeError naming %s for %j', (name, value) => {
      expect(() => redisRevocationCheck({ sendCommand, [name]: value })).toThrow(
        new RegExp(`^redisRevocationCheck: option "${name}" must be `),
      )
    })

    it('says the range of an integer out of range', () => {
      expect(() => redisRevocationCheck({ sendCommand, timeoutMs: 60_001 })).toThrow(
        /^redisRevocationCheck: option "timeoutMs" must be an integer from 1 to 60000$/,
      )
    })

    it("defaults timeoutMs to REVOCATION_LOOKUP_TIMEOUT_MS, tighter than core's Redis default", () => {
      expect(REDIS_REVOCATION_CHECK_DEFAULTS.timeoutMs).toBe(REVOCATION_LOOKUP_TIMEOUT_MS)
      expect(REVOCATION_LOOKUP_TIMEOUT_MS).toBeLessThan(DEFAULT_REDIS_TIMEOUT_MS)
    })
  })
})

describe('requireToken with a redisRevocationCheck', () => {
  const rsa = rsaKeyPair()
  const token = (jti: string): Promise<string> =>
    signToken(accessClaims({ jti }), rsa.privateKey, { alg: 'RS256', kid: 'k1' })

  function appWith(
    options: Partial<RedisRevocationCheckOptions> &
      Pick<RedisRevocationCheckOptions, 'sendCommand'>,
  ) {
    return createApp(
      requireToken({
        issuer: ISSUER,
        audience: AUDIENCE,
        keys: [{ key: rsa.publicKey, kid: 'k1' }],
        isRevoked: check(options),
      }),
    )
  }

  it('answers 401 invalid_token (revoked) for a token on the denylist', async () => {
    const redis = fakeRedis([`ccflow:revoked:${expectedKey(ISSUER, 'gone')}`])
    const res = await request(appWith({ sendCommand: redis.sendCommand }))
      .get('/api')
      .set('Authorization', `Bearer ${await token('gone')}`)
    expect(res.status).toBe(401)
    expect(bodyOf(res)).toMatchObject({ error: 'invalid_token', reason: 'revoked' })
    expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="api", error="invalid_token"/)
  })

  it('lets a token that is not listed through', async () => {
    const redis = fakeRedis()
    const res = await request(appWith({ sendCommand: redis.sendCommand }))
      .get('/api')
      .set('Authorization', `Bearer ${await token('fine')}`)
    expect(res.status).toBe(200)
  })

  it('answers 503 revocation_check_failed when Redis is down (fail closed)', async () => {
    const res = await request(appWith({ sendCommand: () => Promise.reject(new Error('down')) }))
      .get('/api')
      .set('Authorization', `Bearer ${await token('any')}`)
    expect(res.status).toBe(503)
    expect(bodyOf(res)).toMatchObject({ reason: 'revocation_check_failed' })
  })

  it('lets the token through when Redis is down and failOpen is set', async () => {
    const res = await request(
      appWith({ sendCommand: () => Promise.reject(new Error('down')), failOpen: true }),
    )
      .get('/api')
      .set('Authorization', `Bearer ${await token('any')}`)
    expect(res.status).toBe(200)
  })
})
