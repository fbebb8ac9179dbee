import type { Jwk } from '@ccflow/core'
import { generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto'
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'

/** A request handler for one path of a test server. */
export type Route = (req: IncomingMessage, res: ServerResponse) => void

/** A real HTTP(S) server on 127.0.0.1 and an ephemeral port, with swappable routes. */
export interface TestServer {
  /** The port it listens on. */
  port: number
  /** `<scheme>://<host>:<port><path>`; host 127.0.0.1 unless given. */
  url(path: string, host?: string): string
  /** Sets (or replaces) the handler of a path; unknown paths answer 404. */
  route(path: string, handler: Route): void
  /** Requests received for a path (all paths when omitted). */
  hits(path?: string): number
  /** Closes the server and destroys open connections (slow handlers included). */
  close(): Promise<void>
}

/** A self-signed certificate for `localhost` and 127.0.0.1, and its private key (PEM). */
export interface TestCertificate {
  key: string
  cert: string
}

// Just enough DER (X.690) to write one X.509 v3 certificate (RFC 5280 §4.1), so the HTTPS tests
// need no openssl binary and no key is ever committed.
function der(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content)
  const length =
    body.length < 0x80
      ? Buffer.from([body.length])
      : body.length < 0x100
        ? Buffer.from([0x81, body.length])
        : Buffer.from([0x82, body.length >> 8, body.length & 0xff])
  return Buffer.concat([Buffer.from([tag]), length, body])
}
const sequence = (...items: Buffer[]): Buffer => der(0x30, ...items)
const oid = (hex: string): Buffer => der(0x06, Buffer.from(hex, 'hex'))
const utcTime = (date: Date): Buffer =>
  der(
    0x17,
    Buffer.from(
      date
        .toISOString()
        .replace(/[-:T]|\.\d+/g, '')
        .slice(2),
      'ascii',
    ),
  )
const commonName = (name: string): Buffer =>
  sequence(der(0x31, sequence(oid('550403'), der(0x0c, Buffer.from(name, 'utf8')))))

/**
 * Generates a self-signed EC P-256 certificate for `localhost` and 127.0.0.1, valid from an
 * hour ago for one day (TLS checks it against the real clock, not a faked `Date`).
 */
export function selfSignedCertificate(): TestCertificate {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const ecdsaWithSha256 = sequence(oid('2a8648ce3d040302'))
  const name = commonName('localhost')
  const now = Date.now()
  const subjectAltName = sequence(
    der(0x82, Buffer.from('localhost', 'ascii')),
    der(0x87, Buffer.from([127, 0, 0, 1])),
  )
  const tbs = sequence(
    der(0xa0, der(0x02, Buffer.from([2]))), // version v3
    der(0x02, Buffer.from([0x01, ...randomBytes(8)])), // positive serial number
    ecdsaWithSha256,
    name,
    sequence(utcTime(new Date(now - 3_600_000)), utcTime(new Date(now + 86_400_000))),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
    der(
      0xa3,
      sequence(
        // basicConstraints, critical, CA:TRUE: the certificate is its own trust anchor.
        sequence(
          oid('551d13'),
          der(0x01, Buffer.from([0xff])),
          der(0x04, sequence(der(0x01, Buffer.from([0xff])))),
        ),
        sequence(oid('551d11'), der(0x04, subjectAltName)),
      ),
    ),
  )
  const signature = sign('sha256', tbs, privateKey)
  const certificate = sequence(tbs, ecdsaWithSha256, der(0x03, Buffer.from([0]), signature))
  const base64 = certificate.toString('base64').replace(/(.{64})/g, '$1\n')
  return {
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    cert: `-----BEGIN CERTIFICATE-----\n${base64.trimEnd()}\n-----END CERTIFICATE-----\n`,
  }
}

/** Starts a test server (HTTPS when a certificate is given). Close it in afterEach. */
export async function startServer(tls?: TestCertificate): Promise<TestServer> {
  const routes = new Map<string, Route>()
  const counts = new Map<string, number>()
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname
    counts.set(path, (counts.get(path) ?? 0) + 1)
    const route = routes.get(path)
    if (route === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found')
      return
    }
    route(req, res)
  }
  const server = tls === undefined ? createHttpServer(handler) : createHttpsServer(tls, handler)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const scheme = tls === undefined ? 'http' : 'https'
  return {
    port,
    url: (path, host = '127.0.0.1') => `${scheme}://${host}:${port}${path}`,
    route: (path, route) => void routes.set(path, route),
    hits: (path) =>
      path === undefined
        ? [...counts.values()].reduce((sum, n) => sum + n, 0)
        : (counts.get(path) ?? 0),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** A route answering `body` as JSON with extra headers (e.g. Cache-Control). */
export function json(body: unknown, headers: Record<string, string> = {}): Route {
  return (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', ...headers })
    res.end(JSON.stringify(body))
  }
}

/** A client's public key as a JWK with its kid, and the private key that signs with it. */
export interface ClientKey {
  kid: string
  publicKey: KeyObject
  privateKey: KeyObject
  jwk: Jwk
}

/** Generates a client key: RSA 2048, EC P-256 or Ed25519. */
export function clientKey(kid: string, type: 'RSA' | 'EC' | 'Ed25519' = 'EC'): ClientKey {
  const { publicKey, privateKey } =
    type === 'RSA'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : type === 'EC'
        ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
        : generateKeyPairSync('ed25519')
  return { kid, publicKey, privateKey, jwk: { ...publicKey.export({ format: 'jwk' }), kid } }
}
