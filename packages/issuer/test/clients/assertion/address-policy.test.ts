import type { LookupAddress } from 'node:dns'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  AddressRefusedError,
  createAddressPolicy,
  createGuardedFetch,
  createGuardedLookup,
  type GuardedFetch,
  type HostResolver,
} from '../../../src/clients/assertion/address-policy.js'
import { json, selfSignedCertificate, startServer, type TestServer } from './servers.js'

const at = { where: 'createClientKeySets', path: 'allowedAddresses' }
const defaultPolicy = createAddressPolicy(undefined, at)

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection')
    },
    (reason: unknown) => reason,
  )
}

describe('createAddressPolicy', () => {
  describe('by default', () => {
    it.each([
      ['a public IPv4 address', '93.184.216.34'],
      ['another public IPv4 address', '8.8.8.8'],
      ['the last address before 172.16/12', '172.15.255.255'],
      ['the first address after 172.16/12', '172.32.0.0'],
      ['the first address after 100.64/10', '100.128.0.0'],
      ['a public IPv6 address', '2606:4700:4700::1111'],
      ['an IPv4-mapped public address', '::ffff:8.8.8.8'],
      ['a NAT64 address of a public IPv4 address (RFC 6052)', '64:ff9b::808:808'],
    ])('allows %s (%s)', (_name, address) => {
      expect(defaultPolicy.refusal(address)).toBeUndefined()
    })

    it.each([
      ['127.0.0.1', 'loopback'],
      ['127.255.255.254', 'loopback'],
      ['10.0.0.1', 'private'],
      ['10.255.255.255', 'private'],
      ['172.16.0.1', 'private'],
      ['172.31.255.255', 'private'],
      ['192.168.1.1', 'private'],
      ['169.254.169.254', 'linkLocal'], // cloud metadata service
      ['169.254.0.1', 'linkLocal'],
      ['100.64.0.1', 'carrierGradeNat'],
      ['100.127.255.255', 'carrierGradeNat'],
      ['0.0.0.0', 'unspecified'],
      ['0.1.2.3', 'unspecified'],
      ['224.0.0.1', 'multicast'],
      ['239.255.255.250', 'multicast'],
      ['255.255.255.255', 'broadcast'],
      ['240.0.0.1', 'reserved'],
      ['192.0.2.1', 'reserved'],
      ['198.18.0.1', 'reserved'],
      ['192.0.0.8', 'reserved'],
      ['::1', 'loopback'],
      ['::', 'unspecified'],
      ['fe80::1', 'linkLocal'],
      ['febf:ffff::1', 'linkLocal'],
      ['fc00::1', 'uniqueLocal'],
      ['fd12:3456::1', 'uniqueLocal'],
      ['ff02::1', 'multicast'],
      ['2001:db8::1', 'reserved'],
      ['::ffff:127.0.0.1', 'loopback'],
      ['::ffff:7f00:1', 'loopback'],
      ['::ffff:10.0.0.1', 'private'],
      ['::ffff:169.254.169.254', 'linkLocal'],
      ['::ffff:0.0.0.0', 'unspecified'],
      ['64:ff9b::a00:1', 'private'], // NAT64 of 10.0.0.1
      ['64:ff9b::7f00:1', 'loopback'], // NAT64 of 127.0.0.1
      ['64:ff9b::a9fe:a9fe', 'linkLocal'], // NAT64 of 169.254.169.254
      ['64:ff9b:1::a00:1', 'rfc6052'], // local-use NAT64 prefix (RFC 8215)
      ['2002:a00:1::1', '6to4'], // 6to4 embedding 10.0.0.1
      ['2002:808:808::1', '6to4'],
      ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'teredo'],
      ['::ffff:0:a00:1', 'rfc6145'],
      ['not an address', 'invalid'],
      ['', 'invalid'],
      ['localhost', 'invalid'],
    ])('refuses %s as %s', (address, range) => {
      expect(defaultPolicy.refusal(address)).toBe(range)
    })
  })

  describe('with allowedAddresses', () => {
    it('allows the listed IPv4 range, IPv4-mapped addresses in it included, and nothing else', () => {
      const policy = createAddressPolicy(['127.0.0.0/8'], at)
      expect(policy.refusal('127.0.0.1')).toBeUndefined()
      expect(policy.refusal('127.1.2.3')).toBeUndefined()
      expect(policy.refusal('::ffff:127.0.0.1')).toBeUndefined()
      expect(policy.refusal('::1')).toBe('loopback')
      expect(policy.refusal('10.0.0.1')).toBe('private')
      expect(policy.refusal('8.8.8.8')).toBeUndefined()
    })

    it('allows the listed IPv6 ranges', () => {
      const policy = createAddressPolicy(['fd00::/8', '::1/128'], at)
      expect(policy.refusal('fd12::1')).toBeUndefined()
      expect(policy.refusal('::1')).toBeUndefined()
      expect(policy.refusal('fc00::1')).toBe('uniqueLocal')
      expect(policy.refusal('127.0.0.1')).toBe('loopback')
    })

    it('allows a NAT64 address whose IPv4 address is listed', () => {
      const policy = createAddressPolicy(['10.0.0.0/8'], at)
      expect(policy.refusal('64:ff9b::a00:1')).toBeUndefined()
      expect(policy.refusal('10.0.0.1')).toBeUndefined()
      expect(policy.refusal('192.168.0.1')).toBe('private')
    })

    it('allows a single host and everything with /0', () => {
      expect(createAddressPolicy(['169.254.169.254/32'], at).refusal('169.254.169.254')).toBe(
        undefined,
      )
      expect(createAddressPolicy(['169.254.169.254/32'], at).refusal('169.254.169.253')).toBe(
        'linkLocal',
      )
      expect(createAddressPolicy(['0.0.0.0/0'], at).refusal('10.1.2.3')).toBeUndefined()
    })

    it('accepts an empty list as the default', () => {
      expect(createAddressPolicy([], at).refusal('10.0.0.1')).toBe('private')
    })

    it.each([
      [
        'a string',
        '10.0.0.0/8',
        'must be an array of CIDR ranges such as "10.0.0.0/8" or "fd00::/8"',
      ],
      [
        'an object',
        { cidr: '10.0.0.0/8' },
        'must be an array of CIDR ranges such as "10.0.0.0/8" or "fd00::/8"',
      ],
    ])('throws a TypeError naming the option for %s', (_name, value, problem) => {
      expect(() => createAddressPolicy(value, at)).toThrow(
        new TypeError(`createClientKeySets: option "allowedAddresses" ${problem}`),
      )
    })

    it.each([
      ['an address without prefix length', '10.0.0.1'],
      ['an IPv4 prefix over 32', '10.0.0.0/33'],
      ['an IPv6 prefix over 128', 'fd00::/129'],
      ['a shortened IPv4 address', '10.1/8'],
      ['a hexadecimal IPv4 address', '0x0a.0.0.0/8'],
      ['a host name', 'localhost/8'],
      ['a number', 10],
      ['an empty string', ''],
    ])('throws a TypeError naming the entry for %s', (_name, entry) => {
      expect(() => createAddressPolicy(['127.0.0.0/8', entry], at)).toThrow(
        new TypeError(
          'createClientKeySets: option "allowedAddresses[1]" must be a CIDR range such as "10.0.0.0/8"',
        ),
      )
    })

    it.each([
      ['10.0.0.1/8', '10.0.0.0/8'],
      ['172.20.1.0/12', '172.16.0.0/12'],
      ['fd00::1/8', 'fd00::/8'],
    ])('refuses %s, whose host bits are set, and suggests %s', (entry, suggestion) => {
      expect(() => createAddressPolicy([entry], at)).toThrow(
        new TypeError(
          `createClientKeySets: option "allowedAddresses[0]" has host bits set; did you mean "${suggestion}"?`,
        ),
      )
    })
  })
})

