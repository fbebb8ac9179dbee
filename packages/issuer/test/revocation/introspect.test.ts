import jwt from 'jsonwebtoken'
import request from 'supertest'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { type Client, staticClientStore } from '../../src/clients/client-store.js'
import { type DenylistStore, memoryDenylist } from '../../src/revocation/denylist.js'
import type { TokenEndpointOptions } from '../../src/options/types.js'
import { generateClientSecret, hashClientSecret } from '../../src/clients/secrets.js'
import { generateSigningKey } from '../../src/tokens/signing-keys.js'
import {
  basic,
  clients,
  createApp,
  form,
  ISSUER,
  NO_STORE,
  REPORTS,
  secrets,
  signingKey,
} from '../helpers.js'

const gatewaySecret = generateClientSecret({ secretId: 'gw-1' })
const gateway: Client = {
  client_id: 'gateway',
  scope: '',
  audiences: [REPORTS],
  introspection: true,
  secrets: [{ id: 'gw-1', hash: await hashClientSecret(gatewaySecret.secret) }],
}
const store = staticClientStore([...clients, gateway])
const GATEWAY = basic('gateway', gatewaySecret.secret)
const REPORTER = basic('reporter', secrets.reporter.secret)

function appWith(overrides: Partial<TokenEndpointOptions> = {}) {
  return createApp({ clients: store, introspection: true, ...overrides })
}

async function tokenFor(app: Parameters<typeof request>[0]): Promise<string> {
  const res = await request(app)
    .post('/token')
    .set('Authorization', REPORTER)
    .type('form')
    .send(form({ grant_type: 'client_credentials' }))
  expect(res.status).toBe(200)
  return (res.body as { access_token: string }).access_token
}

const introspect = (app: Parameters<typeof request>[0], token: string, auth = GATEWAY) =>
  request(app).post('/introspect').set('Authorization', auth).type('form').send(form({ token }))

afterEach(() => {
  vi.useRealTimers()
})

