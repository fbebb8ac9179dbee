import { generateKeyPairSync } from 'node:crypto'
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import type { RemoteKeySetEvent } from '@ccflow/core'
import {
  CLIENT_JWKS_DEFAULTS,
  checkClientJwksUri,
  type ClientJwksOptions,
  type ClientKeySets,
  createClientKeySets,
} from '../../../src/clients/assertion/client-jwks.js'
import { AddressRefusedError } from '../../../src/clients/assertion/address-policy.js'
import { isTokenError, TemporarilyUnavailableError } from '../../../src/errors.js'
import { type ClientKey, clientKey, json, startServer, type TestServer } from './servers.js'

type ClientJwksEvent = RemoteKeySetEvent & { jwksUri: string }

let ec: ClientKey
let rsa: ClientKey
let ed: ClientKey

beforeAll(() => {
  ec = clientKey('ec-1')
  rsa = clientKey('rsa-1', 'RSA')
  ed = clientKey('ed-1', 'Ed25519')
})

let server: TestServer
const open: ClientKeySets[] = []
const LOCAL: ClientJwksOptions = { allowHttpLoopback: true, allowedAddresses: ['127.0.0.0/8'] }
const JWKS = '/jwks.json'

beforeEach(async () => {
  // Only Date is faked: max-age, cooldown and staleFor read Date.now(), while sockets and
  // AbortSignal.timeout keep their real timers.
  vi.useFakeTimers({ toFake: ['Date'] })
  vi.setSystemTime(new Date('2030-01-01T00:00:00Z'))
  server = await startServer()
})

afterEach(async () => {
  for (const sets of open.splice(0)) sets.close()
  vi.useRealTimers()
  await server.close()
})

function keySets(
  options: ClientJwksOptions | undefined = LOCAL,
  onEvent?: (event: ClientJwksEvent) => void,
): ClientKeySets {
  const sets = createClientKeySets(options, onEvent)
  open.push(sets)
  return sets
}

function advance(seconds: number): void {
  vi.setSystemTime(Date.now() + seconds * 1000)
}

/** The rejection of `promise`, which must be a 503 TemporarilyUnavailableError for client_jwks. */
async function unavailable(promise: Promise<unknown>): Promise<TemporarilyUnavailableError> {
  const error: unknown = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  )
  expect(isTokenError(error)).toBe(true)
  expect(error).toMatchObject({
    code: 'temporarily_unavailable',
    status: 503,
    dependency: 'client_jwks',
    reason: 'client_jwks_unavailable',
  })
  return error as TemporarilyUnavailableError
}

/** The failure under a 503: core's KeySetUnavailableError → KeySourceFetchError. */
function failure(error: TemporarilyUnavailableError): { reason: string; cause?: unknown } {
  expect(error.cause).toMatchObject({ code: 'key_source_unavailable' })
  return (error.cause as { cause: { reason: string; cause?: unknown } }).cause
}

describe('checkClientJwksUri', () => {
  it.each([
    ['https://client.example.com/jwks.json', false],
    ['https://client.example.com:8443/keys?tenant=a', false],
    ['https://10.0.0.1/jwks.json', false], // the address policy refuses it at connect time
    ['http://localhost:3000/jwks.json', true],
    ['http://127.0.0.1/jwks.json', true],
    ['http://[::1]:3000/jwks.json', true],
  ])('accepts %s (allowHttpLoopback: %s)', (uri, allowHttpLoopback) => {
    expect(checkClientJwksUri(uri, allowHttpLoopback).href).toBe(new URL(uri).href)
  })

  it.each([
    [
      'http on a loopback host without allowHttpLoopback',
      'http://localhost/jwks',
      false,
      'jwks_uri must use https',
    ],
    [
      'http on a public host',
      'http://client.example.com/jwks',
      true,
      'jwks_uri must use https (plain http is allowed only for localhost, 127.0.0.1 and [::1])',
    ],
    [
      'http on an IPv4-mapped loopback literal',
      'http://[::ffff:127.0.0.1]/jwks',
      true,
      'jwks_uri must use https (plain http is allowed only for localhost, 127.0.0.1 and [::1])',
    ],
    [
      'http on a name that only starts like localhost',
      'http://localhost.example.com/jwks',
      true,
      'jwks_uri must use https (plain http is allowed only for localhost, 127.0.0.1 and [::1])',
    ],
    ['another scheme', 'file:///etc/passwd', true, 'jwks_uri must use https'],
    ['a relative URL', '/jwks.json', true, 'jwks_uri must be an absolute URL'],
    [
      'credentials',
      'https://user:secret@client.example.com/jwks',
      false,
      'jwks_uri must not contain credentials',
    ],
    [
      'a fragment',
      'https://client.example.com/jwks#keys',
      false,
      'jwks_uri must not contain a fragment',
    ],
    ['an empty string', '', false, 'jwks_uri must be a non-empty URL string'],
    ['a number', 42, false, 'jwks_uri must be a non-empty URL string'],
  ])('throws a TypeError for %s', (_name, value, allowHttpLoopback, message) => {
    expect(() => checkClientJwksUri(value, allowHttpLoopback)).toThrow(new TypeError(message))
  })
})