describe('AddressRefusedError', () => {
  it('names the host, the address and the range, with a stable code', () => {
    const error = new AddressRefusedError('keys.example', '10.0.0.7', 'private')
    expect(error).toMatchObject({
      name: 'AddressRefusedError',
      code: 'address_refused',
      host: 'keys.example',
      address: '10.0.0.7',
      range: 'private',
      message:
        'refused to connect to keys.example (10.0.0.7): private address; allow its range in "allowedAddresses" to reach it',
    })
  })

  it('names an IP-literal host once', () => {
    expect(new AddressRefusedError('::1', '::1', 'loopback').message).toBe(
      'refused to connect to ::1: loopback address; allow its range in "allowedAddresses" to reach it',
    )
  })
})

function resolver(table: Record<string, string[]>): HostResolver {
  return (hostname) => {
    const addresses = table[hostname]
    if (addresses === undefined) {
      return Promise.reject(
        Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }),
      )
    }
    return Promise.resolve(
      addresses.map((address): LookupAddress => ({
        address,
        family: address.includes(':') ? 6 : 4,
      })),
    )
  }
}

describe('createGuardedLookup', () => {
  const lookup = (
    policy: Parameters<typeof createGuardedLookup>[0],
    table: Record<string, string[]>,
    hostname: string,
    all: boolean,
  ): Promise<{ error: unknown; address: unknown; family: unknown }> =>
    new Promise((resolve) => {
      createGuardedLookup(policy, resolver(table))(hostname, { all }, (error, address, family) =>
        resolve({ error, address, family }),
      )
    })

  const table = {
    'public.example': ['93.184.216.34', '2606:2800:220:1::1'],
    'internal.example': ['10.0.0.7'],
    'metadata.example': ['169.254.169.254'],
    'mixed.example': ['93.184.216.34', '192.168.0.10'],
    'empty.example': [],
  }

  it('answers every address when all of them are allowed and Node asks for all', async () => {
    expect(await lookup(defaultPolicy, table, 'public.example', true)).toEqual({
      error: null,
      address: [
        { address: '93.184.216.34', family: 4 },
        { address: '2606:2800:220:1::1', family: 6 },
      ],
      family: undefined,
    })
  })

  it('answers the first address and its family when Node asks for one', async () => {
    expect(await lookup(defaultPolicy, table, 'public.example', false)).toEqual({
      error: null,
      address: '93.184.216.34',
      family: 4,
    })
  })

  it.each([
    ['internal.example', '10.0.0.7', 'private'],
    ['metadata.example', '169.254.169.254', 'linkLocal'],
    ['mixed.example', '192.168.0.10', 'private'],
  ])('fails %s, which resolves to %s, with the reason', async (host, address, range) => {
    const { error } = await lookup(defaultPolicy, table, host, true)
    expect(error).toBeInstanceOf(AddressRefusedError)
    expect(error).toMatchObject({ host, address, range })
  })

  it('passes a resolver failure on as it is', async () => {
    const { error } = await lookup(defaultPolicy, table, 'unknown.example', true)
    expect(error).toMatchObject({ code: 'ENOTFOUND' })
    expect(error).not.toBeInstanceOf(AddressRefusedError)
  })

  it('fails with ENOTFOUND when the resolver answers no address', async () => {
    const { error } = await lookup(defaultPolicy, table, 'empty.example', true)
    expect(error).toMatchObject({ code: 'ENOTFOUND', message: 'no address for empty.example' })
  })

  it('passes the family and hints Node asks with to the resolver', async () => {
    const seen: unknown[] = []
    const guarded = createGuardedLookup(defaultPolicy, (hostname, options) => {
      seen.push([hostname, options])
      return Promise.resolve([{ address: '93.184.216.34', family: 4 }])
    })
    await new Promise<void>((resolve) =>
      guarded('a.example', { family: 4, hints: 32 }, () => resolve()),
    )
    await new Promise<void>((resolve) => guarded('b.example', {}, () => resolve()))
    expect(seen).toEqual([
      ['a.example', { family: 4, hints: 32 }],
      ['b.example', {}],
    ])
  })
})

