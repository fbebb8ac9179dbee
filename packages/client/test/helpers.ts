import { once } from 'node:events'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** A fixed, obviously fake secret holding the characters Basic encoding must survive. */
export const SECRET = 'test-only:secret%with+odd chars'

/** One request the token server received. */
export interface RecordedRequest {
  readonly method: string
  readonly path: string
  readonly headers: IncomingMessage['headers']
  readonly form: URLSearchParams
}

/** What the token server answers: a reply, or `'hang'` (never answer), or `'reset'` (drop the socket). */
export type Reply =
  { status: number; headers?: Record<string, string>; body?: unknown } | 'hang' | 'reset'

/** A token server on 127.0.0.1:0 whose answers a test scripts. */
export interface TokenServer {
  /** `http://127.0.0.1:<port>`: also the issuer of its metadata. */
  readonly issuer: string
  /** `<issuer>/token` */
  readonly tokenEndpoint: string
  /** Every token request, in order (metadata requests are not counted). */
  readonly requests: RecordedRequest[]
  /** Every metadata request's path. */
  readonly metadataRequests: string[]
  /** Replaces how token requests are answered; `n` counts from 1. */
  reply(handler: (request: RecordedRequest, n: number) => Reply | Promise<Reply>): void
  /** Replaces the metadata document (`undefined`: 404). */
  metadata(document: Record<string, unknown> | undefined): void
  close(): Promise<void>
}

/** A JSON token answer. */
export function tokenReply(value: string, extra: Record<string, unknown> = {}): Reply {
  return {
    status: 200,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
    body: { access_token: value, token_type: 'Bearer', expires_in: 300, ...extra },
  }
}

/** A JSON OAuth error answer (RFC 6749 §5.2). */
export function errorReply(
  status: number,
  error: string,
  headers: Record<string, string> = {},
): Reply {
  return {
    status,
    headers: { 'content-type': 'application/json', ...headers },
    body: { error, error_description: `described ${error}` },
  }
}

/**
 * Starts a token server: `/token` answers each POST as the handler says (by default a new
 * token `t<n>` valid for 300 s), `/.well-known/oauth-authorization-server` serves metadata
 * naming this server as the issuer.
 */
export async function startTokenServer(): Promise<TokenServer> {
  const requests: RecordedRequest[] = []
  const metadataRequests: string[] = []
  let handler: (request: RecordedRequest, n: number) => Reply | Promise<Reply> = (_r, n) =>
    tokenReply(`t${n}`)
  let metadata: Record<string, unknown> | undefined
  const server: Server = createServer((req, res) => {
    void handle(req, res)
  })
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const path = req.url ?? '/'
    if (req.method === 'GET' && path.startsWith('/.well-known/')) {
      metadataRequests.push(path)
      if (metadata === undefined) res.writeHead(404).end()
      else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(metadata))
      return
    }
    const recorded: RecordedRequest = {
      method: req.method ?? '',
      path,
      headers: req.headers,
      form: new URLSearchParams(Buffer.concat(chunks).toString('utf8')),
    }
    requests.push(recorded)
    const reply = await handler(recorded, requests.length)
    if (reply === 'hang') return
    if (reply === 'reset') {
      req.socket.destroy()
      return
    }
    const body =
      reply.body === undefined
        ? ''
        : typeof reply.body === 'string'
          ? reply.body
          : JSON.stringify(reply.body)
    res.writeHead(reply.status, reply.headers ?? {}).end(body)
  }
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  metadata = { issuer, token_endpoint: `${issuer}/token` }
  return {
    issuer,
    tokenEndpoint: `${issuer}/token`,
    requests,
    metadataRequests,
    reply(next) {
      handler = next
    },
    metadata(document) {
      metadata = document
    },
    async close() {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

/** The JSON payload of a compact JWS (no verification). */
export function jwtPayload(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()) as Record<
    string,
    unknown
  >
}

/** The JSON header of a compact JWS. */
export function jwtHeader(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[0] as string, 'base64url').toString()) as Record<
    string,
    unknown
  >
}

/** An unsigned JWT-shaped token with these claims (the client never verifies tokens). */
export function fakeJwt(claims: Record<string, unknown>): string {
  const part = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')
  return `${part({ alg: 'none', typ: 'at+jwt' })}.${part(claims)}.c2ln`
}

/** Everything a value's error could show: message, stack, JSON and the cause chain. */
export function everythingIn(error: unknown): string {
  const parts: string[] = []
  let current: unknown = error
  for (let depth = 0; current !== undefined && current !== null && depth < 5; depth++) {
    if (current instanceof Error) {
      parts.push(current.message, current.stack ?? '', JSON.stringify(current))
      parts.push(JSON.stringify(Object.entries(current)))
      current = current.cause
    } else {
      parts.push(JSON.stringify(current))
      current = undefined
    }
  }
  return parts.join('\n')
}
