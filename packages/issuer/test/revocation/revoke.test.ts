import request from 'supertest'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { type DenylistStore, memoryDenylist } from '../../src/revocation/denylist.js'
import { generateSigningKey, type SigningKeyInput } from '../../src/tokens/signing-keys.js'
import {
  basic,
  createApp,
  eventSpy,
  form,
  ISSUER,
  NO_STORE,
  secrets,
  signingKey,
} from '../helpers.js'

const REPORTER = basic('reporter', secrets.reporter.secret)
const BASIC_ONLY = basic('basic-only', secrets.basicOnly.secret)

/** A memory denylist whose `add` calls can be watched. */
function watchedStore() {
  const inner = memoryDenylist()
  const add = vi.fn((iss: string, jti: string, expiresAt: number) => inner.add(iss, jti, expiresAt))
  const store: DenylistStore = { add, has: (iss, jti) => inner.has(iss, jti) }
  return { store, add }
}

async function tokenFor(app: Parameters<typeof request>[0], auth = REPORTER): Promise<string> {
  const res = await request(app)
    .post('/token')
    .set('Authorization', auth)
    .type('form')
    .send(form({ grant_type: 'client_credentials' }))
  expect(res.status).toBe(200)
  return (res.body as { access_token: string }).access_token
}

function claimsOf(token: string): { jti: string; exp: number; iss: string } {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as {
    jti: string
    exp: number
    iss: string
  }
}

afterEach(() => {
  vi.useRealTimers()
})

