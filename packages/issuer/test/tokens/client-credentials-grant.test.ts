import { decodeJwt } from 'jose'
import request from 'supertest'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { staticClientStore } from '../../src/clients/client-store.js'
import { generateClientSecret, hashClientSecret } from '../../src/clients/secrets.js'
import {
  ISSUER,
  NO_STORE,
  ORDERS,
  REPORTS,
  basic,
  clients,
  createApp,
  eventSpy,
  form,
  secrets,
} from '../helpers.js'

const auth = basic('reporter', secrets.reporter.secret)

async function token(
  body: string,
  app = defaultApp,
  authorization = auth,
): Promise<request.Response> {
  return request(app).post('/token').type('form').set('Authorization', authorization).send(body)
}

const spy = eventSpy()
const defaultApp = createApp({ rateLimit: false, onEvent: spy.onEvent })
afterEach(() => spy.onEvent.mockClear())

function claimsOf(res: request.Response): Record<string, unknown> {
  return decodeJwt((res.body as { access_token: string }).access_token)
}

describe('grant_type', () => {
  it('answers 400 invalid_request when grant_type is missing', async () => {
    const res = await token(form({ scope: 'reports:read' }))
    expect(res.status).toBe(400)
    expect(res.body).toEqual({
      error: 'invalid_request',
      error_description: 'The grant_type parameter is missing.',
    })
    expect(res.headers).toMatchObject(NO_STORE)
  })

  it('treats an empty grant_type as missing (RFC 6749 §3.2)', async () => {
    const res = await token('grant_type=')
    expect((res.body as { error: string }).error).toBe('invalid_request')
  })

  it.each(['password', 'authorization_code', 'CLIENT_CREDENTIALS', 'client_credentials '])(
    'answers 400 unsupported_grant_type for %j',
    async (grantType) => {
      const res = await token(form({ grant_type: grantType }))
      expect(res.status).toBe(400)
      expect(res.body).toEqual({
        error: 'unsupported_grant_type',
        error_description: 'The grant type is not supported by this token endpoint.',
      })
      expect(res.text).not.toContain(grantType)
    },
  )

  it('answers 400 unauthorized_client when the client may not use the grant', async () => {
    const res = await token(
      form({ grant_type: 'client_credentials' }),
      defaultApp,
      basic('no-grant', secrets.noGrant.secret),
    )
    expect(res.status).toBe(400)
    expect(res.body).toEqual({
      error: 'unauthorized_client',
      error_description: 'The client is not authorized to use this grant type.',
    })
    expect(spy.events('token_request_rejected')).toEqual([
      {
        type: 'token_request_rejected',
        error: 'unauthorized_client',
        reason: 'grant_not_allowed',
        clientId: 'no-grant',
        ip: expect.any(String) as unknown,
      },
    ])
  })
})

