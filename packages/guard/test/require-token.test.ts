import { connect } from 'node:net'
import type { AddressInfo } from 'node:net'
import type { Server } from 'node:http'
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import request from 'supertest'
import { requireToken } from '../src/index.js'
import type { RequireTokenOptions } from '../src/index.js'
import { jwks, json, startKeyServer, testKey } from '../../core/test/jwks-server.js'
import type { TestKeyServer } from '../../core/test/jwks-server.js'
import {
  accessClaims,
  AUDIENCE,
  b64url,
  bodyOf,
  craftToken,
  createApp,
  ecKeyPair,
  HMAC_SECRET,
  ISSUER,
  nowSeconds,
  rsaKeyPair,
  signToken,
} from './helpers.js'

const rsa = rsaKeyPair()
const attacker = rsaKeyPair()
const ec = ecKeyPair()
const HEADER = { alg: 'RS256', typ: 'at+jwt', kid: 'k1' }

function guardOptions(overrides: Partial<RequireTokenOptions> = {}): RequireTokenOptions {
  return {
    issuer: ISSUER,
    audience: AUDIENCE,
    keys: [
      { key: rsa.publicKey, kid: 'k1' },
      { key: ec.publicKey, kid: 'e1' },
    ],
    ...overrides,
  }
}

const app = createApp(requireToken(guardOptions()))

function good(claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}): string {
  return craftToken({ ...HEADER, ...header }, accessClaims(claims), rsa.privateKey)
}

function challenge(description: string, code = 'invalid_token'): string {
  return `Bearer realm="api", error="${code}", error_description="${description}"`
}

async function expectStillServing(): Promise<void> {
  await request(app).get('/health').expect(200, { ok: true })
}

afterEach(() => {
  vi.useRealTimers()
})

describe('GET /api with a valid token', () => {
  it('sets req.auth with claims, scopes, client id and header', async () => {
    const res = await request(app).get('/api').set('Authorization', `Bearer ${good()}`)
    expect(res.status).toBe(200)
    expect(res.body).toEqual({
      clientId: 'billing-service',
      scopes: ['reports:read', 'reports:write'],
      sub: 'billing-service',
      kid: 'k1',
    })
  })

  it('accepts the scheme in any letter case and several spaces before the token', async () => {
    const token = good()
    await request(app).get('/api').set('Authorization', `bearer ${token}`).expect(200)
    await request(app).get('/api').set('Authorization', `BEARER    ${token}`).expect(200)
  })

  it('accepts an ES256 token for the EC key', async () => {
    const token = craftToken(
      { alg: 'ES256', typ: 'at+jwt', kid: 'e1' },
      accessClaims(),
      ec.privateKey,
    )
    await request(app).get('/api').set('Authorization', `Bearer ${token}`).expect(200)
  })

  it('accepts a token made by jose SignJWT in the RFC 9068 shape', async () => {
    const token = await signToken(accessClaims(), rsa.privateKey, { kid: 'k1' })
    await request(app).get('/api').set('Authorization', `Bearer ${token}`).expect(200)
  })
})

describe('GET /api without a bearer token', () => {
  it('answers 401 with a bare challenge and no error code when no token is sent', async () => {
    const res = await request(app).get('/api')
    expect(res.status).toBe(401)
    expect(res.headers['www-authenticate']).toBe('Bearer realm="api"')
    expect(res.headers['cache-control']).toBe('no-store')
    expect(res.headers['content-type']).toMatch(/^application\/json/)
    expect(res.body).toEqual({
      error: 'unauthorized',
      error_description: 'A bearer token is required',
      reason: 'missing_token',
    })
  })

  it('answers 401 with a bare challenge when another scheme is used', async () => {
    const res = await request(app).get('/api').set('Authorization', 'Basic dXNlcjpwYXNz')
    expect(res.status).toBe(401)
    expect(res.headers['www-authenticate']).toBe('Bearer realm="api"')
    expect(bodyOf(res).reason).toBe('unsupported_scheme')
  })

  it('uses the configured realm in the challenge', async () => {
    const orders = createApp(requireToken(guardOptions({ realm: 'orders' })))
    const res = await request(orders).get('/api')
    expect(res.headers['www-authenticate']).toBe('Bearer realm="orders"')
  })
})

