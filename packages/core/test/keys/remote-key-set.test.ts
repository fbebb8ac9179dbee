import { generateKeyPairSync, randomUUID } from 'node:crypto'
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import {
  createRemoteKeySet,
  type CreateRemoteKeySetOptions,
  type RemoteKeySet,
  type RemoteKeySetEvent,
  KeySetUnavailableError,
} from '../../src/keys/remote-key-set.js'
import {
  json,
  jwks,
  type Route,
  startKeyServer,
  status,
  type TestKey,
  type TestKeyServer,
  testKey,
} from '../jwks-server.js'

let rsaA: TestKey
let rsaB: TestKey
let ecA: TestKey

beforeAll(() => {
  rsaA = testKey('rsa-a')
  rsaB = testKey('rsa-b')
  ecA = testKey('ec-a', 'EC')
})

let server: TestKeyServer
const open: RemoteKeySet[] = []

beforeEach(async () => {
  // Only Date is faked: max-age, cooldown and staleFor read Date.now(), while sockets and
  // AbortSignal.timeout keep their real timers.
  vi.useFakeTimers({ toFake: ['Date'] })
  vi.setSystemTime(new Date('2030-01-01T00:00:00Z'))
  server = await startKeyServer()
})

afterEach(async () => {
  for (const set of open.splice(0)) set.close()
  vi.useRealTimers()
  await server.close()
})

function keySet(options: Partial<CreateRemoteKeySetOptions> = {}): RemoteKeySet {
  const set = createRemoteKeySet({ jwksUri: server.url('/jwks.json'), ...options })
  open.push(set)
  return set
}

function advance(seconds: number): void {
  vi.setSystemTime(Date.now() + seconds * 1000)
}

async function unavailable(promise: Promise<unknown>): Promise<KeySetUnavailableError> {
  const error: unknown = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  )
  expect(error).toBeInstanceOf(KeySetUnavailableError)
  return error as KeySetUnavailableError
}

const JWKS = '/jwks.json'