describe('scope', () => {
  it("grants the client's default scope when none is requested", async () => {
    const res = await token(form({ grant_type: 'client_credentials' }))
    expect((res.body as { scope: string }).scope).toBe('reports:read')
    expect(claimsOf(res).scope).toBe('reports:read')
  })

  it('leaves scope out of the response when the client has no scope at all (RFC 6749 §5.1)', async () => {
    const secret = generateClientSecret({ secretId: 'u-1' })
    const app = createApp({
      rateLimit: false,
      clients: staticClientStore([
        ...clients,
        {
          client_id: 'unscoped',
          scope: '',
          audiences: [REPORTS],
          secrets: [{ id: 'u-1', hash: await hashClientSecret(secret.secret) }],
        },
      ]),
    })
    const res = await token(
      form({ grant_type: 'client_credentials' }),
      app,
      basic('unscoped', secret.secret),
    )
    expect(res.status).toBe(200)
    expect(Object.keys(res.body as object)).toEqual(['access_token', 'token_type', 'expires_in'])
    expect(claimsOf(res).scope).toBe('')
  })

  it('treats an empty scope as absent', async () => {
    const res = await token('grant_type=client_credentials&scope=')
    expect((res.body as { scope: string }).scope).toBe('reports:read')
  })

  it('grants and echoes a requested subset, duplicates collapsed', async () => {
    const res = await token(
      form({ grant_type: 'client_credentials', scope: 'orders:read reports:write orders:read' }),
    )
    expect(res.status).toBe(200)
    expect((res.body as { scope: string }).scope).toBe('orders:read reports:write')
    expect(claimsOf(res).scope).toBe('orders:read reports:write')
  })

  it('answers 400 invalid_scope when the scope exceeds the client scope', async () => {
    const res = await token(form({ grant_type: 'client_credentials', scope: 'reports:read admin' }))
    expect(res.status).toBe(400)
    expect(res.body).toEqual({
      error: 'invalid_scope',
      error_description: 'The requested scope exceeds the scope granted to the client.',
    })
    expect(res.text).not.toContain('admin')
    expect(spy.events('token_request_rejected')[0]).toMatchObject({
      error: 'invalid_scope',
      reason: 'scope_not_allowed',
      clientId: 'reporter',
    })
  })

  it.each(['reports:read  orders:read', ' reports:read', 'reports:read\torders:read', 'a"b'])(
    'answers 400 invalid_scope for the malformed scope %j',
    async (scope) => {
      const res = await token(form({ grant_type: 'client_credentials', scope }))
      expect(res.status).toBe(400)
      expect(res.body).toEqual({
        error: 'invalid_scope',
        error_description: 'The scope parameter is malformed.',
      })
    },
  )

  it('answers 400 invalid_request when scope is sent twice', async () => {
    const res = await token('grant_type=client_credentials&scope=reports:read&scope=orders:read')
    expect(res.status).toBe(400)
    expect(res.body).toEqual({
      error: 'invalid_request',
      error_description: 'A request parameter was sent more than once.',
    })
  })
})

describe('resource and audience', () => {
  it("uses the client's default audience when none is requested", async () => {
    const res = await token(form({ grant_type: 'client_credentials' }))
    expect(claimsOf(res).aud).toBe(REPORTS)
  })

  it('uses one requested resource as a string aud', async () => {
    const res = await token(form({ grant_type: 'client_credentials', resource: ORDERS }))
    expect(res.status).toBe(200)
    expect(claimsOf(res).aud).toBe(ORDERS)
  })

  it('uses several resources as an array aud in request order, duplicates collapsed', async () => {
    const res = await token(
      form([
        ['grant_type', 'client_credentials'],
        ['resource', ORDERS],
        ['resource', REPORTS],
        ['resource', ORDERS],
      ]),
    )
    expect(res.status).toBe(200)
    expect(claimsOf(res).aud).toEqual([ORDERS, REPORTS])
  })

  it('accepts the audience alias, including a logical (non-URI) name', async () => {
    const res = await token(form({ grant_type: 'client_credentials', audience: 'orders-api' }))
    expect(res.status).toBe(200)
    expect(claimsOf(res).aud).toBe('orders-api')
  })

  it('combines resource and audience', async () => {
    const res = await token(
      form({ grant_type: 'client_credentials', resource: ORDERS, audience: 'orders-api' }),
    )
    expect(claimsOf(res).aud).toEqual([ORDERS, 'orders-api'])
  })

  it.each([
    ['a resource the client may not use', 'https://api.example.test/admin'],
    ['a relative resource', '/orders'],
    ['a resource with a fragment', `${ORDERS}#x`],
    ['a logical name sent as resource', 'orders-api'],
  ])('answers 400 invalid_target for %s', async (_label, resource) => {
    const res = await token(form({ grant_type: 'client_credentials', resource }))
    expect(res.status).toBe(400)
    expect((res.body as { error: string }).error).toBe('invalid_target')
    expect(res.text).not.toContain(resource)
  })

  it('answers 400 invalid_target for an audience the client may not use', async () => {
    const res = await token(form({ grant_type: 'client_credentials', audience: 'billing' }))
    expect(res.status).toBe(400)
    expect(res.body).toEqual({
      error: 'invalid_target',
      error_description: 'The requested resource or audience is not allowed for this client.',
    })
  })
})