describe('GET /api with a malformed request', () => {
  it('answers 400 invalid_request when the scheme has no token', async () => {
    const res = await request(app).get('/api').set('Authorization', 'Bearer')
    expect(res.status).toBe(400)
    expect(res.headers['www-authenticate']).toBe(
      challenge('The Authorization header is malformed', 'invalid_request'),
    )
    expect(res.body).toEqual({
      error: 'invalid_request',
      error_description: 'The Authorization header is malformed',
      reason: 'malformed_authorization',
    })
  })

  it('answers 400 when the token breaks the b64token grammar', async () => {
    const res = await request(app).get('/api').set('Authorization', 'Bearer abc def')
    expect(res.status).toBe(400)
    expect(bodyOf(res).reason).toBe('malformed_authorization')
  })

  it('answers 400 when the Authorization header is repeated', async () => {
    const token = good()
    const res = await request(app)
      .get('/api')
      .set('Authorization', [`Bearer ${token}`, `Bearer ${token}`] as unknown as string)
    expect(res.status).toBe(400)
    expect(bodyOf(res).reason).toBe('multiple_authorization_headers')
  })

  it('answers 400 when two bearer credentials are joined with a comma', async () => {
    const token = good()
    const res = await request(app)
      .get('/api')
      .set('Authorization', `Bearer ${token}, Bearer ${token}`)
    expect(res.status).toBe(400)
    expect(bodyOf(res).reason).toBe('multiple_authorization_headers')
  })

  it('answers 400 naming the body when a form-body token is sent but body tokens are off', async () => {
    const res = await request(app).post('/api').type('form').send({ access_token: good() })
    expect(res.status).toBe(400)
    expect(res.body).toEqual({
      error: 'invalid_request',
      error_description: 'Tokens in the request body are not accepted',
      reason: 'body_token_disabled',
    })
  })

  it('answers 400 naming the query when a query token is sent but query tokens are off', async () => {
    const res = await request(app).get(`/api?access_token=${good()}`)
    expect(res.status).toBe(400)
    expect(res.body).toEqual({
      error: 'invalid_request',
      error_description: 'Tokens in the query string are not accepted',
      reason: 'query_token_disabled',
    })
  })
})

describe('tokenLocations', () => {
  const open = createApp(
    requireToken(guardOptions({ tokenLocations: { body: true, query: true } })),
  )

  it('accepts a token in the form body when enabled', async () => {
    await request(open).post('/api').type('form').send({ access_token: good() }).expect(200)
  })

  it('accepts a token in the query when enabled', async () => {
    await request(open).get(`/api?access_token=${good()}`).expect(200)
  })

  it('answers 400 (not 500, not 200) when req.query would hold an array of tokens', async () => {
    const enabled = createApp(requireToken(guardOptions({ tokenLocations: { query: true } })))
    for (const query of [`access_token[]=x&access_token=${good()}`, `access_token[a]=${good()}`]) {
      const res = await request(enabled).get(`/api?${query}`)
      expect(res.status).toBe(400)
      expect(bodyOf(res)).toEqual({
        error: 'invalid_request',
        error_description: 'The access_token parameter is malformed',
        reason: 'malformed_token_parameter',
      })
      expect(res.headers['www-authenticate']).toBe(
        challenge('The access_token parameter is malformed', 'invalid_request'),
      )
    }
  })

  it('answers 400 when a token is sent in two locations', async () => {
    const token = good()
    const res = await request(open)
      .get(`/api?access_token=${token}`)
      .set('Authorization', `Bearer ${token}`)
    expect(res.status).toBe(400)
    expect(bodyOf(res).reason).toBe('multiple_token_locations')
  })

  it('ignores an access_token field in a JSON body', async () => {
    const res = await request(open).post('/api').send({ access_token: good() })
    expect(res.status).toBe(401)
    expect(bodyOf(res).reason).toBe('missing_token')
  })
})