describe('createRemoteKeySet', () => {
  describe('options', () => {
    it('throws a TypeError naming an unknown option and the nearest known one', () => {
      expect(() =>
        createRemoteKeySet({ jwksUri: server.url(JWKS), cooldownSecs: 5 } as never),
      ).toThrow(
        /^createRemoteKeySet: unknown option "cooldownSecs" \(did you mean "cooldownSeconds"\?\)$/,
      )
    })

    it('refuses a value of the wrong type, naming the option', () => {
      expect(() =>
        createRemoteKeySet({ jwksUri: server.url(JWKS), discover: 'yes' } as never),
      ).toThrow(/^createRemoteKeySet: option "discover" must be a boolean$/)
    })

    it('refuses an http jwksUri on a host other than loopback', () => {
      expect(() => createRemoteKeySet({ jwksUri: 'http://auth.example.com/jwks.json' })).toThrow(
        /^createRemoteKeySet: option "jwksUri" must use https/,
      )
    })

    it('refuses a configuration without a key source or with two', () => {
      expect(() => createRemoteKeySet({})).toThrow(/option "jwksUri" is required/)
      expect(() =>
        createRemoteKeySet({
          jwksUri: server.url(JWKS),
          issuer: server.origin,
          discover: true,
        }),
      ).toThrow(/option "jwksUri" cannot be combined with "discover"/)
      expect(() => createRemoteKeySet({ discover: true })).toThrow(/option "issuer"/)
    })

    it('refuses tuning values out of range, naming them', () => {
      expect(() => createRemoteKeySet({ jwksUri: server.url(JWKS), timeoutMs: 0 })).toThrow(
        /^createRemoteKeySet: option "timeoutMs" must be a number from 1 to 60000$/,
      )
      expect(() =>
        createRemoteKeySet({ jwksUri: server.url(JWKS), cooldownSeconds: Number.NaN }),
      ).toThrow(/option "cooldownSeconds" must be a number from 1 to 86400/)
    })

    it('names the wrapping factory and the path of the tuning options it is given', () => {
      expect(() =>
        createRemoteKeySet(
          { jwksUri: server.url(JWKS), timeoutMs: 0 },
          { where: 'requireToken', prefix: 'jwks.' },
        ),
      ).toThrow(/^requireToken: option "jwks\.timeoutMs" must be a number from 1 to 60000$/)
      expect(() =>
        createRemoteKeySet({ jwksUri: server.url(JWKS), timout: 1 } as never, {
          where: 'requireToken',
          prefix: 'jwks.',
        }),
      ).toThrow(
        /^requireToken: unknown option "jwks\.timout" \(did you mean "jwks\.timeoutMs"\?\)$/,
      )
    })

    it.each([
      ['timeout', 'timeoutMs', 'CCFLOW_DEP_TIMEOUT'],
      ['cacheMaxAge', 'cacheMaxAgeSeconds', 'CCFLOW_DEP_CACHE_MAX_AGE'],
      ['cooldown', 'cooldownSeconds', 'CCFLOW_DEP_COOLDOWN'],
      ['staleFor', 'staleForSeconds', 'CCFLOW_DEP_STALE_FOR'],
    ])(
      'still accepts the deprecated %s (as %s), warning once per process',
      (oldName, newName, code) => {
        const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined)
        try {
          // The value still counts: out of range under the old name is refused under the new one.
          expect(() => createRemoteKeySet({ jwksUri: server.url(JWKS), [oldName]: -1 })).toThrow(
            `option "${newName}" must be a number`,
          )
          keySet({ [oldName]: 60 }).close()
          const warnings = warn.mock.calls.filter(([, options]) => {
            return (options as { code?: string } | undefined)?.code === code
          })
          expect(warnings).toHaveLength(1)
          expect(warnings[0]?.[0]).toBe(
            `createRemoteKeySet: option "${oldName}" is deprecated and will be removed in the next major version; use "${newName}" (same value)`,
          )
          expect(warnings[0]?.[1]).toEqual({ type: 'DeprecationWarning', code })
        } finally {
          warn.mockRestore()
        }
      },
    )

    it('refuses a deprecated name given together with its replacement', () => {
      expect(() =>
        createRemoteKeySet({ jwksUri: server.url(JWKS), timeout: 5, timeoutMs: 5 }),
      ).toThrow(
        /^createRemoteKeySet: options "timeout" and "timeoutMs" are the same option; keep only "timeoutMs"$/,
      )
    })
  })

  describe('getKey', () => {
    it('resolves the key for a known kid and a suitable alg after one fetch', async () => {
      server.route(JWKS, json(jwks(rsaA, rsaB)))
      const set = keySet()
      await set.ready
      const key = await set.getKey('rsa-b', 'RS256')
      expect(key?.equals(rsaB.publicKey)).toBe(true)
      expect((await set.getKey('rsa-a', 'PS384'))?.equals(rsaA.publicKey)).toBe(true)
      expect(server.hits(JWKS)).toBe(1)
      expect(set.stats()).toMatchObject({ fetches: 1, keyCount: 2, consecutiveFailures: 0 })
    })

    it('resolves undefined when the alg does not suit the key type', async () => {
      server.route(JWKS, json(jwks(rsaA, ecA)))
      const set = keySet()
      expect(await set.getKey('rsa-a', 'ES256')).toBeUndefined()
      expect(await set.getKey('ec-a', 'RS256')).toBeUndefined()
      expect(await set.getKey('ec-a', 'ES384')).toBeUndefined()
      expect((await set.getKey('ec-a', 'ES256'))?.equals(ecA.publicKey)).toBe(true)
    })

    it('uses a key only with the alg its JWK names', async () => {
      const pinned = testKey('pinned', 'RSA', { alg: 'PS256' })
      server.route(JWKS, json(jwks(pinned)))
      const set = keySet()
      expect(await set.getKey('pinned', 'RS256')).toBeUndefined()
      expect((await set.getKey('pinned', 'PS256'))?.equals(pinned.publicKey)).toBe(true)
    })

    it('resolves undefined for an alg it never verifies, without fetching again', async () => {
      server.route(JWKS, json(jwks(rsaA)))
      const set = keySet()
      await set.ready
      advance(60)
      for (const alg of ['HS256', 'none', 'NONE', 'EdDSA', '']) {
        expect(await set.getKey('rsa-a', alg)).toBeUndefined()
      }
      expect(server.hits(JWKS)).toBe(1)
    })

    it('uses the only suitable key for a token without kid, and none when it is ambiguous', async () => {
      server.route(JWKS, json(jwks(rsaA, ecA)))
      const set = keySet()
      expect((await set.getKey(undefined, 'RS256'))?.equals(rsaA.publicKey)).toBe(true)
      expect((await set.getKey(undefined, 'ES256'))?.equals(ecA.publicKey)).toBe(true)

      server.route(JWKS, json(jwks(rsaA, rsaB)))
      const ambiguous = keySet()
      expect(await ambiguous.getKey(undefined, 'RS256')).toBeUndefined()
    })

    it('looks up a kid holding a path or SQL as an unknown kid', async () => {
      server.route(JWKS, json(jwks(rsaA)))
      const set = keySet()
      expect(await set.getKey('../../etc/passwd', 'RS256')).toBeUndefined()
      expect(await set.getKey("' OR 1=1 --", 'RS256')).toBeUndefined()
      expect(await set.getKey('__proto__', 'RS256')).toBeUndefined()
    })
  })

  describe('peekKey', () => {
    it('returns synchronously the key getKey would resolve once the set is fresh', async () => {
      server.route(JWKS, json(jwks(rsaA, ecA), { 'cache-control': 'max-age=120' }))
      const set = keySet()
      expect(set.peekKey('rsa-a', 'RS256')).toBeUndefined()
      await set.ready
      expect(set.peekKey('rsa-a', 'RS256')?.equals(rsaA.publicKey)).toBe(true)
      expect(set.peekKey('ec-a', 'ES256')?.equals(ecA.publicKey)).toBe(true)
      expect(server.hits(JWKS)).toBe(1)
    })

    it('returns undefined, and never fetches, for what only getKey may answer', async () => {
      server.route(JWKS, json(jwks(rsaA, ecA), { 'cache-control': 'max-age=120' }))
      const set = keySet()
      await set.ready
      expect(set.peekKey('unknown', 'RS256')).toBeUndefined()
      expect(set.peekKey('rsa-a', 'ES256')).toBeUndefined()
      expect(set.peekKey('rsa-a', 'HS256')).toBeUndefined()
      expect(set.peekKey('rsa-a', 'none')).toBeUndefined()
      // One RSA key in the set: without a kid it is the only candidate, as for getKey.
      expect(set.peekKey(undefined, 'RS256')?.equals(rsaA.publicKey)).toBe(true)
      advance(121)
      expect(set.peekKey('rsa-a', 'RS256')).toBeUndefined()
      expect(server.hits(JWKS)).toBe(1)
      expect((await set.getKey('rsa-a', 'RS256'))?.equals(rsaA.publicKey)).toBe(true)
      expect(server.hits(JWKS)).toBe(2)
      expect(set.peekKey('rsa-a', 'RS256')?.equals(rsaA.publicKey)).toBe(true)
    })

    it('returns undefined without a kid when several keys suit the alg', async () => {
      server.route(JWKS, json(jwks(rsaA, rsaB)))
      const set = keySet()
      await set.ready
      expect(set.peekKey(undefined, 'RS256')).toBeUndefined()
      expect(await set.getKey(undefined, 'RS256')).toBeUndefined()
    })
  })

  describe('unknown kid', () => {
    it('costs at most one fetch per cooldown under a flood of 1000 random kids', async () => {
      server.route(JWKS, json(jwks(rsaA)))
      const set = keySet({ cooldownSeconds: 30 })
      await set.ready

      const flood = async (): Promise<void> => {
        const keys = await Promise.all(
          Array.from({ length: 1000 }, () => set.getKey(randomUUID(), 'RS256')),
        )
        expect(keys.every((key) => key === undefined)).toBe(true)
      }
      await flood()
      expect(server.hits(JWKS)).toBe(1)

      advance(31)
      await flood()
      await flood()
      expect(server.hits(JWKS)).toBe(2)

      advance(31)
      await flood()
      expect(server.hits(JWKS)).toBe(3)
      expect((await set.getKey('rsa-a', 'RS256'))?.equals(rsaA.publicKey)).toBe(true)
    })

    it('picks up a rotated-in key within one cooldown and keeps the old one while it is published', async () => {
      server.route(JWKS, json(jwks(rsaA), { 'cache-control': 'max-age=3600' }))
      const set = keySet({ cooldownSeconds: 30 })
      await set.ready

      server.route(JWKS, json(jwks(rsaA, rsaB), { 'cache-control': 'max-age=3600' }))
      advance(10)
      expect(await set.getKey('rsa-b', 'RS256')).toBeUndefined()
      expect(server.hits(JWKS)).toBe(1)

      advance(21)
      expect((await set.getKey('rsa-b', 'RS256'))?.equals(rsaB.publicKey)).toBe(true)
      expect((await set.getKey('rsa-a', 'RS256'))?.equals(rsaA.publicKey)).toBe(true)
      expect(server.hits(JWKS)).toBe(2)
    })

    it('drops a key the server stopped publishing once the set is refreshed', async () => {
      server.route(JWKS, json(jwks(rsaA, rsaB), { 'cache-control': 'max-age=60' }))
      const set = keySet()
      expect((await set.getKey('rsa-a', 'RS256'))?.equals(rsaA.publicKey)).toBe(true)

      server.route(JWKS, json(jwks(rsaB), { 'cache-control': 'max-age=60' }))
      advance(61)
      expect(await set.getKey('rsa-a', 'RS256')).toBeUndefined()
      expect(server.hits(JWKS)).toBe(2)
    })
  })

  describe('caching', () => {
    it('honours Cache-Control max-age', async () => {
      server.route(JWKS, json(jwks(rsaA), { 'cache-control': 'public, max-age=120' }))
      const set = keySet()
      await set.ready
      advance(119)
      await set.getKey('rsa-a', 'RS256')
      expect(server.hits(JWKS)).toBe(1)
      advance(2)
      await set.getKey('rsa-a', 'RS256')
      expect(server.hits(JWKS)).toBe(2)
    })

    it('subtracts the Age header from max-age', async () => {
      server.route(JWKS, json(jwks(rsaA), { 'cache-control': 'max-age=300', age: '200' }))
      const set = keySet()
      await set.ready
      advance(101)
      await set.getKey('rsa-a', 'RS256')
      expect(server.hits(JWKS)).toBe(2)
    })

    it('raises a max-age below 30 seconds to 30 seconds', async () => {
      server.route(JWKS, json(jwks(rsaA), { 'cache-control': 'max-age=0' }))
      const set = keySet()
      await set.ready
      advance(29)
      await set.getKey('rsa-a', 'RS256')
      expect(server.hits(JWKS)).toBe(1)
      advance(2)
      await set.getKey('rsa-a', 'RS256')
      expect(server.hits(JWKS)).toBe(2)
    })

    it('caps a max-age above one day at one day', async () => {
      server.route(JWKS, json(jwks(rsaA), { 'cache-control': 'max-age=31536000' }))
      const set = keySet()
      await set.ready
      advance(86_401)
      await set.getKey('rsa-a', 'RS256')
      expect(server.hits(JWKS)).toBe(2)
    })

    it.each([
      ['no Cache-Control', {}],
      ['no-store', { 'cache-control': 'no-store' }],
      ['no-cache, max-age=5', { 'cache-control': 'no-cache, max-age=5' }],
      ['a malformed max-age', { 'cache-control': 'max-age=soon' }],
    ])('uses cacheMaxAge when the response has %s', async (_name, headers) => {
      server.route(JWKS, json(jwks(rsaA), headers))
      const set = keySet({ cacheMaxAgeSeconds: 200 })
      await set.ready
      advance(199)
      await set.getKey('rsa-a', 'RS256')
      expect(server.hits(JWKS)).toBe(1)
      advance(2)
      await set.getKey('rsa-a', 'RS256')
      expect(server.hits(JWKS)).toBe(2)
    })

    it('shares one fetch among 100 concurrent callers on a cold cache', async () => {
      server.route(JWKS, json(jwks(rsaA)))
      const set = keySet()
      const keys = await Promise.all(
        Array.from({ length: 100 }, () => set.getKey('rsa-a', 'RS256')),
      )
      expect(keys.every((key) => key?.equals(rsaA.publicKey) === true)).toBe(true)
      expect(server.hits(JWKS)).toBe(1)
    })

    it('shares one refresh among 100 concurrent callers when the set expires', async () => {
      server.route(JWKS, json(jwks(rsaA), { 'cache-control': 'max-age=60' }))
      const set = keySet()
      await set.ready
      advance(61)
      await Promise.all(Array.from({ length: 100 }, () => set.getKey('rsa-a', 'RS256')))
      expect(server.hits(JWKS)).toBe(2)
      expect(set.stats().fetches).toBe(2)
    })
  })

  describe('when the key server fails', () => {
    it('keeps the last good keys within staleFor, then throws KeySetUnavailableError', async () => {
      server.route(JWKS, json(jwks(rsaA), { 'cache-control': 'max-age=60' }))
      const set = keySet({ staleForSeconds: 600, cooldownSeconds: 30 })
      await set.ready

      server.route(JWKS, status(503))
      advance(61)
      expect((await set.getKey('rsa-a', 'RS256'))?.equals(rsaA.publicKey)).toBe(true)
      expect(set.stats()).toMatchObject({ lastError: 'http_status', consecutiveFailures: 1 })

      advance(500)
      expect((await set.getKey('rsa-a', 'RS256'))?.equals(rsaA.publicKey)).toBe(true)

      advance(101)
      const error = await unavailable(set.getKey('rsa-a', 'RS256'))
      expect(error).toMatchObject({ code: 'key_source_unavailable' })
      expect(error.retryAfter).toBeGreaterThanOrEqual(1)
    })

    it('counts each lookup answered from the stale set and calls onStaleServed for it', async () => {
      server.route(JWKS, json(jwks(rsaA), { 'cache-control': 'max-age=60' }))
      let calls = 0
      const set = keySet({
        staleForSeconds: 600,
        onStaleServed: () => {
          calls++
          throw new Error('a broken metrics callback')
        },
      })
      await set.ready
      expect((await set.getKey('rsa-a', 'RS256'))?.equals(rsaA.publicKey)).toBe(true)
      expect(set.stats().staleServed).toBe(0)

      server.route(JWKS, status(503))
      advance(61)
      expect((await set.getKey('rsa-a', 'RS256'))?.equals(rsaA.publicKey)).toBe(true)
      expect((await set.getKey('rsa-a', 'RS256'))?.equals(rsaA.publicKey)).toBe(true)
      expect(set.stats().staleServed).toBe(2)
      expect(calls).toBe(2)
    })

    it('rejects ready and answers KeySetUnavailableError with Retry-After when down from the start', async () => {
      server.route(JWKS, status(500))
      const set = keySet({ cooldownSeconds: 30 })
      const failed = await unavailable(set.ready)
      expect(failed.retryAfter).toBe(1)

      const error = await unavailable(set.getKey('rsa-a', 'RS256'))
      expect(error.retryAfter).toBe(1)
      expect(error.cause).toMatchObject({ reason: 'http_status' })
      // The creation-time failure let the first getKey fetch again; that failure backs off.
      expect(server.hits(JWKS)).toBe(2)
      await unavailable(set.getKey('rsa-a', 'RS256'))
      expect(server.hits(JWKS)).toBe(2)
    })

    it('fetches again at the first getKey after the fetch started at creation failed', async () => {
      // As in an app that serves its own JWKS: the set is created before the server listens.
      server.route(JWKS, status(503))
      const set = keySet({ cooldownSeconds: 30 })
      await unavailable(set.ready)
      server.route(JWKS, json(jwks(rsaA)))
      expect((await set.getKey('rsa-a', 'RS256'))?.equals(rsaA.publicKey)).toBe(true)
      expect(server.hits(JWKS)).toBe(2)
    })

    it('backs off after the first failure of a lazy set, whose first fetch a request started', async () => {
      server.route(JWKS, status(503))
      const set = keySet({ lazy: true, cooldownSeconds: 30 })
      await unavailable(set.getKey('rsa-a', 'RS256'))
      server.route(JWKS, json(jwks(rsaA)))
      await unavailable(set.getKey('rsa-a', 'RS256'))
      expect(server.hits(JWKS)).toBe(1)
      advance(1)
      expect((await set.getKey('rsa-a', 'RS256'))?.equals(rsaA.publicKey)).toBe(true)
    })

    it('rejects with what unavailableError makes of the error, once per failed access', async () => {
      server.route(JWKS, status(500))
      class Mapped extends Error {}
      const seen: KeySetUnavailableError[] = []
      const set = keySet({
        cooldownSeconds: 30,
        unavailableError: (error) => {
          seen.push(error)
          return new Mapped(`retry in ${error.retryAfter}`, { cause: error })
        },
      })
      await expect(set.ready).rejects.toBeInstanceOf(Mapped)
      await expect(set.getKey('rsa-a', 'RS256')).rejects.toThrow('retry in 1')
      expect(seen).toHaveLength(2)
      expect(seen[1]).toBeInstanceOf(KeySetUnavailableError)
      expect(seen[1]?.cause).toMatchObject({ reason: 'http_status' })
    })

    it('retries with a doubling backoff up to the cooldown, not per request', async () => {
      server.route(JWKS, status(500))
      const set = keySet({ cooldownSeconds: 30 })
      await unavailable(set.ready)
      // The creation-time failure sets no wait: this getKey fetches again, and fails.
      await unavailable(set.getKey('rsa-a', 'RS256'))

      const expected = [1, 2, 4, 8, 16, 30, 30]
      for (const [index, delay] of expected.entries()) {
        for (let i = 0; i < 20; i++) {
          const error = await unavailable(set.getKey('rsa-a', 'RS256'))
          expect(error.retryAfter).toBe(delay)
        }
        expect(server.hits(JWKS)).toBe(index + 2)
        advance(delay)
        await unavailable(set.getKey('rsa-a', 'RS256'))
      }
      expect(set.stats().consecutiveFailures).toBe(expected.length + 2)

      server.route(JWKS, json(jwks(rsaA)))
      advance(30)
      expect((await set.getKey('rsa-a', 'RS256'))?.equals(rsaA.publicKey)).toBe(true)
      expect(set.stats()).toMatchObject({ consecutiveFailures: 0, keyCount: 1 })
      expect(set.stats().lastError).toBeUndefined()
    })

    it('answers a flood of unknown kids during an outage from cache, without fetching', async () => {
      server.route(JWKS, json(jwks(rsaA), { 'cache-control': 'max-age=60' }))
      const set = keySet({ cooldownSeconds: 30 })
      await set.ready
      server.route(JWKS, status(502))
      advance(61)
      await set.getKey('rsa-a', 'RS256')
      expect(server.hits(JWKS)).toBe(2)
      await Promise.all(Array.from({ length: 200 }, () => set.getKey(randomUUID(), 'RS256')))
      expect(server.hits(JWKS)).toBe(2)
    })

    it('reports a refused connection as unavailable', async () => {
      const gone = await startKeyServer()
      const url = gone.url(JWKS)
      await gone.close()
      const set = createRemoteKeySet({ jwksUri: url })
      open.push(set)
      await unavailable(set.ready)
      expect(set.stats().lastError).toBe('network')
    })

    it('gives up on a slow key server after the timeout', async () => {
      server.route(JWKS, () => {
        // Never answers: only the client's timeout can end the request.
      })
      const set = keySet({ timeoutMs: 200 })
      const error = await unavailable(set.ready)
      expect(error.cause).toMatchObject({ reason: 'timeout' })
      expect(server.hits(JWKS)).toBe(1)
    })

    it('gives up on a key server that stalls in the middle of the body', async () => {
      server.route(JWKS, (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' })
        res.write('{"keys":[')
      })
      const set = keySet({ timeoutMs: 200 })
      await unavailable(set.ready)
      expect(set.stats().lastError).toBe('timeout')
    })
  })

  describe('response checks', () => {
    const padded = (bytes: number): string =>
      JSON.stringify({ ...jwks(rsaA), padding: 'x'.repeat(bytes) })

    it('refuses a response whose Content-Length exceeds maxResponseBytes', async () => {
      server.route(JWKS, (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' }).end(padded(300 * 1024))
      })
      const set = keySet()
      await unavailable(set.ready)
      expect(set.stats().lastError).toBe('too_large')
    })

    it('refuses a chunked response without length once it exceeds maxResponseBytes', async () => {
      const body = padded(20 * 1024)
      server.route(JWKS, (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' })
        for (let offset = 0; offset < body.length; offset += 1024) {
          res.write(body.slice(offset, offset + 1024))
        }
        res.end()
      })
      const set = keySet({ maxResponseBytes: 16 * 1024 })
      await unavailable(set.ready)
      expect(set.stats().lastError).toBe('too_large')

      const roomy = keySet({ maxResponseBytes: 32 * 1024 })
      await roomy.ready
      expect((await roomy.getKey('rsa-a', 'RS256'))?.equals(rsaA.publicKey)).toBe(true)
    })

    it.each<[string, Route, string]>([
      ['an HTML page with status 200', htmlPage(), 'invalid_json'],
      ['plain text', raw('text/plain', 'keys'), 'invalid_json'],
      ['invalid UTF-8', raw('application/json', Buffer.from([0x7b, 0xff, 0x7d])), 'invalid_json'],
      ['JSON null', raw('application/json', 'null'), 'invalid_shape'],
      ['a JSON array', raw('application/json', '[]'), 'invalid_shape'],
      ['an object without keys', json({}), 'invalid_shape'],
      ['keys that is not an array', json({ keys: {} }), 'invalid_shape'],
      ['an empty key list', json({ keys: [] }), 'no_usable_keys'],
      ['a 404', status(404), 'http_status'],
    ])('refuses %s', async (_name, route, reason) => {
      server.route(JWKS, route)
      const set = keySet()
      await unavailable(set.ready)
      expect(set.stats().lastError).toBe(reason)
    })
  })

  describe('key checks', () => {
    it('refuses a key published with private members and keeps the others', async () => {
      const leaked = testKey('leaked')
      const events: RemoteKeySetEvent[] = []
      const withKid = { ...leaked.privateKey.export({ format: 'jwk' }), kid: 'leaked' }
      server.route(JWKS, json({ keys: [withKid, rsaA.jwk] }))
      const set = keySet({ onEvent: (event) => events.push(event) })
      await set.ready
      expect(await set.getKey('leaked', 'RS256')).toBeUndefined()
      expect((await set.getKey('rsa-a', 'RS256'))?.equals(rsaA.publicKey)).toBe(true)
      expect(events).toContainEqual(
        expect.objectContaining({ type: 'jwks_key_skipped', kid: 'leaked', reason: 'private_key' }),
      )
    })

    it('refuses a set whose only key is private', async () => {
      const leaked = testKey('leaked', 'EC')
      server.route(
        JWKS,
        json({ keys: [{ ...leaked.privateKey.export({ format: 'jwk' }), kid: 'x' }] }),
      )
      const set = keySet()
      await unavailable(set.ready)
      expect(set.stats().lastError).toBe('no_usable_keys')
    })

    it.each<[string, () => unknown, string]>([
      ['a number in place of a key', () => 42, 'invalid'],
      ['null in place of a key', () => null, 'invalid'],
      ['an array in place of a key', () => [testKey('k').jwk], 'invalid'],
      ['an RSA key without its exponent', () => ({ ...testKey('k').jwk, e: undefined }), 'invalid'],
      ['an EC key with an empty y', () => ({ ...testKey('k', 'EC').jwk, y: '' }), 'invalid'],
      ['an encryption key', () => ({ ...testKey('k').jwk, use: 'enc' }), 'not_for_signatures'],
      [
        'key_ops without verify',
        () => ({ ...testKey('k').jwk, key_ops: ['encrypt'] }),
        'not_for_signatures',
      ],
      ['an RSA key under 2048 bits', () => testKey('k', 'RSA', {}, 1024).jwk, 'weak_key'],
      ['a symmetric key', () => ({ kty: 'oct', k: 'c2VjcmV0', kid: 'k' }), 'private_key'],
      [
        'an unsupported curve',
        () => ({ ...testKey('k', 'EC').jwk, crv: 'secp256k1' }),
        'unsupported_type',
      ],
      [
        'an OKP key',
        () => ({ kty: 'OKP', crv: 'Ed25519', x: 'AAAA', kid: 'k' }),
        'unsupported_type',
      ],
      [
        'an alg that does not fit the key',
        () => ({ ...testKey('k').jwk, alg: 'ES256' }),
        'unsupported_alg',
      ],
      [
        'a point that is not on the curve',
        () => ({ kty: 'EC', crv: 'P-256', x: 'AAAA', y: 'AAAA', kid: 'k' }),
        'invalid',
      ],
      ['a numeric kid', () => ({ ...testKey('k').jwk, kid: 7 }), 'invalid'],
    ])('skips %s', async (_name, make, reason) => {
      const events: RemoteKeySetEvent[] = []
      server.route(JWKS, json({ keys: [make(), rsaA.jwk] }))
      const set = keySet({ onEvent: (event) => events.push(event) })
      await set.ready
      expect(set.stats().keyCount).toBe(1)
      expect(await set.getKey('k', 'RS256')).toBeUndefined()
      expect(events).toContainEqual(expect.objectContaining({ type: 'jwks_key_skipped', reason }))
    })

    it('uses a key published without kid only for tokens without kid', async () => {
      const anonymous = testKey('unused')
      const { kid: _kid, ...withoutKid } = anonymous.jwk as Record<string, unknown>
      void _kid
      server.route(JWKS, json({ keys: [withoutKid, rsaB.jwk] }))
      const set = keySet()
      await set.ready
      expect(set.stats().keyCount).toBe(2)
      expect(await set.getKey(undefined, 'RS256')).toBeUndefined() // two RSA candidates
      expect((await set.getKey('rsa-b', 'RS256'))?.equals(rsaB.publicKey)).toBe(true)
      expect(await set.getKey('unused', 'RS256')).toBeUndefined()
    })

    it('picks the one key without kid that suits the alg of a token without kid', async () => {
      const anonymous = testKey('unused')
      const { kid: _kid, ...withoutKid } = anonymous.jwk as Record<string, unknown>
      void _kid
      server.route(JWKS, json({ keys: [withoutKid, ecA.jwk] }))
      const set = keySet()
      expect((await set.getKey(undefined, 'RS256'))?.equals(anonymous.publicKey)).toBe(true)
      expect((await set.getKey(undefined, 'ES256'))?.equals(ecA.publicKey)).toBe(true)
    })

    it('keeps the first of two keys with the same kid and type', async () => {
      const twin = testKey('rsa-a')
      server.route(JWKS, json(jwks(rsaA, twin)))
      const set = keySet()
      expect((await set.getKey('rsa-a', 'RS256'))?.equals(rsaA.publicKey)).toBe(true)
      expect(set.stats().keyCount).toBe(1)
    })

    it('keeps keys of different types that share a kid (RFC 7517 §4.5)', async () => {
      const ecTwin = testKey('rsa-a', 'EC')
      server.route(JWKS, json(jwks(rsaA, ecTwin)))
      const set = keySet()
      expect((await set.getKey('rsa-a', 'RS256'))?.equals(rsaA.publicKey)).toBe(true)
      expect((await set.getKey('rsa-a', 'ES256'))?.equals(ecTwin.publicKey)).toBe(true)
    })
  })

  describe('redirects', () => {
    let other: TestKeyServer | undefined

    afterEach(async () => {
      await other?.close()
      other = undefined
    })

    it('follows a redirect on the same origin', async () => {
      server.route(JWKS, status(301, { location: '/v2/jwks.json' }))
      server.route('/v2/jwks.json', json(jwks(rsaA)))
      const set = keySet()
      expect((await set.getKey('rsa-a', 'RS256'))?.equals(rsaA.publicKey)).toBe(true)
    })

    it('refuses a redirect to another origin', async () => {
      other = await startKeyServer()
      other.route(JWKS, json(jwks(rsaA)))
      server.route(JWKS, status(302, { location: other.url(JWKS) }))
      const set = keySet()
      await unavailable(set.ready)
      expect(set.stats().lastError).toBe('redirect')
      expect(other.hits()).toBe(0)
    })

    it('refuses a redirect chain longer than three hops', async () => {
      server.route(JWKS, status(302, { location: '/1' }))
      server.route('/1', status(302, { location: '/2' }))
      server.route('/2', status(302, { location: '/3' }))
      server.route('/3', status(302, { location: '/4' }))
      server.route('/4', json(jwks(rsaA)))
      const set = keySet()
      await unavailable(set.ready)
      expect(set.stats().lastError).toBe('redirect')
      expect(server.hits('/4')).toBe(0)
    })
  })

  describe('discovery', () => {
    const discover = (issuer: string): RemoteKeySet => {
      const set = createRemoteKeySet({ issuer, discover: true })
      open.push(set)
      return set
    }
    // A set discovering `issuer`, and the events it reports once its first fetch has settled.
    const eventsOfFirstFetch = async (issuer: string): Promise<RemoteKeySetEvent[]> => {
      const events: RemoteKeySetEvent[] = []
      const set = createRemoteKeySet({ issuer, discover: true, onEvent: (e) => events.push(e) })
      open.push(set)
      await unavailable(set.ready)
      return events
    }

    it('reads jwks_uri from the RFC 8414 metadata of the issuer', async () => {
      server.route(
        '/.well-known/oauth-authorization-server',
        json({ issuer: server.origin, jwks_uri: server.url('/keys') }),
      )
      server.route('/keys', json(jwks(rsaA)))
      const set = discover(server.origin)
      expect((await set.getKey('rsa-a', 'RS256'))?.equals(rsaA.publicKey)).toBe(true)
      expect(server.hits('/.well-known/openid-configuration')).toBe(0)
    })

    it('inserts the well-known segment before the path of an issuer with a path', async () => {
      const issuer = server.url('/tenant/a')
      server.route(
        '/.well-known/oauth-authorization-server/tenant/a',
        json({ issuer, jwks_uri: server.url('/tenant/a/keys') }),
      )
      server.route('/tenant/a/keys', json(jwks(rsaA)))
      const set = discover(issuer)
      expect((await set.getKey('rsa-a', 'RS256'))?.equals(rsaA.publicKey)).toBe(true)
    })

    it('reads the metadata appended to a path issuer, where a router mounted at that path serves it', async () => {
      const issuer = server.url('/oauth')
      server.route(
        '/oauth/.well-known/oauth-authorization-server',
        json({ issuer, jwks_uri: server.url('/oauth/jwks.json') }),
      )
      server.route('/oauth/jwks.json', json(jwks(rsaA)))
      const set = discover(issuer)
      expect((await set.getKey('rsa-a', 'RS256'))?.equals(rsaA.publicKey)).toBe(true)
      expect(server.hits('/.well-known/oauth-authorization-server/oauth')).toBe(1)
      expect(server.hits('/oauth/.well-known/openid-configuration')).toBe(0)
    })

    it('falls back to the OpenID configuration appended to the issuer when RFC 8414 metadata is absent', async () => {
      const issuer = server.url('/realms/demo')
      server.route(
        '/realms/demo/.well-known/openid-configuration',
        json({ issuer, jwks_uri: server.url('/realms/demo/certs') }),
      )
      server.route('/realms/demo/certs', json(jwks(rsaA)))
      const set = discover(issuer)
      expect((await set.getKey('rsa-a', 'RS256'))?.equals(rsaA.publicKey)).toBe(true)
      expect(server.hits('/.well-known/oauth-authorization-server/realms/demo')).toBe(1)
    })

    it('does not fall back when the RFC 8414 metadata endpoint fails with 5xx', async () => {
      server.route('/.well-known/oauth-authorization-server', status(500))
      server.route(
        '/.well-known/openid-configuration',
        json({ issuer: server.origin, jwks_uri: server.url('/keys') }),
      )
      const set = discover(server.origin)
      await unavailable(set.ready)
      expect(server.hits('/.well-known/openid-configuration')).toBe(0)
    })

    it('refuses metadata that names a different issuer', async () => {
      server.route(
        '/.well-known/oauth-authorization-server',
        json({ issuer: `${server.origin}/`, jwks_uri: server.url('/keys') }),
      )
      server.route('/keys', json(jwks(rsaA)))
      const set = discover(server.origin)
      await unavailable(set.ready)
      expect(set.stats().lastError).toBe('issuer_mismatch')
      expect(server.hits('/keys')).toBe(0)
    })

    it('reports a metadata issuer mismatch as discovery_failed with both issuer values and the URL', async () => {
      const metadata = '/.well-known/oauth-authorization-server'
      server.route(metadata, json({ issuer: `${server.origin}/`, jwks_uri: server.url('/keys') }))
      const events = await eventsOfFirstFetch(server.origin)
      expect(events).toEqual([
        {
          type: 'discovery_failed',
          issuer: server.origin,
          uri: server.url(metadata),
          reason: 'issuer_mismatch',
          metadataIssuer: `${server.origin}/`,
          retryAt: Date.now(),
        },
      ])
    })

    it('reports metadata without a string issuer as a mismatch without metadataIssuer', async () => {
      server.route('/.well-known/oauth-authorization-server', json({ jwks_uri: server.url('/k') }))
      const events = await eventsOfFirstFetch(server.origin)
      expect(events[0]).toMatchObject({ type: 'discovery_failed', reason: 'issuer_mismatch' })
      expect(events[0]).not.toHaveProperty('metadataIssuer')
    })

    it('reports the last metadata URL tried, with its status, when none is published', async () => {
      const events = await eventsOfFirstFetch(server.origin)
      expect(events).toEqual([
        expect.objectContaining({
          type: 'discovery_failed',
          issuer: server.origin,
          uri: server.url('/.well-known/openid-configuration'),
          reason: 'http_status',
          status: 404,
        }),
      ])
    })

    it('reports an unreachable issuer as discovery_failed at its first metadata URL', async () => {
      const gone = await startKeyServer()
      await gone.close()
      const events = await eventsOfFirstFetch(gone.origin)
      expect(events).toEqual([
        {
          type: 'discovery_failed',
          issuer: gone.origin,
          uri: gone.url('/.well-known/oauth-authorization-server'),
          reason: 'network',
          retryAt: Date.now(),
        },
      ])
    })

    it('reports a failed JWKS request after discovery as jwks_fetch_failed with its URL', async () => {
      server.route(
        '/.well-known/oauth-authorization-server',
        json({ issuer: server.origin, jwks_uri: server.url('/keys') }),
      )
      server.route('/keys', status(502))
      const events = await eventsOfFirstFetch(server.origin)
      expect(events).toEqual([
        {
          type: 'jwks_fetch_failed',
          uri: server.url('/keys'),
          reason: 'http_status',
          status: 502,
          retryAt: Date.now(),
        },
      ])
    })

    it.each([
      ['no jwks_uri', {}],
      ['an http jwks_uri on another host', { jwks_uri: 'http://keys.example.com/jwks' }],
      ['a jwks_uri that is not a string', { jwks_uri: 42 }],
    ])('refuses metadata with %s', async (_name, extra) => {
      server.route(
        '/.well-known/oauth-authorization-server',
        json({ issuer: server.origin, ...extra }),
      )
      const set = discover(server.origin)
      await unavailable(set.ready)
      expect(set.stats().lastError).toBe('invalid_shape')
    })

    it.each([
      ['a JSON array', '[]'],
      ['JSON null', 'null'],
      ['a JSON string', '"metadata"'],
    ])('refuses metadata that is %s', async (_name, body) => {
      server.route('/.well-known/oauth-authorization-server', raw('application/json', body))
      const set = discover(server.origin)
      await unavailable(set.ready)
      expect(set.stats().lastError).toBe('invalid_shape')
    })

    it('retries discovery after a failure and then reuses the discovered jwks_uri', async () => {
      server.route('/.well-known/oauth-authorization-server', status(503))
      const set = discover(server.origin)
      await unavailable(set.ready)

      server.route(
        '/.well-known/oauth-authorization-server',
        json({ issuer: server.origin, jwks_uri: server.url('/keys') }),
      )
      server.route('/keys', json(jwks(rsaA), { 'cache-control': 'max-age=60' }))
      advance(1)
      expect((await set.getKey('rsa-a', 'RS256'))?.equals(rsaA.publicKey)).toBe(true)
      advance(61)
      expect((await set.getKey('rsa-a', 'RS256'))?.equals(rsaA.publicKey)).toBe(true)
      expect(server.hits('/.well-known/oauth-authorization-server')).toBe(2)
      expect(server.hits('/keys')).toBe(2)
    })
  })

  describe('close', () => {
    it('stops fetching and still serves the cached keys', async () => {
      server.route(JWKS, json(jwks(rsaA), { 'cache-control': 'max-age=60' }))
      const set = keySet()
      await set.ready
      set.close()
      advance(61)
      expect((await set.getKey('rsa-a', 'RS256'))?.equals(rsaA.publicKey)).toBe(true)
      expect(await set.getKey('rsa-new', 'RS256')).toBeUndefined()
      expect(server.hits(JWKS)).toBe(1)
    })

    it('throws KeySetUnavailableError without a cause, retry after one cooldown, once the cached keys are past staleFor', async () => {
      server.route(JWKS, json(jwks(rsaA), { 'cache-control': 'max-age=60' }))
      const set = keySet({ staleFor: 120, cooldown: 30 })
      await set.ready
      set.close()
      advance(60 + 120)
      const error = await unavailable(set.getKey('rsa-a', 'RS256'))
      expect(error.retryAfter).toBe(30)
      expect(error).not.toHaveProperty('cause')
      expect(server.hits(JWKS)).toBe(1)
    })

    it('aborts the first fetch when closed while it runs', async () => {
      server.route(JWKS, () => {
        // Hangs until the client gives up.
      })
      const set = keySet({ timeoutMs: 10_000 })
      set.close()
      const error = await unavailable(set.ready)
      expect(error.cause).toMatchObject({ reason: 'aborted' })
    })
  })

  describe('algorithms', () => {
    it('serves an Ed25519 key for EdDSA when the algorithms hold EdDSA', async () => {
      const ed = generateKeyPairSync('ed25519')
      const edJwk = { ...ed.publicKey.export({ format: 'jwk' }), kid: 'ed' }
      server.route(JWKS, json({ keys: [edJwk, rsaA.jwk] }))
      const set = keySet({ algorithms: ['EdDSA', 'RS256'] })
      expect((await set.getKey('ed', 'EdDSA'))?.equals(ed.publicKey)).toBe(true)
      expect((await set.getKey(undefined, 'EdDSA'))?.equals(ed.publicKey)).toBe(true)
      expect(set.peekKey('ed', 'EdDSA')?.equals(ed.publicKey)).toBe(true)
      expect((await set.getKey('rsa-a', 'RS256'))?.equals(rsaA.publicKey)).toBe(true)
      expect(await set.getKey('rsa-a', 'PS256')).toBeUndefined()
      expect(set.peekKey('rsa-a', 'PS256')).toBeUndefined()
      expect(server.hits(JWKS)).toBe(1)
    })

    it('skips an Ed25519 key by default and reports it', async () => {
      const ed = generateKeyPairSync('ed25519')
      server.route(JWKS, json({ keys: [{ ...ed.publicKey.export({ format: 'jwk' }), kid: 'ed' }] }))
      const events: RemoteKeySetEvent[] = []
      const set = keySet({ onEvent: (event) => events.push(event) })
      await unavailable(set.ready)
      expect(events[0]).toMatchObject({
        type: 'jwks_key_skipped',
        kid: 'ed',
        reason: 'unsupported_type',
      })
      // EdDSA is not among the set's algorithms: answered without a fetch.
      expect(await set.getKey('ed', 'EdDSA')).toBeUndefined()
      expect(server.hits(JWKS)).toBe(1)
    })
  })

  describe('fetch', () => {
    it('sends every JWKS request through the injected fetch', async () => {
      server.route(JWKS, json(jwks(rsaA), { 'cache-control': 'max-age=60' }))
      const calls: [string, RequestInit][] = []
      const fetch = (input: URL, init: RequestInit): Promise<Response> => {
        calls.push([input.href, init])
        return globalThis.fetch(input, init)
      }
      const set = keySet({ fetch })
      await set.ready
      advance(61)
      await set.getKey('rsa-a', 'RS256')
      expect(calls.map(([url]) => url)).toEqual([server.url(JWKS), server.url(JWKS)])
      expect(calls[0]?.[1]).toMatchObject({ method: 'GET', redirect: 'manual' })
      expect(calls[0]?.[1].signal).toBeInstanceOf(AbortSignal)
    })

    it('reports a rejection of the injected fetch as a network failure, with its cause', async () => {
      const refused = new Error('address refused')
      const set = keySet({ fetch: () => Promise.reject(refused) })
      const error = await unavailable(set.ready)
      expect(error.cause).toMatchObject({ reason: 'network', cause: refused })
      expect(server.hits()).toBe(0)
    })

    it('sends discovery and JWKS requests through the injected fetch', async () => {
      const issuer = server.origin
      server.route(
        '/.well-known/oauth-authorization-server',
        json({ issuer, jwks_uri: server.url(JWKS) }),
      )
      server.route(JWKS, json(jwks(rsaA)))
      const urls: string[] = []
      const set = createRemoteKeySet({
        issuer,
        discover: true,
        fetch: (input, init) => {
          urls.push(input.href)
          return globalThis.fetch(input, init)
        },
      })
      open.push(set)
      await set.ready
      expect(urls).toEqual([
        server.url('/.well-known/oauth-authorization-server'),
        server.url(JWKS),
      ])
    })
  })

  describe('minCacheMaxAgeSeconds', () => {
    it('raises a max-age of 5 seconds to the configured 60', async () => {
      server.route(JWKS, json(jwks(rsaA), { 'cache-control': 'max-age=5' }))
      const set = keySet({ minCacheMaxAgeSeconds: 60 })
      await set.ready
      expect(set.stats().expiresAt).toBe(Date.now() + 60_000)
      advance(59)
      await set.getKey('rsa-a', 'RS256')
      expect(server.hits(JWKS)).toBe(1)
      advance(2)
      await set.getKey('rsa-a', 'RS256')
      expect(server.hits(JWKS)).toBe(2)
    })
  })

  describe('lazy', () => {
    it('fetches nothing at creation, then once at the first getKey, and settles ready', async () => {
      server.route(JWKS, json(jwks(rsaA)))
      const set = keySet({ lazy: true })
      await new Promise((resolve) => setTimeout(resolve, 20))
      expect(server.hits(JWKS)).toBe(0)
      expect(set.stats().fetches).toBe(0)
      const [key] = await Promise.all([set.getKey('rsa-a', 'RS256'), set.ready])
      expect(key?.equals(rsaA.publicKey)).toBe(true)
      expect(server.hits(JWKS)).toBe(1)
    })

    it('rejects ready when closed before its first fetch, and never fetches', async () => {
      server.route(JWKS, json(jwks(rsaA)))
      const set = keySet({ lazy: true, cooldownSeconds: 30 })
      set.close()
      const error = await unavailable(set.ready)
      expect(error.retryAfter).toBe(30)
      await unavailable(set.getKey('rsa-a', 'RS256'))
      expect(server.hits(JWKS)).toBe(0)
    })

    it('rejects ready when its first fetch fails', async () => {
      server.route(JWKS, status(500))
      const set = keySet({ lazy: true })
      await unavailable(set.getKey('rsa-a', 'RS256'))
      const error = await unavailable(set.ready)
      expect(error.cause).toMatchObject({ reason: 'http_status', status: 500 })
    })
  })

  it('keeps working when the onEvent hook throws', async () => {
    server.route(JWKS, json(jwks(rsaA)))
    const set = keySet({
      onEvent: () => {
        throw new Error('hook failure')
      },
    })
    expect((await set.getKey('rsa-a', 'RS256'))?.equals(rsaA.publicKey)).toBe(true)
  })
})

function raw(contentType: string, body: string | Buffer): Route {
  return (_req, res) => void res.writeHead(200, { 'content-type': contentType }).end(body)
}

function htmlPage(): Route {
  return raw('text/html', '<!doctype html><html><body>Sign in</body></html>')
}