describe('createGuardedFetch', () => {
  let server: TestServer
  const fetches: GuardedFetch[] = []

  beforeEach(async () => {
    server = await startServer()
    server.route('/jwks.json', json({ keys: [] }))
  })

  afterEach(async () => {
    await Promise.all(fetches.splice(0).map((guarded) => guarded.close()))
    await server.close()
  })

  function guardedFetch(...args: Parameters<typeof createGuardedFetch>): GuardedFetch {
    const guarded = createGuardedFetch(...args)
    fetches.push(guarded)
    return guarded
  }

  const init: RequestInit = { method: 'GET', redirect: 'manual' }

  it('refuses an IP-literal loopback host before connecting', async () => {
    const error = await rejection(
      guardedFetch(defaultPolicy)(new URL(server.url('/jwks.json')), init),
    )
    expect(error).toBeInstanceOf(AddressRefusedError)
    expect(error).toMatchObject({ host: '127.0.0.1', address: '127.0.0.1', range: 'loopback' })
    expect(server.hits()).toBe(0)
  })

  it('connects to a loopback address inside allowedAddresses', async () => {
    const policy = createAddressPolicy(['127.0.0.0/8'], at)
    const response = await guardedFetch(policy)(new URL(server.url('/jwks.json')), init)
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ keys: [] })
    expect(server.hits('/jwks.json')).toBe(1)
  })

  it('refuses the IPv4-mapped IPv6 literal [::ffff:127.0.0.1]', async () => {
    const url = new URL(server.url('/jwks.json', '[::ffff:127.0.0.1]'))
    const error = await rejection(guardedFetch(defaultPolicy)(url, init))
    expect(error).toMatchObject({ address: '::ffff:7f00:1', range: 'loopback' })
    expect(server.hits()).toBe(0)
  })

  it('refuses localhost, which resolves to a loopback address', async () => {
    const url = new URL(server.url('/jwks.json', 'localhost'))
    const error = await rejection(guardedFetch(defaultPolicy)(url, init))
    expect(error).toBeInstanceOf(AddressRefusedError)
    expect(error).toMatchObject({ host: 'localhost', range: 'loopback' })
    expect(server.hits()).toBe(0)
  })

  it('refuses a host name that resolves to a private or link-local address, without traffic', async () => {
    const guarded = guardedFetch(defaultPolicy, {
      resolve: resolver({
        'internal.example': ['10.0.0.7'],
        'metadata.example': ['169.254.169.254'],
      }),
    })
    const internal = new URL(`http://internal.example:${server.port}/jwks.json`)
    const metadata = new URL(`http://metadata.example:${server.port}/latest/meta-data/`)
    expect(await rejection(guarded(internal, init))).toMatchObject({ range: 'private' })
    expect(await rejection(guarded(metadata, init))).toMatchObject({ range: 'linkLocal' })
  })

  it('connects to the address the checked lookup resolved', async () => {
    const policy = createAddressPolicy(['127.0.0.0/8'], at)
    const guarded = guardedFetch(policy, { resolve: resolver({ 'keys.example': ['127.0.0.1'] }) })
    let host: string | undefined
    server.route('/jwks.json', (req, res) => {
      host = req.headers.host
      json({ keys: [] })(req, res)
    })
    const response = await guarded(new URL(`http://keys.example:${server.port}/jwks.json`), init)
    expect(response.status).toBe(200)
    expect(host).toBe(`keys.example:${server.port}`)
  })

  it('checks every new connection, so a host that rebinds to a private address is refused', async () => {
    const policy = createAddressPolicy(['127.0.0.0/8'], at)
    const answers = [['127.0.0.1'], ['10.0.0.7']]
    const guarded = guardedFetch(policy, {
      resolve: () =>
        Promise.resolve(
          (answers.shift() ?? []).map((address): LookupAddress => ({ address, family: 4 })),
        ),
    })
    // A new connection for each request: the first one is closed after its answer.
    server.route('/jwks.json', json({ keys: [] }, { connection: 'close' }))
    const url = new URL(`http://rebind.example:${server.port}/jwks.json`)
    expect((await guarded(url, init)).status).toBe(200)
    expect(await rejection(guarded(url, init))).toMatchObject({
      address: '10.0.0.7',
      range: 'private',
    })
    expect(server.hits()).toBe(1)
  })

  it("passes other failures on as undici's TypeError with the cause", async () => {
    const guarded = guardedFetch(defaultPolicy, { resolve: resolver({}) })
    const error = await rejection(guarded(new URL('https://nowhere.example/jwks.json'), init))
    expect(error).toBeInstanceOf(TypeError)
    expect(error).toMatchObject({ cause: { code: 'ENOTFOUND' } })
  })

  it('closes idempotently and fails once closed', async () => {
    const policy = createAddressPolicy(['127.0.0.0/8'], at)
    const guarded = createGuardedFetch(policy)
    await guarded.close()
    await guarded.close()
    const error = await rejection(guarded(new URL(server.url('/jwks.json')), init))
    expect(error).toMatchObject({ cause: { code: 'UND_ERR_DESTROYED' } })
    expect(server.hits()).toBe(0)
  })

  describe('over TLS', () => {
    const certificate = selfSignedCertificate()

    it('verifies the certificate against the host name and connects to an allowed address', async () => {
      const tls = certificate
      const secure = await startServer(tls)
      try {
        secure.route('/jwks.json', json({ keys: [] }))
        const policy = createAddressPolicy(['127.0.0.0/8', '::1/128'], at)
        const guarded = guardedFetch(policy, {
          resolve: resolver({ localhost: ['127.0.0.1'] }),
          ca: tls.cert,
        })
        const response = await guarded(new URL(secure.url('/jwks.json', 'localhost')), init)
        expect(response.status).toBe(200)
        expect(secure.hits('/jwks.json')).toBe(1)

        const untrusted = guardedFetch(policy)
        const error = await rejection(untrusted(new URL(secure.url('/jwks.json')), init))
        expect(error).toMatchObject({ cause: { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' } })
      } finally {
        await secure.close()
      }
    })

    it('refuses a loopback https host before the TLS handshake', async () => {
      const secure = await startServer(certificate)
      try {
        const error = await rejection(
          guardedFetch(defaultPolicy)(new URL(secure.url('/jwks.json')), init),
        )
        expect(error).toMatchObject({ range: 'loopback' })
        expect(secure.hits()).toBe(0)
      } finally {
        await secure.close()
      }
    })
  })
})