describe('CLIENT_JWKS_DEFAULTS', () => {
  it("holds the issue's numbers, frozen", () => {
    expect(CLIENT_JWKS_DEFAULTS).toEqual({
      allowHttpLoopback: false,
      timeoutMs: 5000,
      maxResponseBytes: 65_536,
      cooldownSeconds: 30,
      staleForSeconds: 3600,
      maxKeySets: 1000,
    })
    expect(Object.isFrozen(CLIENT_JWKS_DEFAULTS)).toBe(true)
  })
})

describe('createClientKeySets', () => {
  describe('options', () => {
    it.each([
      [
        { allowedAdresses: [] },
        'unknown option "allowedAdresses" (did you mean "allowedAddresses"?)',
      ],
      [{ timeout: 5 }, 'unknown option "timeout" (did you mean "timeoutMs"?)'],
      [{ timeoutMs: 0 }, 'option "timeoutMs" must be an integer from 1 to 60000'],
      [
        { maxResponseBytes: 100 },
        'option "maxResponseBytes" must be an integer from 1024 to 16777216',
      ],
      [{ cooldownSeconds: 0 }, 'option "cooldownSeconds" must be a number from 1 to 86400'],
      [{ staleForSeconds: -1 }, 'option "staleForSeconds" must be a number from 0 to 604800'],
      [{ maxKeySets: 0 }, 'option "maxKeySets" must be an integer from 1 to 100000'],
      [{ allowHttpLoopback: 'yes' }, 'option "allowHttpLoopback" must be a boolean'],
      [
        { allowedAddresses: '127.0.0.0/8' },
        'option "allowedAddresses" must be an array of CIDR ranges such as "10.0.0.0/8" or "fd00::/8"',
      ],
      [
        { allowedAddresses: ['127.0.0.1/8'] },
        'option "allowedAddresses[0]" has host bits set; did you mean "127.0.0.0/8"?',
      ],
    ])('throws a TypeError naming the option for %j', (options, problem) => {
      expect(() => createClientKeySets(options as ClientJwksOptions)).toThrow(
        new TypeError(`createClientKeySets: ${problem}`),
      )
    })

    it('refuses options that are not an object and an onEvent that is not a function', () => {
      expect(() => createClientKeySets([] as ClientJwksOptions)).toThrow(
        new TypeError('createClientKeySets: options must be an object'),
      )
      expect(() => createClientKeySets({}, 'log' as never)).toThrow(
        new TypeError('createClientKeySets: option "onEvent" must be a function'),
      )
    })

    it("names the wrapping factory and the options' path in its messages", () => {
      const context = { where: 'tokenEndpoint', prefix: 'clientJwks.' }
      expect(() =>
        createClientKeySets({ timeoutMilliseconds: 1 } as never, undefined, context),
      ).toThrow(
        new TypeError(
          'tokenEndpoint: unknown option "clientJwks.timeoutMilliseconds" (did you mean "clientJwks.timeoutMs"?)',
        ),
      )
      expect(() => createClientKeySets({ allowedAddresses: ['x'] }, undefined, context)).toThrow(
        new TypeError(
          'tokenEndpoint: option "clientJwks.allowedAddresses[0]" must be a CIDR range such as "10.0.0.0/8"',
        ),
      )
      expect(() => createClientKeySets(null as never, undefined, context)).toThrow(
        new TypeError('tokenEndpoint: option "clientJwks" must be an object'),
      )
    })

    it('accepts undefined options as the defaults', async () => {
      const sets = createClientKeySets(undefined)
      open.push(sets)
      // Default: https only, so a plain http URI is refused before any request, as a 503.
      await expect(sets.getKey(server.url(JWKS), 'ec-1', 'ES256')).rejects.toMatchObject({
        code: 'temporarily_unavailable',
        dependency: 'client_jwks',
        cause: new TypeError('jwks_uri must use https'),
      })
    })
  })

  describe('address policy', () => {
    it('answers 503 naming the refused loopback address by default, without connecting', async () => {
      server.route(JWKS, json({ keys: [ec.jwk] }))
      const events: ClientJwksEvent[] = []
      const sets = keySets({ allowHttpLoopback: true }, (event) => events.push(event))
      const error = await unavailable(sets.getKey(server.url(JWKS), 'ec-1', 'ES256'))
      const { reason, cause } = failure(error)
      expect(reason).toBe('network')
      expect(cause).toBeInstanceOf(AddressRefusedError)
      expect(cause).toMatchObject({ address: '127.0.0.1', range: 'loopback' })
      expect((error.cause as { retryAfter: number }).retryAfter).toBeGreaterThanOrEqual(1)
      expect(events).toEqual([
        expect.objectContaining({
          type: 'jwks_fetch_failed',
          reason: 'network',
          jwksUri: server.url(JWKS),
        }),
      ])
      expect(server.hits()).toBe(0)
    })

    it('fetches from a loopback address inside allowedAddresses', async () => {
      server.route(JWKS, json({ keys: [ec.jwk] }))
      const key = await keySets().getKey(server.url(JWKS), 'ec-1', 'ES256')
      expect(key?.equals(ec.publicKey)).toBe(true)
      expect(server.hits(JWKS)).toBe(1)
    })

    it('refuses localhost, which resolves to a loopback address', async () => {
      const error = await unavailable(
        keySets({ allowHttpLoopback: true }).getKey(server.url(JWKS, 'localhost'), 'ec-1', 'ES256'),
      )
      expect(failure(error).cause).toMatchObject({ host: 'localhost', range: 'loopback' })
      expect(server.hits()).toBe(0)
    })

    it('refuses the IPv4-mapped IPv6 literal [::ffff:127.0.0.1] over https', async () => {
      const uri = `https://[::ffff:127.0.0.1]:${server.port}${JWKS}`
      const error = await unavailable(keySets({}).getKey(uri, 'ec-1', 'ES256'))
      expect(failure(error).cause).toMatchObject({ address: '::ffff:7f00:1', range: 'loopback' })
      expect(server.hits()).toBe(0)
    })

    it('refuses a plain http jwks_uri without allowHttpLoopback as a 503, before any request', async () => {
      const sets = keySets({ allowedAddresses: ['127.0.0.0/8'] })
      await expect(sets.getKey(server.url(JWKS), 'ec-1', 'ES256')).rejects.toMatchObject({
        dependency: 'client_jwks',
        cause: new TypeError('jwks_uri must use https'),
      })
      expect(server.hits()).toBe(0)
    })
  })

  describe('response limits', () => {
    const big = JSON.stringify({ keys: [], padding: 'x'.repeat(70 * 1024) })

    it('refuses a body over 64 KiB declared by Content-Length', async () => {
      server.route(JWKS, (_req, res) => {
        res.writeHead(200, {
          'content-type': 'application/json',
          'content-length': String(big.length),
        })
        res.end(big)
      })
      const error = await unavailable(keySets().getKey(server.url(JWKS), 'ec-1', 'ES256'))
      expect(failure(error)).toMatchObject({ reason: 'too_large' })
    })

    it('refuses a chunked body once it passes 64 KiB', async () => {
      server.route(JWKS, (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' })
        for (let i = 0; i < big.length; i += 4096) res.write(big.slice(i, i + 4096))
        res.end()
      })
      const error = await unavailable(keySets().getKey(server.url(JWKS), 'ec-1', 'ES256'))
      expect(failure(error)).toMatchObject({ reason: 'too_large' })
    })

    it('accepts a body just under 64 KiB', async () => {
      const padded = { keys: [ec.jwk], padding: 'x'.repeat(60 * 1024) }
      server.route(JWKS, json(padded))
      const key = await keySets().getKey(server.url(JWKS), 'ec-1', 'ES256')
      expect(key?.equals(ec.publicKey)).toBe(true)
    })

    it('gives up on a slow server after timeoutMs', async () => {
      server.route(JWKS, () => {
        // Never answers.
      })
      const started = performance.now()
      const error = await unavailable(
        keySets({ ...LOCAL, timeoutMs: 200 }).getKey(server.url(JWKS), 'ec-1', 'ES256'),
      )
      const elapsed = performance.now() - started
      expect(failure(error)).toMatchObject({ reason: 'timeout' })
      expect(elapsed).toBeGreaterThanOrEqual(190)
      expect(elapsed).toBeLessThan(2000)
    })
  })

  describe('caching', () => {
    it('raises Cache-Control max-age=5 to 60 seconds', async () => {
      server.route(JWKS, json({ keys: [ec.jwk] }, { 'cache-control': 'max-age=5' }))
      const events: ClientJwksEvent[] = []
      const sets = keySets(LOCAL, (event) => events.push(event))
      await sets.getKey(server.url(JWKS), 'ec-1', 'ES256')
      expect(events[0]).toMatchObject({ type: 'jwks_fetched', maxAge: 60, keys: 1 })
      advance(59)
      await sets.getKey(server.url(JWKS), 'ec-1', 'ES256')
      expect(server.hits(JWKS)).toBe(1)
      advance(2)
      await sets.getKey(server.url(JWKS), 'ec-1', 'ES256')
      expect(server.hits(JWKS)).toBe(2)
    })

    it('caps Cache-Control max-age=1000000 at 86400 seconds', async () => {
      server.route(JWKS, json({ keys: [ec.jwk] }, { 'cache-control': 'max-age=1000000' }))
      const events: ClientJwksEvent[] = []
      const sets = keySets(LOCAL, (event) => events.push(event))
      await sets.getKey(server.url(JWKS), 'ec-1', 'ES256')
      expect(events[0]).toMatchObject({ type: 'jwks_fetched', maxAge: 86_400 })
      advance(86_399)
      await sets.getKey(server.url(JWKS), 'ec-1', 'ES256')
      expect(server.hits(JWKS)).toBe(1)
      advance(2)
      await sets.getKey(server.url(JWKS), 'ec-1', 'ES256')
      expect(server.hits(JWKS)).toBe(2)
    })

    it('keeps one key set per jwks_uri, shared by spellings of the same URL', async () => {
      server.route(JWKS, json({ keys: [ec.jwk] }))
      server.route('/other.json', json({ keys: [rsa.jwk] }))
      const sets = keySets()
      await sets.getKey(server.url(JWKS), 'ec-1', 'ES256')
      await sets.getKey(server.url(JWKS).replace('http:', 'HTTP:'), 'ec-1', 'ES256')
      expect(
        (await sets.getKey(server.url('/other.json'), 'rsa-1', 'PS256'))?.equals(rsa.publicKey),
      ).toBe(true)
      expect(await sets.getKey(server.url('/other.json'), 'ec-1', 'ES256')).toBeUndefined()
      expect(server.hits(JWKS)).toBe(1)
      expect(server.hits('/other.json')).toBe(1)
    })
  })

  describe('unknown kid', () => {
    it('refetches exactly once, then waits for the cooldown', async () => {
      server.route(JWKS, json({ keys: [ec.jwk] }, { 'cache-control': 'max-age=3600' }))
      const sets = keySets({ ...LOCAL, cooldownSeconds: 30 })
      const uri = server.url(JWKS)
      expect(await sets.getKey(uri, 'ec-1', 'ES256')).toBeDefined()
      expect(server.hits(JWKS)).toBe(1)

      advance(31)
      const flood = await Promise.all(
        Array.from({ length: 50 }, (_, i) => sets.getKey(uri, `unknown-${i}`, 'ES256')),
      )
      expect(flood.every((key) => key === undefined)).toBe(true)
      expect(server.hits(JWKS)).toBe(2)

      advance(10)
      expect(await sets.getKey(uri, 'unknown-again', 'ES256')).toBeUndefined()
      expect(server.hits(JWKS)).toBe(2)

      advance(21)
      expect(await sets.getKey(uri, 'unknown-again', 'ES256')).toBeUndefined()
      expect(server.hits(JWKS)).toBe(3)
    })

    it('finds a key the client rotated in after the cooldown', async () => {
      server.route(JWKS, json({ keys: [ec.jwk] }, { 'cache-control': 'max-age=3600' }))
      const sets = keySets()
      const uri = server.url(JWKS)
      await sets.getKey(uri, 'ec-1', 'ES256')
      server.route(JWKS, json({ keys: [ec.jwk, rsa.jwk] }, { 'cache-control': 'max-age=3600' }))
      advance(31)
      expect((await sets.getKey(uri, 'rsa-1', 'RS256'))?.equals(rsa.publicKey)).toBe(true)
      expect(server.hits(JWKS)).toBe(2)
    })
  })

  describe('when the jwks_uri is down', () => {
    it('serves the last good keys for staleForSeconds, then answers 503', async () => {
      server.route(JWKS, json({ keys: [ec.jwk] }, { 'cache-control': 'max-age=60' }))
      const sets = keySets({ ...LOCAL, staleForSeconds: 120 })
      const uri = server.url(JWKS)
      expect(await sets.getKey(uri, 'ec-1', 'ES256')).toBeDefined()
      await server.close()

      advance(61)
      expect((await sets.getKey(uri, 'ec-1', 'ES256'))?.equals(ec.publicKey)).toBe(true)
      advance(60)
      expect((await sets.getKey(uri, 'ec-1', 'ES256'))?.equals(ec.publicKey)).toBe(true)

      advance(60)
      const error = await unavailable(sets.getKey(uri, 'ec-1', 'ES256'))
      expect(failure(error)).toMatchObject({ reason: 'network' })
    })

    it('answers 503 for a server error on the first fetch, not an invalid client', async () => {
      server.route(JWKS, (_req, res) => void res.writeHead(500).end())
      const error = await unavailable(keySets().getKey(server.url(JWKS), 'ec-1', 'ES256'))
      expect(failure(error)).toMatchObject({ reason: 'http_status' })
      // The key set's own wait (1 s after a first failure) becomes the Retry-After.
      expect(error.cause).toMatchObject({ retryAfter: 1 })
      expect(error.headers).toEqual({ 'Retry-After': '1' })
    })

    it('sends the growing wait of repeated failures as Retry-After', async () => {
      server.route(JWKS, (_req, res) => void res.writeHead(500).end())
      const sets = keySets()
      await unavailable(sets.getKey(server.url(JWKS), 'ec-1', 'ES256'))
      advance(1.5)
      const second = await unavailable(sets.getKey(server.url(JWKS), 'ec-1', 'ES256'))
      expect(second.headers).toEqual({ 'Retry-After': '2' })
    })

    it('answers 503 for a key set without a usable key', async () => {
      server.route(JWKS, json({ keys: [{ ...ec.jwk, d: 'cHJpdmF0ZQ' }] }))
      const error = await unavailable(keySets().getKey(server.url(JWKS), 'ec-1', 'ES256'))
      expect(failure(error)).toMatchObject({ reason: 'no_usable_keys' })
    })
  })

  describe('keys', () => {
    it('skips keys with private members, for encryption or too weak, and reports them', async () => {
      const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey
      server.route(
        JWKS,
        json({
          keys: [
            { ...rsa.jwk, kid: 'private', d: 'cHJpdmF0ZQ' },
            { ...ed.jwk, kid: 'private-ed', d: 'cHJpdmF0ZQ' },
            { ...ec.jwk, kid: 'enc', use: 'enc' },
            { ...weak.export({ format: 'jwk' }), kid: 'weak' },
            ec.jwk,
          ],
        }),
      )
      const events: ClientJwksEvent[] = []
      const sets = keySets(LOCAL, (event) => events.push(event))
      const uri = server.url(JWKS)
      expect(await sets.getKey(uri, 'ec-1', 'ES256')).toBeDefined()
      expect(await sets.getKey(uri, 'private', 'RS256')).toBeUndefined()
      expect(await sets.getKey(uri, 'private-ed', 'EdDSA')).toBeUndefined()
      expect(await sets.getKey(uri, 'enc', 'ES256')).toBeUndefined()
      expect(await sets.getKey(uri, 'weak', 'RS256')).toBeUndefined()
      expect(events.filter((event) => event.type === 'jwks_key_skipped')).toEqual([
        { type: 'jwks_key_skipped', uri, jwksUri: uri, kid: 'private', reason: 'private_key' },
        { type: 'jwks_key_skipped', uri, jwksUri: uri, kid: 'private-ed', reason: 'private_key' },
        { type: 'jwks_key_skipped', uri, jwksUri: uri, kid: 'enc', reason: 'not_for_signatures' },
        { type: 'jwks_key_skipped', uri, jwksUri: uri, kid: 'weak', reason: 'weak_key' },
      ])
    })

    it('serves an Ed25519 key for EdDSA, RSA keys for RS and PS, EC keys for their curve', async () => {
      const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey
      const p521 = generateKeyPairSync('ec', { namedCurve: 'P-521' }).publicKey
      server.route(
        JWKS,
        json({
          keys: [
            ed.jwk,
            rsa.jwk,
            ec.jwk,
            { ...p384.export({ format: 'jwk' }), kid: 'p384' },
            { ...p521.export({ format: 'jwk' }), kid: 'p521' },
          ],
        }),
      )
      const sets = keySets()
      const uri = server.url(JWKS)
      expect((await sets.getKey(uri, 'ed-1', 'EdDSA'))?.equals(ed.publicKey)).toBe(true)
      expect((await sets.getKey(uri, 'rsa-1', 'RS512'))?.equals(rsa.publicKey)).toBe(true)
      expect((await sets.getKey(uri, 'rsa-1', 'PS256'))?.equals(rsa.publicKey)).toBe(true)
      expect((await sets.getKey(uri, 'ec-1', 'ES256'))?.equals(ec.publicKey)).toBe(true)
      expect((await sets.getKey(uri, 'p384', 'ES384'))?.equals(p384)).toBe(true)
      expect((await sets.getKey(uri, 'p521', 'ES512'))?.equals(p521)).toBe(true)
      expect(await sets.getKey(uri, 'ed-1', 'ES256')).toBeUndefined()
      expect(await sets.getKey(uri, 'p384', 'ES256')).toBeUndefined()
      expect(server.hits(JWKS)).toBe(1)
    })

    it('uses the one key that suits the alg of an assertion without kid', async () => {
      server.route(JWKS, json({ keys: [ed.jwk, ec.jwk] }))
      const sets = keySets()
      expect((await sets.getKey(server.url(JWKS), undefined, 'EdDSA'))?.equals(ed.publicKey)).toBe(
        true,
      )
    })

    it.each(['HS256', 'none', 'ES256K', ''])(
      'resolves undefined for the alg %j without fetching',
      async (alg) => {
        server.route(JWKS, json({ keys: [ec.jwk] }))
        expect(await keySets().getKey(server.url(JWKS), 'ec-1', alg)).toBeUndefined()
        expect(server.hits()).toBe(0)
      },
    )
  })

  describe('maxKeySets', () => {
    it('drops the least recently used key set beyond the bound', async () => {
      for (const path of ['/a', '/b', '/c']) server.route(path, json({ keys: [ec.jwk] }))
      const sets = keySets({ ...LOCAL, maxKeySets: 2 })
      for (const path of ['/a', '/b', '/c']) await sets.getKey(server.url(path), 'ec-1', 'ES256')
      await sets.getKey(server.url('/a'), 'ec-1', 'ES256') // /a was dropped: fetched again
      await sets.getKey(server.url('/c'), 'ec-1', 'ES256') // /c is kept
      expect([server.hits('/a'), server.hits('/b'), server.hits('/c')]).toEqual([2, 1, 1])
    })

    it('closes a dropped key set, aborting its fetch in flight', async () => {
      server.route('/slow', () => {
        // Never answers.
      })
      for (const path of ['/a', '/b']) server.route(path, json({ keys: [ec.jwk] }))
      const sets = keySets({ ...LOCAL, maxKeySets: 2, timeoutMs: 10_000 })
      // The rejection is observed at once: it comes while the other key sets are fetched.
      const pending = unavailable(sets.getKey(server.url('/slow'), 'ec-1', 'ES256'))
      await sets.getKey(server.url('/a'), 'ec-1', 'ES256')
      await sets.getKey(server.url('/b'), 'ec-1', 'ES256')
      const error = await pending
      expect(failure(error)).toMatchObject({ reason: 'aborted' })
    })
  })

  describe('close', () => {
    it('aborts fetches in flight and answers 503 afterwards', async () => {
      server.route(JWKS, () => {
        // Never answers.
      })
      const sets = keySets({ ...LOCAL, timeoutMs: 10_000 })
      const pending = unavailable(sets.getKey(server.url(JWKS), 'ec-1', 'ES256'))
      sets.close()
      expect(failure(await pending)).toMatchObject({ reason: 'aborted' })
      const after = await unavailable(sets.getKey(server.url(JWKS), 'ec-1', 'ES256'))
      expect(after.cause).toMatchObject({ message: 'the client key sets are closed' })
      expect(() => sets.close()).not.toThrow()
    })
  })

  it('keeps working when the onEvent hook throws', async () => {
    server.route(JWKS, json({ keys: [ec.jwk] }))
    const sets = keySets(LOCAL, () => {
      throw new Error('hook failure')
    })
    expect((await sets.getKey(server.url(JWKS), 'ec-1', 'ES256'))?.equals(ec.publicKey)).toBe(true)
  })
})