describe('token lifetime', () => {
  it("uses the client's access_token_ttl", async () => {
    const res = await token(form({ grant_type: 'client_credentials' }))
    expect((res.body as { expires_in: number }).expires_in).toBe(600)
  })

  it('caps a client ttl at maxAccessTokenTtlSeconds', async () => {
    const res = await request(createApp({ rateLimit: false }))
      .post('/token')
      .type('form')
      .send(
        form({
          grant_type: 'client_credentials',
          client_id: 'post-only',
          client_secret: secrets.postOnly.secret,
        }),
      )
    expect((res.body as { expires_in: number }).expires_in).toBe(3600)
    const claims = claimsOf(res)
    expect((claims.exp as number) - (claims.iat as number)).toBe(3600)
  })

  it('uses accessTokenTtlSeconds for clients without their own', async () => {
    const res = await request(createApp({ rateLimit: false, accessTokenTtlSeconds: 120 }))
      .post('/token')
      .set('Authorization', basic('basic-only', secrets.basicOnly.secret))
      .type('form')
      .send(form({ grant_type: 'client_credentials' }))
    expect((res.body as { expires_in: number }).expires_in).toBe(120)
  })
})

describe('extraClaims', () => {
  it('adds the claims an async hook returns and passes it the client, scope and audience', async () => {
    const extraClaims = vi.fn(() => Promise.resolve({ tenant: 'acme' }))
    const res = await token(
      form({ grant_type: 'client_credentials', scope: 'orders:read', resource: ORDERS }),
      createApp({ rateLimit: false, extraClaims }),
    )
    expect(res.status).toBe(200)
    expect(claimsOf(res)).toMatchObject({ tenant: 'acme', iss: ISSUER, aud: ORDERS })
    expect(extraClaims).toHaveBeenCalledWith({
      client: expect.objectContaining({ client_id: 'reporter' }) as unknown,
      scope: 'orders:read',
      audience: ORDERS,
    })
  })

  it('cannot override a reserved claim: the request fails with a generic 500', async () => {
    const local = eventSpy()
    const res = await token(
      form({ grant_type: 'client_credentials' }),
      createApp({
        rateLimit: false,
        extraClaims: () => ({ sub: 'admin' }),
        onEvent: local.onEvent,
      }),
    )
    expect(res.status).toBe(500)
    expect(res.body).toEqual({
      error: 'server_error',
      error_description: 'The server encountered an unexpected error.',
    })
    expect(local.events('server_error')).toHaveLength(1)
    expect(local.events('token_issued')).toHaveLength(0)
  })

  it('answers a generic 500 when the hook rejects', async () => {
    const res = await token(
      form({ grant_type: 'client_credentials' }),
      createApp({
        rateLimit: false,
        extraClaims: () => Promise.reject(new Error('lookup failed')),
        onEvent: () => {},
      }),
    )
    expect(res.status).toBe(500)
    expect(res.text).not.toContain('lookup failed')
  })
})

describe('events', () => {
  it('reports token_issued with the jti and expiry of the token', async () => {
    const res = await token(form({ grant_type: 'client_credentials', resource: ORDERS }))
    const claims = claimsOf(res)
    expect(spy.events('token_issued')).toEqual([
      {
        type: 'token_issued',
        clientId: 'reporter',
        scope: 'reports:read',
        audience: ORDERS,
        jti: claims.jti,
        expiresAt: claims.exp,
        ip: expect.any(String) as unknown,
      },
    ])
  })

  it('still answers 200 when the onEvent hook throws', async () => {
    const res = await token(
      form({ grant_type: 'client_credentials' }),
      createApp({
        rateLimit: false,
        onEvent: () => {
          throw new Error('logger down')
        },
      }),
    )
    expect(res.status).toBe(200)
  })

  it('still answers when the onEvent hook returns a rejected promise', async () => {
    const hook = (): Promise<void> => Promise.reject(new Error('async logger down'))
    const res = await token(
      form({ grant_type: 'client_credentials' }),
      // The lint rule is the point: an app that passes an async hook anyway must be safe.
      // eslint-disable-next-line @typescript-eslint/no-misused-promises
      createApp({ rateLimit: false, onEvent: hook }),
    )
    expect(res.status).toBe(200)
  })
})