describe('OPTIONS /api', () => {
  it('passes a CORS preflight untouched', async () => {
    await request(app)
      .options('/api')
      .set('Origin', 'https://app.example.com')
      .set('Access-Control-Request-Method', 'GET')
      .expect(204)
  })

  it('guards an OPTIONS request that is not a preflight', async () => {
    await request(app).options('/api').expect(401)
  })
})

describe('credentialsOptional', () => {
  const optional = createApp(requireToken(guardOptions({ credentialsOptional: true })))

  it('lets a request without a token through with req.auth undefined', async () => {
    const res = await request(optional).get('/api')
    expect(res.status).toBe(200)
    expect(bodyOf(res).clientId).toBeNull()
    expect(bodyOf(res).scopes).toBeNull()
  })

  it('still rejects an invalid token', async () => {
    const res = await request(optional)
      .get('/api')
      .set('Authorization', `Bearer ${good({ iss: 'https://evil.example' })}`)
    expect(res.status).toBe(401)
    expect(bodyOf(res).reason).toBe('wrong_issuer')
  })
})

describe('passErrors', () => {
  const passing = createApp(requireToken(guardOptions({ passErrors: true })))

  it('hands an InvalidTokenError to next(err)', async () => {
    const res = await request(passing)
      .get('/api')
      .set('Authorization', `Bearer ${good({ exp: 1 })}`)
    expect(res.status).toBe(599)
    expect(res.body).toEqual({
      name: 'InvalidTokenError',
      status: 401,
      code: 'invalid_token',
      reason: 'token_expired',
    })
  })

  it('hands an UnauthorizedError (code unauthorized) to next(err)', async () => {
    const res = await request(passing).get('/api')
    expect(res.body).toEqual({
      name: 'UnauthorizedError',
      status: 401,
      code: 'unauthorized',
      reason: 'missing_token',
    })
  })
})

describe('scopes', () => {
  const scoped = createApp(requireToken(guardOptions({ scopes: ['reports:read'] })))
  const both = createApp(requireToken(guardOptions({ scopes: ['reports:read', 'admin'] })))

  it('lets a token through that grants every listed scope', async () => {
    const res = await request(scoped).get('/api').set('Authorization', `Bearer ${good()}`)
    expect(res.status).toBe(200)
    expect(bodyOf(res).scopes).toEqual(['reports:read', 'reports:write'])
  })

  it('answers 403 insufficient_scope naming every listed scope when one is missing (RFC 6750 §3.1)', async () => {
    const res = await request(both).get('/api').set('Authorization', `Bearer ${good()}`)
    expect(res.status).toBe(403)
    expect(res.headers['www-authenticate']).toBe(
      'Bearer realm="api", error="insufficient_scope", error_description="The token does not grant the required scope", scope="reports:read admin"',
    )
  })

  it('answers 403 from the cache as well as on the first verification', async () => {
    const token = good({ scope: 'reports:write' })
    await request(scoped).get('/api').set('Authorization', `Bearer ${token}`).expect(403)
    await request(scoped).get('/api').set('Authorization', `Bearer ${token}`).expect(403)
  })

  it('hands an InsufficientScopeError to next(err) with passErrors', async () => {
    const passing = createApp(requireToken(guardOptions({ scopes: ['admin'], passErrors: true })))
    const res = await request(passing).get('/api').set('Authorization', `Bearer ${good()}`)
    expect(res.body).toMatchObject({ status: 403, code: 'insufficient_scope' })
  })

  it.each([
    [[], /option "scopes" must be a non-empty array of scopes/],
    [
      'reports:read admin',
      /option "scopes" must be an array of scopes, as scopes: \['reports:read', 'admin'\]/,
    ],
    [
      ['reports:read admin'],
      /option "scopes" must list each scope as its own item, not space-delimited/,
    ],
    [['a"b'], /option "scopes" must hold only RFC 6749 scope tokens/],
    [[42], /option "scopes" must hold only RFC 6749 scope tokens/],
  ])('refuses scopes %j at setup', (scopes, message) => {
    expect(() => requireToken(guardOptions({ scopes: scopes as string[] }))).toThrow(message)
  })

  it('refuses scopes beside credentialsOptional, which lets requests without scopes through', () => {
    expect(() =>
      requireToken(guardOptions({ scopes: ['reports:read'], credentialsOptional: true })),
    ).toThrow(/option "scopes" cannot be combined with "credentialsOptional"/)
  })
})

