import request from 'supertest'
import { describe, expect, it } from 'vitest'
import { buildMetadata } from '../../src/discovery/metadata.js'
import { resolveOptions } from '../../src/options/resolve.js'
import { generateSigningKey } from '../../src/tokens/signing-keys.js'
import { ISSUER, NO_STORE, baseKey, baseOptions, createApp } from '../helpers.js'

const META = '/.well-known/oauth-authorization-server'

describe('buildMetadata', () => {
  it('lists the RFC 8414 fields of a client-credentials-only server', () => {
    expect(buildMetadata(resolveOptions(baseOptions()))).toEqual({
      issuer: ISSUER,
      token_endpoint: `${ISSUER}/token`,
      jwks_uri: `${ISSUER}/jwks.json`,
      grant_types_supported: ['client_credentials'],
      token_endpoint_auth_methods_supported: [
        'client_secret_basic',
        'client_secret_post',
        'private_key_jwt',
      ],
      token_endpoint_auth_signing_alg_values_supported: ['ES256', 'EdDSA', 'PS256', 'RS256'],
    })
  })

  it('adds scopes_supported when configured', () => {
    const config = resolveOptions(baseOptions({ scopesSupported: ['orders:read', 'reports:read'] }))
    expect(buildMetadata(config).scopes_supported).toEqual(['orders:read', 'reports:read'])
  })

  it('omits scopes_supported when the list is empty (RFC 8414 §3.2)', () => {
    expect(buildMetadata(resolveOptions(baseOptions({ scopesSupported: [] })))).not.toHaveProperty(
      'scopes_supported',
    )
  })
})

describe(`GET ${META}`, () => {
  const app = createApp({
    rateLimit: false,
    scopesSupported: ['orders:read'],
    jwksMaxAgeSeconds: 120,
  })

  it('serves the metadata as cacheable JSON', async () => {
    const res = await request(app).get(META)
    expect(res.status).toBe(200)
    expect(res.headers['content-type']).toBe('application/json')
    expect(res.headers['cache-control']).toBe('public, max-age=120')
    expect(res.headers.etag).toMatch(/^"[\w-]+"$/)
    expect(res.body).toMatchObject({ issuer: ISSUER, scopes_supported: ['orders:read'] })
    expect(res.body).not.toHaveProperty('response_types_supported')
    expect(res.body).not.toHaveProperty('authorization_endpoint')
  })

  it('answers 304 to a matching If-None-Match', async () => {
    const first = await request(app).get(META)
    const again = await request(app)
      .get(META)
      .set('If-None-Match', first.headers.etag as string)
    expect(again.status).toBe(304)
    expect(again.text).toBe('')
    const other = await request(app).get(META).set('If-None-Match', '"other"')
    expect(other.status).toBe(200)
  })

  it('answers HEAD with the headers and no body', async () => {
    const res = await request(app).head(META)
    expect(res.status).toBe(200)
    expect(res.headers['content-length']).toBe(String((await request(app).get(META)).text.length))
    expect(res.text).toBeUndefined()
  })

  it('answers 405 with Allow: GET, HEAD to POST', async () => {
    const res = await request(app).post(META)
    expect(res.status).toBe(405)
    expect(res.headers.allow).toBe('GET, HEAD')
    expect(res.headers).toMatchObject(NO_STORE)
    expect((res.body as { error: string }).error).toBe('invalid_request')
  })
})

describe('GET /jwks.json', () => {
  it('publishes the public members of every key, active, next and retired', async () => {
    const next = generateSigningKey('RS256', { kid: 'next' })
    const retired = generateSigningKey('ES256', { kid: 'old' })
    const app = createApp({
      rateLimit: false,
      keys: [
        baseKey,
        { kid: next.kid, alg: next.alg, privateKey: next.privateKey, status: 'next' },
        { kid: retired.kid, alg: retired.alg, privateKey: retired.privateKey, status: 'retired' },
      ],
    })
    const res = await request(app).get('/jwks.json')
    expect(res.status).toBe(200)
    expect(res.headers['content-type']).toBe('application/json')
    expect(res.headers['cache-control']).toBe('public, max-age=300')
    const keys = (res.body as { keys: Array<Record<string, unknown>> }).keys
    expect(keys.map((k) => k.kid)).toEqual(['test-es256', 'next', 'old'])
    for (const key of keys) {
      expect(key).toMatchObject({ use: 'sig' })
      for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'])
        expect(key).not.toHaveProperty(member)
    }
  })

  it('publishes no key for an HS256-only issuer', async () => {
    const app = createApp({
      rateLimit: false,
      keys: [{ kid: 'h', alg: 'HS256', secret: 'an HS256 test secret of 32+ bytes!!' }],
    })
    expect((await request(app).get('/jwks.json')).body).toEqual({ keys: [] })
  })

  it('answers 405 with Allow: GET, HEAD to DELETE', async () => {
    const res = await request(createApp({ rateLimit: false })).delete('/jwks.json')
    expect(res.status).toBe(405)
    expect(res.headers.allow).toBe('GET, HEAD')
  })
})
