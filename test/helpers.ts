import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type RequestListener, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  type Client,
  type SigningKeyInput,
  generateClientSecret,
  generateSigningKey,
  hashClientSecret,
} from '@ccflow/issuer'

/** True in the e2e-express4 project (the suite runs once per Express major). */
export const ON_EXPRESS_4: boolean = process.env.CCFLOW_EXPRESS_MAJOR === '4'

/** Why process-based suites skip on Express 4: the programs run the examples' own Express 5. */
export const PROCESS_SUITE_SKIP_REASON =
  'runs real processes on the examples’ own Express 5, so it runs in e2e-express5 only'

/** An in-process HTTP server on 127.0.0.1 and an ephemeral port. */
export interface Listening {
  server: Server
  /** `http://127.0.0.1:<port>` */
  url: string
  close(): Promise<void>
}

/**
 * Listens on 127.0.0.1:0, then installs the handler built for the bound URL, so an issuer can
 * name its own port.
 */
export async function listenOnEphemeralPort(
  build: (url: string) => RequestListener,
): Promise<Listening> {
  const state: { handler?: RequestListener } = {}
  const server = createServer((req, res) => state.handler?.(req, res))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  state.handler = build(url)
  return {
    server,
    url,
    close: () =>
      new Promise((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()))
        server.closeAllConnections()
      }),
  }
}

/** An `Authorization: Basic` value, with id and secret form-encoded first (RFC 6749 §2.3.1). */
export function basic(clientId: string, secret: string): string {
  const encode = (value: string): string => encodeURIComponent(value).replace(/%20/g, '+')
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(secret)}`).toString('base64')}`
}

/** A client record with a freshly generated secret, and that secret. */
export async function makeClient(
  fields: Partial<Client> & Pick<Client, 'client_id' | 'scope' | 'audiences'>,
): Promise<{ client: Client; secret: string }> {
  const { secretId, secret } = generateClientSecret()
  const client: Client = {
    ...fields,
    secrets: [{ id: secretId, hash: await hashClientSecret(secret) }],
  }
  return { client, secret }
}

/** A signing key ready for `tokenEndpoint({ keys })`, plus its public JWK. */
export function makeSigningKey(alg: 'RS256' | 'PS256' | 'ES256' = 'RS256'): {
  input: SigningKeyInput
  publicJwk: ReturnType<typeof generateSigningKey>['publicJwk']
  privateJwk: ReturnType<typeof generateSigningKey>['privateJwk']
  kid: string
} {
  const key = generateSigningKey(alg)
  return {
    input: { kid: key.kid, alg: key.alg, privateKey: key.privateKey },
    publicJwk: key.publicJwk,
    privateJwk: key.privateJwk,
    kid: key.kid,
  }
}

/** A token response as RFC 6749 §5.1 describes it. */
export interface TokenResponse {
  access_token: string
  token_type: string
  expires_in: number
  scope?: string
}

/**
 * Fetches a token over real HTTP with `client_secret_basic` (default) or `client_secret_post`;
 * fails the test with the server's answer when the status is not 200.
 */
export async function fetchToken(
  tokenUrl: string,
  credentials: { clientId: string; secret: string },
  params: Record<string, string> = {},
  method: 'client_secret_basic' | 'client_secret_post' = 'client_secret_basic',
): Promise<TokenResponse> {
  const body = new URLSearchParams({ grant_type: 'client_credentials', ...params })
  const headers: Record<string, string> = {}
  if (method === 'client_secret_basic') {
    headers.authorization = basic(credentials.clientId, credentials.secret)
  } else {
    body.set('client_id', credentials.clientId)
    body.set('client_secret', credentials.secret)
  }
  const res = await fetch(tokenUrl, { method: 'POST', headers, body })
  const text = await res.text()
  if (res.status !== 200) throw new Error(`token request answered ${res.status}: ${text}`)
  return JSON.parse(text) as TokenResponse
}

/** A temporary folder, removed by the returned `remove()`. */
export function tempDir(): {
  path: string
  file(name: string, content: unknown): string
  remove(): void
} {
  const path = mkdtempSync(join(tmpdir(), 'ccflow-test-'))
  return {
    path,
    file(name, content) {
      const file = join(path, name)
      writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2))
      return file
    },
    remove: () => rmSync(path, { recursive: true, force: true }),
  }
}

/** supertest's `res.body` (typed `any`) as a JSON object for assertions. */
export function body(res: { body: unknown }): Record<string, unknown> {
  return res.body as Record<string, unknown>
}