describe('POST /revoke', () => {
  it('answers 200 with an empty body and lists the token until exp + 60 s', async () => {
    const { store, add } = watchedStore()
    const app = createApp({ revocation: { store } })
    const token = await tokenFor(app)
    const res = await request(app)
      .post('/revoke')
      .set('Authorization', REPORTER)
      .type('form')
      .send(form({ token }))
    expect(res.status).toBe(200)
    expect(res.text).toBe('')
    expect(res.headers).toMatchObject(NO_STORE)
    const { iss, jti, exp } = claimsOf(token)
    expect(add).toHaveBeenCalledWith(iss, jti, exp + 60)
    await expect(store.has(ISSUER, jti)).resolves.toBe(true)
  })

  it('reports token_revoked with the client, jti and exp to onEvent', async () => {
    const { store } = watchedStore()
    const spy = eventSpy()
    const app = createApp({ revocation: { store }, onEvent: spy.onEvent })
    const token = await tokenFor(app)
    await request(app)
      .post('/revoke')
      .set('Authorization', REPORTER)
      .type('form')
      .send(form({ token }))
    const { jti, exp } = claimsOf(token)
    const events = spy.events('token_revoked')
    expect(events).toHaveLength(1)
    expect(events[0]).toMatchObject({
      type: 'token_revoked',
      clientId: 'reporter',
      jti,
      expiresAt: exp,
    })
  })

  it("reports nothing when a client names another client's token", async () => {
    const { store } = watchedStore()
    const spy = eventSpy()
    const app = createApp({ revocation: { store }, onEvent: spy.onEvent })
    const token = await tokenFor(app)
    await request(app)
      .post('/revoke')
      .set('Authorization', BASIC_ONLY)
      .type('form')
      .send(form({ token }))
    expect(spy.events('token_revoked')).toEqual([])
  })

  it('authenticates with client_secret_post as well', async () => {
    const { store, add } = watchedStore()
    const app = createApp({ revocation: { store } })
    const token = await tokenFor(app)
    const res = await request(app)
      .post('/revoke')
      .type('form')
      .send(form({ token, client_id: 'reporter', client_secret: secrets.reporter.secret }))
    expect(res.status).toBe(200)
    expect(add).toHaveBeenCalledTimes(1)
  })

  it.each(['access_token', 'refresh_token', 'something_else'])(
    'accepts and ignores token_type_hint=%s (RFC 7009 §2.1)',
    async (hint) => {
      const { store, add } = watchedStore()
      const app = createApp({ revocation: { store } })
      const token = await tokenFor(app)
      const res = await request(app)
        .post('/revoke')
        .set('Authorization', REPORTER)
        .type('form')
        .send(form({ token, token_type_hint: hint }))
      expect(res.status).toBe(200)
      expect(add).toHaveBeenCalledTimes(1)
    },
  )

  it("answers 200 but lists nothing when a client revokes another client's token", async () => {
    const { store, add } = watchedStore()
    const app = createApp({ revocation: { store } })
    const token = await tokenFor(app)
    const res = await request(app)
      .post('/revoke')
      .set('Authorization', BASIC_ONLY)
      .type('form')
      .send(form({ token }))
    expect(res.status).toBe(200)
    expect(res.text).toBe('')
    expect(add).not.toHaveBeenCalled()
  })

  it.each([
    ['an unknown string', 'not-a-token'],
    ['a JWT-shaped string', 'eyJhbGciOiJIUzI1NiJ9.eyJqdGkiOiJ4In0.c2ln'],
    ['a huge string', 'a'.repeat(3000)],
  ])('answers 200 and lists nothing for %s (RFC 7009 §2.2)', async (_name, token) => {
    const { store, add } = watchedStore()
    const res = await request(createApp({ revocation: { store } }))
      .post('/revoke')
      .set('Authorization', REPORTER)
      .type('form')
      .send(form({ token }))
    expect(res.status).toBe(200)
    expect(res.text).toBe('')
    expect(add).not.toHaveBeenCalled()
  })

  it('answers 200 and lists nothing for a token signed by a key this issuer does not have', async () => {
    const { store, add } = watchedStore()
    const stranger = generateSigningKey('ES256', { kid: signingKey.kid })
    const foreign = createApp({
      keys: [{ kid: stranger.kid, alg: stranger.alg, privateKey: stranger.privateKey }],
    })
    const token = await tokenFor(foreign)
    const res = await request(createApp({ revocation: { store } }))
      .post('/revoke')
      .set('Authorization', REPORTER)
      .type('form')
      .send(form({ token }))
    expect(res.status).toBe(200)
    expect(add).not.toHaveBeenCalled()
  })

  it('answers 200 and lists nothing for an expired token', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    const { store, add } = watchedStore()
    const app = createApp({ revocation: { store } })
    const token = await tokenFor(app)
    vi.setSystemTime(Date.now() + 601_000)
    const res = await request(app)
      .post('/revoke')
      .set('Authorization', REPORTER)
      .type('form')
      .send(form({ token }))
    expect(res.status).toBe(200)
    expect(add).not.toHaveBeenCalled()
  })

  it('revokes a token signed before a key rotation with the now retired key', async () => {
    const { store, add } = watchedStore()
    const next = generateSigningKey('RS256', { kid: 'next-key' })
    const old: SigningKeyInput = {
      kid: signingKey.kid,
      alg: signingKey.alg,
      privateKey: signingKey.privateKey,
    }
    const token = await tokenFor(createApp())
    const rotated = createApp({
      keys: [
        { kid: next.kid, alg: next.alg, privateKey: next.privateKey, status: 'active' },
        { ...old, status: 'retired' },
      ],
      revocation: { store },
    })
    const res = await request(rotated)
      .post('/revoke')
      .set('Authorization', REPORTER)
      .type('form')
      .send(form({ token }))
    expect(res.status).toBe(200)
    expect(add).toHaveBeenCalledTimes(1)
  })

  it('answers 400 invalid_request without a token parameter', async () => {
    const res = await request(createApp({ revocation: { store: memoryDenylist() } }))
      .post('/revoke')
      .set('Authorization', REPORTER)
      .type('form')
      .send(form({ token_type_hint: 'access_token' }))
    expect(res.status).toBe(400)
    expect(res.body).toEqual({
      error: 'invalid_request',
      error_description: 'The token parameter is missing.',
    })
    expect(res.headers).toMatchObject(NO_STORE)
  })

  it('answers 400 invalid_request when token is sent twice', async () => {
    const res = await request(createApp({ revocation: { store: memoryDenylist() } }))
      .post('/revoke')
      .set('Authorization', REPORTER)
      .type('form')
      .send(
        form([
          ['token', 'a'],
          ['token', 'b'],
        ]),
      )
    expect(res.status).toBe(400)
    expect(res.body).toMatchObject({ error: 'invalid_request' })
  })

  it('answers 401 invalid_client with a Basic challenge when the secret is wrong', async () => {
    const { store, add } = watchedStore()
    const app = createApp({ revocation: { store } })
    const token = await tokenFor(app)
    const res = await request(app)
      .post('/revoke')
      .set('Authorization', basic('reporter', 'wrong'))
      .type('form')
      .send(form({ token }))
    expect(res.status).toBe(401)
    expect(res.body).toMatchObject({ error: 'invalid_client' })
    expect(res.headers['www-authenticate']).toBe('Basic realm="ccflow"')
    expect(add).not.toHaveBeenCalled()
  })

  it('answers 401 invalid_client without credentials', async () => {
    const res = await request(createApp({ revocation: { store: memoryDenylist() } }))
      .post('/revoke')
      .type('form')
      .send(form({ token: 'x' }))
    expect(res.status).toBe(401)
    expect(res.body).toMatchObject({ error: 'invalid_client' })
  })

  it('counts failed authentications against the same per-IP budget as the token route', async () => {
    const app = createApp({
      revocation: { store: memoryDenylist() },
      rateLimit: { failures: { limit: 2 }, issuance: false },
    })
    for (let i = 0; i < 2; i++) {
      const res = await request(app)
        .post('/revoke')
        .set('Authorization', basic('reporter', 'wrong'))
        .type('form')
        .send(form({ token: 'x' }))
      expect(res.status).toBe(401)
    }
    const res = await request(app)
      .post('/token')
      .set('Authorization', REPORTER)
      .type('form')
      .send(form({ grant_type: 'client_credentials' }))
    expect(res.status).toBe(429)
  })

  it('answers 503 with Retry-After when the denylist cannot record the revocation', async () => {
    const spy = eventSpy()
    const failing: DenylistStore = {
      add: () => Promise.reject(new Error('redis is down')),
      has: () => Promise.resolve(false),
    }
    const app = createApp({ revocation: { store: failing }, onEvent: spy.onEvent })
    const token = await tokenFor(app)
    const res = await request(app)
      .post('/revoke')
      .set('Authorization', REPORTER)
      .type('form')
      .send(form({ token }))
    expect(res.status).toBe(503)
    expect(res.body).toMatchObject({ error: 'temporarily_unavailable' })
    expect(res.headers['retry-after']).toBe('1')
    expect(res.headers).toMatchObject(NO_STORE)
    expect(JSON.stringify(res.body)).not.toContain('redis')
    expect(spy.events('server_error')).toHaveLength(1)
  })

  it('answers 405 with Allow: POST to other methods', async () => {
    const res = await request(createApp({ revocation: { store: memoryDenylist() } })).get('/revoke')
    expect(res.status).toBe(405)
    expect(res.headers.allow).toBe('POST')
  })

  it('is served at paths.revocation', async () => {
    const app = createApp({
      revocation: { store: memoryDenylist() },
      paths: { revocation: '/oauth/revoke' },
    })
    const res = await request(app)
      .post('/oauth/revoke')
      .set('Authorization', REPORTER)
      .type('form')
      .send(form({ token: 'x' }))
    expect(res.status).toBe(200)
  })

  it('is not served unless revocation is configured', async () => {
    const res = await request(createApp())
      .post('/revoke')
      .set('Authorization', REPORTER)
      .type('form')
      .send(form({ token: 'x' }))
    expect(res.status).toBe(404)
  })
})

