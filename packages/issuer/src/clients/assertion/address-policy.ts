// Which addresses the issuer may connect to when it fetches a client's `jwks_uri`, and a fetch
// that enforces it.
//
// A client's jwks_uri is a URL chosen by whoever registered the client, so fetching it makes the
// issuer an HTTP client of hostile input (SSRF): it must not become a way to reach the loopback
// interface, the private network or the cloud metadata service (169.254.169.254). Only public
// unicast addresses are allowed by default; an operator allow-lists the ranges of its own
// internal key servers.
//
// Decision: undici's Agent with our own lookup, not the global fetch and not a pre-resolution.
// - The global fetch cannot take a lookup or a connector; undici's Agent can
//   (`connect: { lookup }`), and undici's fetch takes the Agent as its dispatcher.
// - Resolving the host first and then fetching would check one answer and connect with another:
//   a DNS rebinding attack answers a public address to the check and 127.0.0.1 to the connect.
//   The lookup below is the one the socket connects with, so every address checked is the
//   address used, for every connection (redirect hops and new pooled sockets included).
// - The lookup is not called for an IP-literal host (`https://10.0.0.1/`,
//   `https://[::ffff:127.0.0.1]/`): the connector checks those itself before connecting.

import { type LookupAddress, promises as dns } from 'node:dns'
import { isIP, type LookupFunction } from 'node:net'
import { type KeySourceFetch, optionError, type OptionPath } from '@ccflow/core'
import ipaddr from 'ipaddr.js'
import {
  Agent,
  buildConnector,
  fetch as undiciFetch,
  type RequestInit as UndiciRequestInit,
} from 'undici'

type IPAddress = ipaddr.IPv4 | ipaddr.IPv6

/** Decides whether the issuer may connect to an IP address. */
export interface AddressPolicy {
  /**
   * Why the issuer may not connect to `address` (an IP literal, without brackets): the name of
   * its range as ipaddr.js gives it (`loopback`, `private`, `linkLocal`, `uniqueLocal`,
   * `carrierGradeNat`, `unspecified`, `multicast`, `broadcast`, `reserved`, `6to4`, `teredo`,
   * …), or `invalid` when it is no IP address; `undefined` when the connection is allowed.
   * An IPv4-mapped (`::ffff:a.b.c.d`) or NAT64 (`64:ff9b::a.b.c.d`) address is judged by the
   * IPv4 address it carries.
   */
  refusal(address: string): string | undefined
}

/**
 * The issuer refused to connect to an address: a resolved address of the host, or the host
 * itself when it is an IP literal. The fetch rejects with it (not with undici's
 * `TypeError: fetch failed`), so the cause chain of a 503 names the host, the address and why.
 */
export class AddressRefusedError extends Error {
  override readonly name = 'AddressRefusedError'
  /** Stable code for logs and metrics. */
  readonly code = 'address_refused'
  /** The host of the URL. */
  readonly host: string
  /** The refused address. */
  readonly address: string
  /** Why: the range of the address (see {@link AddressPolicy.refusal}). */
  readonly range: string

  constructor(host: string, address: string, range: string) {
    super(
      `refused to connect to ${host === address ? address : `${host} (${address})`}: ` +
        `${range} address; allow its range in "allowedAddresses" to reach it`,
    )
    this.host = host
    this.address = address
    this.range = range
  }
}

// The ranges whose IPv6 addresses carry an IPv4 address that is the real destination: an
// IPv4-mapped address is the IPv4 host itself, and a NAT64 gateway on the well-known prefix
// (RFC 6052 §2.1) forwards to it (RFC 6052 §3.1 forbids that prefix for non-global IPv4, so a
// private one there is refused like the IPv4 address). Other tunnels (6to4, Teredo, the
// local-use NAT64 prefix of RFC 8215) are never `unicast` for ipaddr.js and stay refused.
const NAT64_WELL_KNOWN = ipaddr.IPv6.parseCIDR('64:ff9b::/96')

function carriedIPv4(address: ipaddr.IPv6): ipaddr.IPv4 | undefined {
  if (address.isIPv4MappedAddress()) return address.toIPv4Address()
  if (address.match(NAT64_WELL_KNOWN)) {
    const bytes = address.toByteArray()
    return new ipaddr.IPv4(bytes.slice(12))
  }
  return undefined
}

type Cidr = [IPAddress, number]

/**
 * Checks the `allowedAddresses` option (CIDR ranges such as `10.0.0.0/8` or `fd00::/8`) and
 * returns the policy: public unicast addresses and the allow-listed ranges are allowed,
 * everything else refused.
 *
 * @throws {TypeError} `<where>: option "<path>" …` for a value that is not an array of CIDR
 *   strings, or a range with host bits set.
 */
export function createAddressPolicy(allowedAddresses: unknown, at: OptionPath): AddressPolicy {
  const allowed = checkCidrList(allowedAddresses, at)
  const isAllowListed = (address: IPAddress): boolean =>
    allowed.some(([range, bits]) => range.kind() === address.kind() && address.match(range, bits))
  return {
    refusal(text) {
      if (!ipaddr.isValid(text)) return 'invalid'
      const address = ipaddr.parse(text)
      if (isAllowListed(address)) return undefined
      const ipv4 = address.kind() === 'ipv6' ? carriedIPv4(address as ipaddr.IPv6) : undefined
      if (ipv4 !== undefined && isAllowListed(ipv4)) return undefined
      const range = (ipv4 ?? address).range()
      return range === 'unicast' ? undefined : range
    },
  }
}