describe('POST /introspect', () => {
  it('answers an active token with the RFC 7662 members and nothing else', async () => {
    const app = appWith()
    const token = await tokenFor(app)
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as {
      iat: number
      exp: number
      jti: string
    }
    const res = await introspect(app, token)
    expect(res.status).toBe(200)
    expect(res.headers['content-type']).toBe('application/json')
    expect(res.headers).toMatchObject(NO_STORE)
    expect(res.body).toEqual({
      active: true,
      scope: 'reports:read',
      client_id: 'reporter',
      token_type: 'Bearer',
      exp: claims.exp,
      iat: claims.iat,
      sub: 'reporter',
      aud: REPORTS,
      iss: ISSUER,
      jti: claims.jti,
    })
  })

  it('includes nbf when one of our tokens carries one (RFC 7662 §2.2)', async () => {
    const now = Math.floor(Date.now() / 1000)
    const claims = {
      iss: ISSUER,
      sub: 'reporter',
      client_id: 'reporter',
      aud: REPORTS,
      scope: 'reports:read',
      iat: now - 10,
      nbf: now - 5,
      exp: now + 300,
      jti: 'with-nbf',
    }
    const token = jwt.sign(claims, signingKey.privateKey, {
      algorithm: 'ES256',
      header: { alg: 'ES256', kid: signingKey.kid, typ: 'at+jwt' },
    })
    const res = await introspect(appWith(), token)
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ active: true, token_type: 'Bearer', ...claims })
  })

  it('accepts client_secret_post and ignores token_type_hint', async () => {
    const app = appWith()
    const token = await tokenFor(app)
    const res = await request(app)
      .post('/introspect')
      .type('form')
      .send(
        form({
          token,
          token_type_hint: 'refresh_token',
          client_id: 'gateway',
          client_secret: gatewaySecret.secret,
        }),
      )
    expect(res.body).toMatchObject({ active: true })
  })

  it('answers { active: false } for a revoked token', async () => {
    const denylist = memoryDenylist()
    const app = appWith({ revocation: { store: denylist } })
    const token = await tokenFor(app)
    await request(app)
      .post('/revoke')
      .set('Authorization', REPORTER)
      .type('form')
      .send(form({ token }))
    const res = await introspect(app, token)
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ active: false })
  })

  it('answers { active: false } for an expired token', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    const app = appWith()
    const token = await tokenFor(app)
    vi.setSystemTime(Date.now() + 600_000)
    expect((await introspect(app, token)).body).toEqual({ active: false })
  })

  it('answers { active: false } for a token of another issuer signed with our key', async () => {
    const other = appWith({ issuer: 'https://other.example.test' })
    const token = await tokenFor(other)
    expect((await introspect(appWith(), token)).body).toEqual({ active: false })
  })

  it('answers { active: false } for a token signed by a key we do not have', async () => {
    const stranger = generateSigningKey('ES256', { kid: 'test-es256' })
    const token = await tokenFor(
      appWith({
        keys: [{ kid: stranger.kid, alg: stranger.alg, privateKey: stranger.privateKey }],
      }),
    )
    expect((await introspect(appWith(), token)).body).toEqual({ active: false })
  })

  it.each([
    ['garbage', 'garbage'],
    ['a tampered token', 'TAMPER'],
    ['a 3 KiB string', 'x'.repeat(3000)],
  ])('answers { active: false } for %s', async (_name, value) => {
    const app = appWith()
    const token = value === 'TAMPER' ? `${await tokenFor(app)}x` : value
    const res = await introspect(app, token)
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ active: false })
  })

  it('answers 400 unauthorized_client to a client not allowed to introspect', async () => {
    const app = appWith()
    const token = await tokenFor(app)
    const res = await introspect(app, token, REPORTER)
    expect(res.status).toBe(400)
    expect(res.body).toEqual({
      error: 'unauthorized_client',
      error_description: 'The client is not allowed to introspect tokens.',
    })
  })

  it('answers 400 invalid_request without a token parameter', async () => {
    const res = await request(appWith())
      .post('/introspect')
      .set('Authorization', GATEWAY)
      .type('form')
      .send('')
    expect(res.status).toBe(400)
    expect(res.body).toMatchObject({ error: 'invalid_request' })
  })

  it('answers 401 invalid_client when the caller cannot authenticate', async () => {
    const res = await introspect(appWith(), 'x', basic('gateway', 'wrong'))
    expect(res.status).toBe(401)
    expect(res.body).toMatchObject({ error: 'invalid_client' })
    expect(res.headers['www-authenticate']).toBe('Basic realm="ccflow"')
  })

  it('answers 503 rather than "active" when the denylist cannot answer', async () => {
    const failing: DenylistStore = {
      add: () => Promise.resolve(),
      has: () => Promise.reject(new Error('redis is down')),
    }
    const app = appWith({ revocation: { store: failing }, onEvent: () => {} })
    const token = await tokenFor(app)
    const res = await introspect(app, token)
    expect(res.status).toBe(503)
    expect(res.body).toMatchObject({ error: 'temporarily_unavailable' })
    expect(res.headers['retry-after']).toBe('1')
  })

  it('is served at paths.introspection and not at all unless introspection is on', async () => {
    const custom = appWith({ paths: { introspection: '/oauth/introspect' } })
    const res = await request(custom)
      .post('/oauth/introspect')
      .set('Authorization', GATEWAY)
      .type('form')
      .send(form({ token: 'x' }))
    expect(res.body).toEqual({ active: false })
    const off = createApp({ clients: store })
    expect((await introspect(off, 'x')).status).toBe(404)
  })
})

describe('introspection in the metadata', () => {
  it('lists introspection_endpoint and its auth methods when introspection is on', async () => {
    const res = await request(appWith()).get('/.well-known/oauth-authorization-server')
    expect(res.body).toMatchObject({
      introspection_endpoint: `${ISSUER}/introspect`,
      introspection_endpoint_auth_methods_supported: [
        'client_secret_basic',
        'client_secret_post',
        'private_key_jwt',
      ],
      introspection_endpoint_auth_signing_alg_values_supported: [
        'ES256',
        'EdDSA',
        'PS256',
        'RS256',
      ],
    })
  })

  it('omits them when introspection is off', async () => {
    const res = await request(createApp()).get('/.well-known/oauth-authorization-server')
    expect(res.body).not.toHaveProperty('introspection_endpoint')
  })

  it('throws a TypeError when introspection is not a boolean', () => {
    expect(() => createApp({ introspection: 'yes' as unknown as boolean })).toThrow(
      /option "introspection" must be a boolean/,
    )
  })
})