describe('revocation in the metadata', () => {
  it('lists revocation_endpoint and its auth methods when revocation is on', async () => {
    const res = await request(createApp({ revocation: { store: memoryDenylist() } })).get(
      '/.well-known/oauth-authorization-server',
    )
    expect(res.body).toMatchObject({
      revocation_endpoint: `${ISSUER}/revoke`,
      revocation_endpoint_auth_methods_supported: [
        'client_secret_basic',
        'client_secret_post',
        'private_key_jwt',
      ],
      revocation_endpoint_auth_signing_alg_values_supported: ['ES256', 'EdDSA', 'PS256', 'RS256'],
    })
  })

  it('omits them when revocation is off', async () => {
    const res = await request(createApp()).get('/.well-known/oauth-authorization-server')
    expect(res.body).not.toHaveProperty('revocation_endpoint')
    expect(res.body).not.toHaveProperty('revocation_endpoint_auth_methods_supported')
  })
})

describe('tokenEndpoint revocation options', () => {
  it.each([
    [{ revocation: {} }, /option "revocation.store" must be a DenylistStore/],
    [{ revocation: { store: { add() {} } } }, /option "revocation.store"/],
    [{ revocation: true }, /option "revocation" must be an object/],
    [{ revocation: { store: memoryDenylist(), ttl: 1 } }, /unknown option "revocation.ttl"/],
    [{ paths: { revocation: '/token' } }, /option "paths" must give a different path/],
    [{ paths: { revocation: '/revoke/:id' } }, /option "paths.revocation"/],
  ])('throws a TypeError for %j', (overrides, message) => {
    expect(() => createApp(overrides as never)).toThrow(TypeError)
    expect(() => createApp(overrides as never)).toThrow(message)
  })
})
