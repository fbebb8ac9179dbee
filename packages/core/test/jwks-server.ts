import { generateKeyPairSync, type KeyObject } from 'node:crypto'
import type { Jwk } from '../src/jose/jwk.js'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** A request handler for one path of the test server. */
export type Route = (req: IncomingMessage, res: ServerResponse) => void

/** A real HTTP server on 127.0.0.1 and an ephemeral port, with swappable routes. */
export interface TestKeyServer {
  /** `http://127.0.0.1:<port>` */
  origin: string
  /** Absolute URL of a path on this server. */
  url(path: string): string
  /** Sets (or replaces) the handler of a path; unknown paths answer 404. */
  route(path: string, handler: Route): void
  /** Requests received for a path (all paths when omitted). */
  hits(path?: string): number
  /** Closes the server and destroys open connections (slow handlers included). */
  close(): Promise<void>
}

/** Starts a test key server. Close it in afterEach. */
export async function startKeyServer(): Promise<TestKeyServer> {
  const routes = new Map<string, Route>()
  const counts = new Map<string, number>()
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname
    counts.set(path, (counts.get(path) ?? 0) + 1)
    const handler = routes.get(path)
    if (handler === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found')
      return
    }
    handler(req, res)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const origin = `http://127.0.0.1:${port}`
  return {
    origin,
    url: (path) => `${origin}${path}`,
    route: (path, handler) => void routes.set(path, handler),
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

/** A route answering a fixed status with an empty body. */
export function status(code: number, headers: Record<string, string> = {}): Route {
  return (_req, res) => void res.writeHead(code, headers).end()
}

/** A test signing key: the public KeyObject and its public JWK with kid (and alg). */
export interface TestKey {
  kid: string
  publicKey: KeyObject
  privateKey: KeyObject
  jwk: Jwk
}

/** Generates an RSA (2048 bits unless given) or EC P-256 key pair for tests. */
export function testKey(
  kid: string,
  type: 'RSA' | 'EC' = 'RSA',
  extra: Jwk = {},
  modulusLength = 2048,
): TestKey {
  const { publicKey, privateKey } =
    type === 'RSA'
      ? generateKeyPairSync('rsa', { modulusLength })
      : generateKeyPairSync('ec', { namedCurve: 'P-256' })
  return {
    kid,
    publicKey,
    privateKey,
    jwk: { ...publicKey.export({ format: 'jwk' }), kid, ...extra },
  }
}

/** A JWK Set document of test keys. */
export function jwks(...keys: TestKey[]): { keys: Jwk[] } {
  return { keys: keys.map((key) => key.jwk) }
}