describe('the verified-token cache', () => {
  it('verifies a forged token that copies a cached token’s signature instead of serving the cached result', async () => {
    const guarded = createApp(requireToken(guardOptions()))
    const token = good()
    await request(guarded).get('/api').set('Authorization', `Bearer ${token}`).expect(200)
    const signature = token.slice(token.lastIndexOf('.') + 1)
    const forged = `${craftToken(HEADER, accessClaims({ scope: 'admin' }))}${signature}`
    expect(forged.slice(-43)).toBe(token.slice(-43))
    const res = await request(guarded).get('/api').set('Authorization', `Bearer ${forged}`)
    expect(res.status).toBe(401)
    expect(bodyOf(res).reason).toBe('bad_signature')
    // The genuine token's entry is still there and still answers.
    await request(guarded).get('/api').set('Authorization', `Bearer ${token}`).expect(200)
  })

  it('answers 400 malformed_authorization, not 401 too_large, to an oversized token outside b64token', async () => {
    const guarded = createApp(requireToken(guardOptions()))
    const res = await request(guarded)
      .get('/api')
      .set('Authorization', `Bearer ${'a'.repeat(9000)}!`)
    expect(res.status).toBe(400)
    expect(bodyOf(res).reason).toBe('malformed_authorization')
    const long = await request(guarded)
      .get('/api')
      .set('Authorization', `Bearer ${'a'.repeat(9000)}`)
    expect(long.status).toBe(401)
    expect(bodyOf(long).reason).toBe('too_large')
  })

  it('still answers 400 to a cached token followed by a comma or a character outside b64token', async () => {
    const guarded = createApp(requireToken(guardOptions()))
    const token = good()
    await request(guarded).get('/api').set('Authorization', `Bearer ${token}`).expect(200)
    const joined = await request(guarded).get('/api').set('Authorization', `Bearer ${token}, x`)
    expect(joined.status).toBe(400)
    expect(bodyOf(joined).reason).toBe('multiple_authorization_headers')
    const broken = await request(guarded).get('/api').set('Authorization', `Bearer ${token}!`)
    expect(broken.status).toBe(400)
    expect(bodyOf(broken).reason).toBe('malformed_authorization')
  })
})

describe('ready', () => {
  it('is resolved for static keys', async () => {
    await expect(requireToken(guardOptions()).ready).resolves.toBeUndefined()
  })
})

describe('stats', () => {
  it("reports the guard's keys and its verified-token cache", async () => {
    const guard = requireToken(guardOptions())
    const app = createApp(guard)
    const token = good()
    await request(app).get('/api').set('Authorization', `Bearer ${token}`)
    await request(app).get('/api').set('Authorization', `Bearer ${token}`)
    expect(guard.stats()).toEqual({
      keySource: 'static',
      keys: 2,
      cache: { size: 1, max: 1000, hits: 1, misses: 1 },
      jwks: undefined,
    })
  })
})