function checkCidrList(value: unknown, at: OptionPath): Cidr[] {
  if (value === undefined) return []
  const expected = 'an array of CIDR ranges such as "10.0.0.0/8" or "fd00::/8"'
  if (!Array.isArray(value)) throw optionError(at.where, at.path, `must be ${expected}`)
  return (value as unknown[]).map((item, index) => {
    const path = `${at.path}[${index}]`
    // Four-part decimal only for IPv4: ipaddr.js also reads `10.1/8` or `0x0a.0.0.0/8`, which
    // nobody means in a configuration file.
    const valid =
      typeof item === 'string' &&
      (ipaddr.IPv6.isValidCIDR(item) || ipaddr.IPv4.isValidCIDRFourPartDecimal(item))
    if (!valid) throw optionError(at.where, path, `must be a CIDR range such as "10.0.0.0/8"`)
    const [address, bits] = ipaddr.parseCIDR(item)
    const network =
      address.kind() === 'ipv6'
        ? ipaddr.IPv6.networkAddressFromCIDR(item)
        : ipaddr.IPv4.networkAddressFromCIDR(item)
    if (network.toString() !== address.toString()) {
      throw optionError(
        at.where,
        path,
        `has host bits set; did you mean "${network.toString()}/${bits}"?`,
      )
    }
    return [address, bits]
  })
}

/** Resolves a host name to all its addresses, as `dns.lookup` with `all: true` does. */
export type HostResolver = (
  hostname: string,
  options: { family?: number; hints?: number },
) => Promise<LookupAddress[]>

/** How the guarded fetch connects. */
export interface GuardedConnectOptions {
  /**
   * Resolves host names; every address it returns is checked against the policy.
   * @default `dns.lookup(hostname, { all: true })`
   */
  resolve?: HostResolver | undefined
  /**
   * Certificates of the certificate authorities TLS connections trust instead of Node's bundled
   * ones (PEM). Tests pass the one of their local HTTPS server.
   * @default Node's bundled root certificates
   */
  ca?: string | readonly string[] | undefined
}

/** A {@link KeySourceFetch} whose connections obey an {@link AddressPolicy}. */
export type GuardedFetch = KeySourceFetch & {
  /** Closes the connection pool (idempotent); the fetch must not be used afterwards. */
  close(): Promise<void>
}

const dnsResolve: HostResolver = (hostname, options) =>
  dns.lookup(hostname, { ...options, all: true })

/**
 * The `lookup` of the guarded connections (`net.connect`'s signature): resolves every address of
 * the host and fails with {@link AddressRefusedError} when any of them is refused, so a host
 * cannot mix a public address with a private one and win the race. Answers all addresses when
 * `options.all` (Node's happy eyeballs), else the first.
 */
export function createGuardedLookup(
  policy: AddressPolicy,
  resolve: HostResolver = dnsResolve,
): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, {
      ...(options.family === undefined ? {} : { family: options.family as number }),
      ...(options.hints === undefined ? {} : { hints: options.hints }),
    }).then(
      (addresses) => {
        for (const { address } of addresses) {
          const range = policy.refusal(address)
          if (range !== undefined) {
            callback(new AddressRefusedError(hostname, address, range), '')
            return
          }
        }
        const first = addresses[0]
        if (first === undefined) {
          callback(
            Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }),
            '',
          )
        } else if (options.all === true) {
          callback(null, addresses)
        } else {
          callback(null, first.address, first.family)
        }
      },
      (error: NodeJS.ErrnoException) => callback(error, ''),
    )
  }
}

/**
 * A fetch for core's remote key set whose every connection goes to an address `policy` allows:
 * undici's `fetch` with an Agent whose lookup checks all resolved addresses (any refused one
 * fails the connection with {@link AddressRefusedError}) and whose connector checks IP-literal
 * hosts before connecting. Environment proxies (`HTTP_PROXY`) are not used.
 *
 * @example
 * ```ts
 * const policy = createAddressPolicy(['10.20.0.0/16'], { where: 'tokenEndpoint', path: 'allowedAddresses' })
 * const keys = createRemoteKeySet({ jwksUri, fetch: createGuardedFetch(policy) })
 * ```
 */
export function createGuardedFetch(
  policy: AddressPolicy,
  connect: GuardedConnectOptions = {},
): GuardedFetch {
  const lookup = createGuardedLookup(policy, connect.resolve)
  const connector = buildConnector({
    lookup,
    ...(connect.ca === undefined ? {} : { ca: connect.ca as string | string[] }),
  })
  const agent = new Agent({
    connect(options, callback) {
      // undici passes an IPv6 literal without its brackets.
      if (isIP(options.hostname) !== 0) {
        const range = policy.refusal(options.hostname)
        if (range !== undefined) {
          callback(new AddressRefusedError(options.hostname, options.hostname, range), null)
          return
        }
      }
      connector(options, callback)
    },
  })
  const guardedFetch = async (input: URL, init: RequestInit): Promise<Response> => {
    try {
      // The global RequestInit is typed by @types/node's copy of undici's types, undici's fetch
      // by the package's own: the same shape, two declarations whose dispatchers differ.
      return await undiciFetch(input, {
        ...(init as unknown as UndiciRequestInit),
        dispatcher: agent,
      })
    } catch (error) {
      // undici reports a failed connection as `TypeError: fetch failed` with the reason as its
      // cause; a refusal is the reason worth reporting.
      const cause = (error as { cause?: unknown }).cause
      throw cause instanceof AddressRefusedError ? cause : error
    }
  }
  // Idempotent, and it never rejects: undici's close() rejects only after destroy(), never
  // called here.
  let closing: Promise<void> | undefined
  return Object.assign(guardedFetch, { close: () => (closing ??= agent.close()) })
}
