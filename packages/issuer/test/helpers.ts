import express, { type Express } from 'express'
import { vi } from 'vitest'
import type { Client } from '../src/clients/client-store.js'
import { staticClientStore } from '../src/clients/client-store.js'
import type { IssuerEvent } from '../src/events.js'
import type { TokenEndpointOptions } from '../src/options/types.js'
import { generateClientSecret, hashClientSecret } from '../src/clients/secrets.js'
import { generateSigningKey, type SigningKeyInput } from '../src/tokens/signing-keys.js'
import { tokenEndpoint } from '../src/token-endpoint.js'

export const ISSUER = 'https://auth.example.test'
export const ORDERS = 'https://api.example.test/orders'
export const REPORTS = 'https://api.example.test/reports'

/** One ES256 key pair for the whole file that imports the helpers (fast to generate). */
export const signingKey = generateSigningKey('ES256', { kid: 'test-es256' })

/** Form-encodes a value the way a compliant client does before Base64 (RFC 6749 Appendix B). */
export function formEncode(value: string): string {
  return encodeURIComponent(value).replace(/%20/g, '+')
}

/** An `Authorization: Basic` value from raw bytes (no encoding applied). */
export function rawBasic(userPass: string): string {
  return `Basic ${Buffer.from(userPass, 'utf8').toString('base64')}`
}

/** An `Authorization: Basic` value as RFC 6749 §2.3.1 specifies it. */
export function basic(clientId: string, secret: string): string {
  return rawBasic(`${formEncode(clientId)}:${formEncode(secret)}`)
}

/** A urlencoded body from ordered pairs (repeats allowed). */
export function form(pairs: Array<[string, string]> | Record<string, string>): string {
  const list = Array.isArray(pairs) ? pairs : Object.entries(pairs)
  return list.map(([k, v]) => `${formEncode(k)}=${formEncode(v)}`).join('&')
}

export const secrets = {
  reporter: generateClientSecret({ secretId: 'rep-1' }),
  reporterNext: generateClientSecret({ secretId: 'rep-2' }),
  reporterOld: generateClientSecret({ secretId: 'rep-0' }),
  basicOnly: generateClientSecret({ secretId: 'b-1' }),
  postOnly: generateClientSecret({ secretId: 'p-1' }),
  disabled: generateClientSecret({ secretId: 'd-1' }),
  noGrant: generateClientSecret({ secretId: 'n-1' }),
  /** A human-chosen secret with every character RFC 6749 Appendix B makes interesting. */
  imported: { secretId: 'imp-1', secret: 'p:a%s+s wörd:ü€' },
}

const hmac = (secret: string): Promise<string> => hashClientSecret(secret)

/** The clients every test file shares. */
export const clients: Client[] = [
  {
    client_id: 'reporter',
    client_name: 'Nightly reports',
    scope: 'reports:read reports:write orders:read',
    default_scope: 'reports:read',
    audiences: [REPORTS, ORDERS, 'orders-api'],
    access_token_ttl: 600,
    secrets: [
      { id: 'rep-1', hash: await hmac(secrets.reporter.secret) },
      { id: 'rep-2', hash: await hmac(secrets.reporterNext.secret) },
      // Rotated out an hour ago.
      {
        id: 'rep-0',
        hash: await hmac(secrets.reporterOld.secret),
        expires_at: Math.floor(Date.now() / 1000) - 3600,
      },
    ],
  },
  {
    client_id: 'basic-only',
    scope: 'orders:read',
    audiences: [ORDERS],
    token_endpoint_auth_method: 'client_secret_basic',
    secrets: [{ id: 'b-1', hash: await hmac(secrets.basicOnly.secret) }],
  },
  {
    client_id: 'post-only',
    scope: 'orders:read',
    audiences: [ORDERS],
    token_endpoint_auth_method: 'client_secret_post',
    access_token_ttl: 86_400,
    secrets: [{ id: 'p-1', hash: await hmac(secrets.postOnly.secret) }],
  },
  {
    client_id: 'disabled',
    scope: 'orders:read',
    audiences: [ORDERS],
    disabled: true,
    secrets: [{ id: 'd-1', hash: await hmac(secrets.disabled.secret) }],
  },
  {
    client_id: 'no-grant',
    scope: 'orders:read',
    audiences: [ORDERS],
    grant_types: ['authorization_code'],
    secrets: [{ id: 'n-1', hash: await hmac(secrets.noGrant.secret) }],
  },
  {
    // A client id with ':' and a space: a compliant client percent-encodes both in Basic.
    client_id: 'legacy: importer',
    scope: 'orders:read',
    audiences: [ORDERS],
    secrets: [
      {
        id: 'imp-1',
        hash: await hashClientSecret(secrets.imported.secret, { algorithm: 'scrypt' }),
      },
    ],
  },
]

export const clientStore = staticClientStore(clients)

/** The one signing key of {@link baseOptions}. */
export const baseKey: SigningKeyInput = {
  kid: signingKey.kid,
  alg: signingKey.alg,
  privateKey: signingKey.privateKey,
}

/** Minimal valid options; tests spread their changes over it. */
export function baseOptions(overrides: Partial<TokenEndpointOptions> = {}): TokenEndpointOptions {
  return {
    issuer: ISSUER,
    clients: clientStore,
    keys: [baseKey],
    ...overrides,
  }
}

/** An app with the token endpoint mounted at `mount` (default: the root). */
export function createApp(overrides: Partial<TokenEndpointOptions> = {}, mount?: string): Express {
  const app = express()
  const router = tokenEndpoint(baseOptions(overrides))
  if (mount === undefined) app.use(router)
  else app.use(mount, router)
  return app
}

/** An `onEvent` spy plus a helper to read the events of one type. */
export function eventSpy(): {
  onEvent: ReturnType<typeof vi.fn<(event: IssuerEvent) => void>>
  events: <T extends IssuerEvent['type']>(type: T) => Array<Extract<IssuerEvent, { type: T }>>
} {
  const onEvent = vi.fn<(event: IssuerEvent) => void>()
  return {
    onEvent,
    events: (type) =>
      onEvent.mock.calls
        .map(([event]) => event)
        .filter(
          (event): event is Extract<IssuerEvent, { type: typeof type }> => event.type === type,
        ),
  }
}

/** Asserts nothing; returns the no-store headers every token-route answer must carry. */
export const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' } as const