describe('the attack catalogue', () => {
  async function expect401(token: string, reason: string, description?: string): Promise<void> {
    const res = await request(app).get('/api').set('Authorization', `Bearer ${token}`)
    expect(res.status).toBe(401)
    expect(bodyOf(res).error).toBe('invalid_token')
    expect(bodyOf(res).reason).toBe(reason)
    if (description !== undefined) {
      expect(bodyOf(res).error_description).toBe(description)
      expect(res.headers['www-authenticate']).toBe(challenge(description))
    }
    expect(res.headers['cache-control']).toBe('no-store')
    expect(JSON.stringify(res.body)).not.toContain(token.slice(0, 20))
    await expectStillServing()
  }

  it.each(['none', 'None', 'NONE', 'nOnE'])('rejects alg %s', async (alg) => {
    const token = craftToken({ alg, typ: 'at+jwt', kid: 'k1' }, accessClaims())
    await expect401(token, 'unsupported_alg', 'The token algorithm is not accepted')
  })

  it('rejects alg none with a signature appended', async () => {
    const token = craftToken({ alg: 'none', typ: 'at+jwt' }, accessClaims()) + 'c2ln'
    await expect401(token, 'unsupported_alg')
  })

  it.each([
    ['SPKI PEM', (): string => rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string],
    ['PKCS#1 PEM', (): string => rsa.publicKey.export({ type: 'pkcs1', format: 'pem' }) as string],
    ['JWK JSON', (): string => JSON.stringify(rsa.publicKey.export({ format: 'jwk' }))],
  ])('rejects HS256 signed with the RSA public key as %s', async (_name, material) => {
    const token = craftToken(
      { alg: 'HS256', typ: 'at+jwt', kid: 'k1' },
      accessClaims(),
      material(),
      'HS256',
    )
    await expect401(token, 'unsupported_alg')
  })

  it('rejects HS256 signed with the RSA public key even when an HMAC secret is configured', async () => {
    const mixed = createApp(
      requireToken(
        guardOptions({
          keys: [
            { key: rsa.publicKey, kid: 'k1' },
            { secret: HMAC_SECRET, kid: 'h1' },
          ],
        }),
      ),
    )
    const pem = rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string
    for (const kid of ['k1', 'h1']) {
      const token = craftToken({ alg: 'HS256', typ: 'at+jwt', kid }, accessClaims(), pem, 'HS256')
      const res = await request(mixed).get('/api').set('Authorization', `Bearer ${token}`)
      expect(res.status).toBe(401)
      expect(bodyOf(res).error).toBe('invalid_token')
    }
  })

  it('rejects an unknown kid', async () => {
    await expect401(good({}, { kid: 'nope' }), 'unknown_kid', 'The token signing key is unknown')
  })

  it.each(['../../etc/passwd', "' OR 1=1 --", '{"$ne":null}'])('rejects kid %s', async (kid) => {
    await expect401(good({}, { kid }), 'unknown_kid')
  })

  describe('with jku, x5u, jwk and x5c headers pointing elsewhere', () => {
    let server: TestKeyServer
    beforeAll(async () => {
      server = await startKeyServer()
      const evil = testKey('k1')
      server.route('/jwks.json', json(jwks(evil)))
      server.route('/cert.pem', json({}))
      return () => server.close()
    })

    it.each([
      ['jku', (): unknown => server.url('/jwks.json')],
      ['x5u', (): unknown => server.url('/cert.pem')],
      ['jwk', (): unknown => attacker.publicKey.export({ format: 'jwk' })],
      ['x5c', (): unknown => [b64url('not a certificate')]],
    ])('never follows %s and rejects the attacker signature', async (name, value) => {
      const token = craftToken({ ...HEADER, [name]: value() }, accessClaims(), attacker.privateKey)
      await expect401(token, 'bad_signature')
      expect(server.hits()).toBe(0)
    })
  })

  it('rejects an expired token', async () => {
    const now = nowSeconds()
    await expect401(
      good({ iat: now - 600, exp: now - 60 }),
      'token_expired',
      'The token has expired',
    )
  })

  it('rejects a token whose nbf is in the future', async () => {
    await expect401(good({ nbf: nowSeconds() + 120 }), 'token_not_active')
  })

  it('rejects a token whose iat is in the future', async () => {
    await expect401(good({ iat: nowSeconds() + 120 }), 'iat_in_future')
  })

  it('rejects a token without exp', async () => {
    await expect401(good({ exp: undefined }), 'missing_exp')
  })

  it('rejects a token without iss', async () => {
    await expect401(good({ iss: undefined }), 'missing_iss')
  })

  it('rejects a token with a wrong iss and does not echo the expected issuer', async () => {
    const res = await request(app)
      .get('/api')
      .set('Authorization', `Bearer ${good({ iss: 'https://evil.example' })}`)
    expect(res.status).toBe(401)
    expect(bodyOf(res).reason).toBe('wrong_issuer')
    expect(JSON.stringify(res.body) + String(res.headers['www-authenticate'])).not.toContain(
      'auth.example.com',
    )
  })

  it('rejects a token without aud', async () => {
    await expect401(good({ aud: undefined }), 'missing_aud')
  })

  it('rejects a token with a wrong aud and does not echo the expected audience', async () => {
    const res = await request(app)
      .get('/api')
      .set('Authorization', `Bearer ${good({ aud: 'https://other.example' })}`)
    expect(res.status).toBe(401)
    expect(bodyOf(res).reason).toBe('wrong_audience')
    expect(JSON.stringify(res.body) + String(res.headers['www-authenticate'])).not.toContain(
      'api.example.com',
    )
  })

  it('rejects typ JWT', async () => {
    await expect401(good({}, { typ: 'JWT' }), 'bad_typ', 'The token type is not accepted')
  })

  it('rejects a token without typ', async () => {
    await expect401(good({}, { typ: undefined }), 'bad_typ')
  })

  it('rejects an unknown crit header', async () => {
    await expect401(good({}, { crit: ['x-custom'], 'x-custom': 1 }), 'crit_header')
  })

  it('rejects a tampered payload', async () => {
    const [header, , signature] = good().split('.')
    const forged = `${header}.${b64url(JSON.stringify(accessClaims({ scope: 'admin' })))}.${signature}`
    await expect401(forged, 'bad_signature', 'The token signature is invalid')
  })

  it('rejects a truncated signature', async () => {
    await expect401(good().slice(0, -8), 'bad_signature')
  })

  it('rejects a truncated token with two segments', async () => {
    const [header, payload] = good().split('.')
    await expect401(`${header}.${payload}`, 'malformed')
  })

  it('rejects garbled base64 (a + in a segment)', async () => {
    const token = good()
    await expect401(`+${token.slice(1)}`, 'malformed')
  })

  it('rejects a header that is not JSON', async () => {
    await expect401(craftToken('not json', accessClaims(), rsa.privateKey), 'malformed')
  })

  it('rejects a payload that is not a JSON object', async () => {
    await expect401(craftToken(HEADER, '[1,2,3]', rsa.privateKey), 'malformed')
  })

  it('rejects a JWE (five segments)', async () => {
    const jwe = [b64url('{"alg":"RSA-OAEP","enc":"A256GCM"}'), 'a', 'b', 'c', 'd'].join('.')
    await expect401(jwe, 'malformed')
  })

  it('rejects a 9 KiB token before parsing it', async () => {
    await expect401(good({ padding: 'x'.repeat(9 * 1024) }), 'too_large', 'The token is too large')
  })

  it('rejects an ES256 signature of zeros (CVE-2022-21449 shape)', async () => {
    const unsigned = craftToken({ alg: 'ES256', typ: 'at+jwt', kid: 'e1' }, accessClaims())
    await expect401(unsigned + Buffer.alloc(64).toString('base64url'), 'bad_signature')
  })

  it('rejects duplicate member names in the header', async () => {
    const header = '{"alg":"RS256","typ":"at+jwt","kid":"k1","alg":"none"}'
    await expect401(craftToken(header, accessClaims(), rsa.privateKey), 'duplicate_member')
  })

  it('rejects duplicate member names in the payload, escaped or not', async () => {
    const claims = JSON.stringify(accessClaims()).slice(0, -1)
    for (const duplicate of [',"aud":"https://other.example"}', ',"\\u0061ud":"x"}']) {
      await expect401(craftToken(HEADER, claims + duplicate, rsa.privateKey), 'duplicate_member')
    }
  })

  it('rejects a kid holding a newline or U+2028 without reflecting it', async () => {
    for (const kid of ['a\nb', 'a\u2028b', 'a\r\nSet-Cookie: x=1']) {
      const res = await request(app)
        .get('/api')
        .set('Authorization', `Bearer ${good({}, { kid })}`)
      expect(res.status).toBe(401)
      expect(bodyOf(res).reason).toBe('unknown_kid')
      expect(res.headers['set-cookie']).toBeUndefined()
      expect(res.headers['www-authenticate']).toBe(challenge('The token signing key is unknown'))
    }
    await expectStillServing()
  })

  it('answers 400 to an Authorization header with U+2028 bytes and keeps serving', async () => {
    const server: Server = app.listen(0, '127.0.0.1')
    await new Promise((resolve) => server.once('listening', resolve))
    try {
      const { port } = server.address() as AddressInfo
      const response = await new Promise<string>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1')
        let data = ''
        socket.on('data', (chunk) => (data += chunk.toString('latin1')))
        socket.on('end', () => resolve(data))
        socket.on('error', reject)
        socket.end(
          Buffer.concat([
            Buffer.from(
              'GET /api HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer abc',
            ),
            Buffer.from('\u2028', 'utf8'),
            Buffer.from('def\r\n\r\n'),
          ]),
        )
      })
      expect(response).toMatch(/^HTTP\/1\.1 400 /)
      expect(response).toContain('"reason":"malformed_authorization"')
      expect(response).not.toContain('abc')
    } finally {
      await new Promise((resolve) => server.close(resolve))
    }
    await expectStillServing()
  })
})

describe('time checks under a pinned clock', () => {
  it('accepts a token inside the clock tolerance and rejects it after', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(new Date('2030-01-01T00:00:00Z'))
    const now = nowSeconds()
    const token = good({ iat: now - 100, exp: now })
    await request(app).get('/api').set('Authorization', `Bearer ${token}`).expect(200)
    vi.setSystemTime((now + 5) * 1000)
    const res = await request(app).get('/api').set('Authorization', `Bearer ${token}`)
    expect(res.status).toBe(401)
    expect(bodyOf(res).reason).toBe('token_expired')
  })
})

describe('requireToken options', () => {
  const remote = {
    issuer: 'https://auth.example.com',
    audience: 'https://api.example.com',
    jwksUri: 'https://auth.example.com/jwks.json',
  }

  it('names itself and the jwks path when the remote key set refuses a value', () => {
    expect(() => requireToken({ ...remote, jwks: { timeoutMs: 0 } })).toThrow(
      /^requireToken: option "jwks\.timeoutMs" must be a number from 1 to 60000$/,
    )
  })

  it('still accepts the deprecated jwks.timeout (as jwks.timeoutMs), warning once', () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined)
    try {
      expect(() => requireToken({ ...remote, jwks: { timeout: 0 } })).toThrow(
        /^requireToken: option "jwks\.timeoutMs" must be a number from 1 to 60000$/,
      )
      requireToken({ ...remote, jwks: { timeout: 500 } }).close()
      const warnings = warn.mock.calls.filter(
        ([, options]) =>
          (options as { code?: string } | undefined)?.code === 'CCFLOW_DEP_JWKS_TIMEOUT',
      )
      expect(warnings).toHaveLength(1)
      expect(warnings[0]?.[0]).toMatch(/^requireToken: option "jwks\.timeout" is deprecated/)
    } finally {
      warn.mockRestore()
    }
  })
})
