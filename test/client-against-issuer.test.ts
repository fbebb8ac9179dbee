import { generateKeyPairSync, randomBytes } from 'node:crypto'
import type { ServerResponse } from 'node:http'
import { createTokenClient, type TokenClientEvent } from '@ccflow/client'
import { requireToken } from '@ccflow/guard'
import {
  type Client,
  generateClientSecret,
  hashClientSecret,
  type IssuerEvent,
  memoryDenylist,
  staticClientStore,
  tokenEndpoint,
} from '@ccflow/issuer'
import express from 'express'
import { calculateJwkThumbprint, decodeJwt, type JWK } from 'jose'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { basic, type Listening, listenOnEphemeralPort, makeSigningKey } from './helpers.js'

/**
 * @ccflow/client against the real @ccflow/issuer (Express, 127.0.0.1:0) and the real
 * @ccflow/guard: every client authentication method, scope and resource partitioning of the
 * cache, RFC 8414 discovery, and `tokens.fetch` through the guard.
 */
const MAJOR = process.env.CCFLOW_EXPRESS_MAJOR ?? '5'
const REPORTS = 'https://reports.example'
const BILLING = 'https://billing.example'
/** RFC 6749 Appendix B: `:` and `%` must be form-encoded before Basic encoding. */
const SECRET = `s:e%cr%3Aet:${randomBytes(12).toString('hex')}`

interface Issuer extends Listening {
  events: IssuerEvent[]
  /** Answers the next token request's response by destroying the socket after the issuer ran. */
  loseNextTokenResponse(): void
}

/** The `token_issued` events, in order. */
function issued(issuer: Issuer): Extract<IssuerEvent, { type: 'token_issued' }>[] {
  return issuer.events.filter(
    (event): event is Extract<IssuerEvent, { type: 'token_issued' }> =>
      event.type === 'token_issued',
  )
}

describe(`@ccflow/client against @ccflow/issuer and @ccflow/guard on Express ${MAJOR}`, () => {
  const signingKey = makeSigningKey('ES256')
  const denylist = memoryDenylist()
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  let issuer: Issuer
  let api: Listening

  beforeAll(async () => {
    const publicJwk = publicKey.export({ format: 'jwk' }) as JWK
    const kid = await calculateJwkThumbprint(publicJwk)
    const hash = await hashClientSecret(SECRET)
    const secretId = generateClientSecret().secretId
    const clients: Client[] = [
      {
        client_id: 'basic',
        scope: 'reports:read reports:write',
        audiences: [REPORTS, BILLING],
        secrets: [{ id: secretId, hash }],
      },
      {
        client_id: 'post',
        token_endpoint_auth_method: 'client_secret_post',
        scope: 'reports:read',
        audiences: [REPORTS],
        secrets: [{ id: secretId, hash }],
      },
      {
        client_id: 'keyed',
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [{ ...publicJwk, kid, alg: 'ES256', use: 'sig' }] },
        scope: 'reports:read',
        audiences: [REPORTS],
      },
    ]
    const events: IssuerEvent[] = []
    const state = { loseNext: false }
    const listening = await listenOnEphemeralPort((url) => {
      const app = express()
      // A response lost on the way back after the issuer handled the request (and used up the
      // assertion's jti): the client sees a network error and must retry with a new assertion.
      app.use((req, res, next) => {
        if (req.method === 'POST' && req.path === '/token' && state.loseNext) {
          state.loseNext = false
          ;(res as ServerResponse).end = function lost(this: ServerResponse) {
            this.socket?.destroy()
            return this
          } as ServerResponse['end']
        }
        next()
      })
      app.use(
        tokenEndpoint({
          issuer: url,
          clients: staticClientStore(clients),
          keys: [signingKey.input],
          rateLimit: false,
          revocation: { store: denylist },
          onEvent: (event) => events.push(event),
        }),
      )
      return app
    })
    issuer = Object.assign(listening, {
      events,
      loseNextTokenResponse: () => {
        state.loseNext = true
      },
    })
    api = await listenOnEphemeralPort(() => {
      const app = express()
      app.get(
        '/reports',
        requireToken({
          issuer: issuer.url,
          audience: REPORTS,
          keys: [signingKey.publicJwk],
          isRevoked: (claims) =>
            claims.jti === undefined ? true : denylist.has(claims.iss, claims.jti),
        }),
        (req, res) => {
          res.json({ clientId: req.auth?.clientId, scopes: req.auth?.scopes })
        },
      )
      return app
    })
  })
  afterAll(() => Promise.all([issuer.close(), api.close()]))
  beforeEach(() => {
    issuer.events.length = 0
  })

  it('gets a token with client_secret_basic when the secret holds ":" and "%" (Appendix B encoding)', async () => {
    const tokens = createTokenClient({
      tokenEndpoint: `${issuer.url}/token`,
      clientId: 'basic',
      clientSecret: SECRET,
      scope: 'reports:read',
      resource: REPORTS,
    })
    const token = await tokens.getToken()
    expect(token).toMatchObject({ type: 'Bearer', scope: 'reports:read', source: 'network' })
    expect(decodeJwt(token.value)).toMatchObject({ client_id: 'basic', aud: REPORTS })
    expect(issued(issuer)).toHaveLength(1)
    await tokens.close()
  })

  it('is refused with invalid_client when the same secret is sent without the form-encoding', async () => {
    // The control for the test above: a raw `id:secret` Basic value splits at the wrong ':'.
    const raw = `Basic ${Buffer.from(`basic:${SECRET}`).toString('base64')}`
    expect(raw).not.toBe(basic('basic', SECRET))
    const res = await fetch(`${issuer.url}/token`, {
      method: 'POST',
      headers: { authorization: raw },
      body: new URLSearchParams({ grant_type: 'client_credentials' }),
    })
    expect(res.status).toBe(401)
    expect(await res.json()).toMatchObject({ error: 'invalid_client' })
  })

  it('gets a token with client_secret_post', async () => {
    const tokens = createTokenClient({
      tokenEndpoint: `${issuer.url}/token`,
      clientId: 'post',
      clientSecret: SECRET,
      authMethod: 'client_secret_post',
      resource: REPORTS,
    })
    const token = await tokens.getToken()
    expect(decodeJwt(token.value)).toMatchObject({ client_id: 'post', scope: 'reports:read' })
    await tokens.close()
  })

  it('gets a token with private_key_jwt (inline jwks), aud = the issuer identifier', async () => {
    const tokens = createTokenClient({
      issuer: issuer.url,
      clientId: 'keyed',
      privateKey,
      resource: REPORTS,
    })
    const token = await tokens.getToken()
    expect(decodeJwt(token.value)).toMatchObject({ client_id: 'keyed', aud: REPORTS })
    expect(issuer.events.some((event) => event.type === 'assertion_legacy_audience')).toBe(false)
    await tokens.close()
  })

  it('retries a lost token response with a new assertion, which the single-use jti check accepts', async () => {
    const retries: TokenClientEvent[] = []
    const tokens = createTokenClient({
      issuer: issuer.url,
      clientId: 'keyed',
      privateKey,
      resource: REPORTS,
      onEvent: (event) => {
        if (event.type === 'retry') retries.push(event)
      },
    })
    issuer.loseNextTokenResponse()
    const token = await tokens.getToken()
    // The issuer issued twice: the lost answer's token and the retry's; both assertions passed
    // the jti replay check, so the second one was new.
    expect(issued(issuer)).toHaveLength(2)
    expect(issuer.events.filter((event) => event.type === 'authentication_failed')).toEqual([])
    expect(retries).toHaveLength(1)
    expect(decodeJwt(token.value).jti).toBe(issued(issuer)[1]?.jti)
    await tokens.close()
  })

  it('keeps one token per scope set: two scopes give two tokens, each with its own scope claim', async () => {
    const tokens = createTokenClient({
      tokenEndpoint: `${issuer.url}/token`,
      clientId: 'basic',
      clientSecret: SECRET,
      resource: REPORTS,
    })
    const read = await tokens.getToken({ scope: 'reports:read' })
    const write = await tokens.getToken({ scope: 'reports:write' })
    const readAgain = await tokens.getToken({ scope: 'reports:read' })
    expect(read.value).not.toBe(write.value)
    expect(decodeJwt(read.value).scope).toBe('reports:read')
    expect(decodeJwt(write.value).scope).toBe('reports:write')
    expect(readAgain).toMatchObject({ value: read.value, source: 'cache' })
    expect(issued(issuer).map((event) => event.scope)).toEqual(['reports:read', 'reports:write'])
    await tokens.close()
  })

  it('keeps one token per resource: two resources give two tokens, each with its own aud', async () => {
    const tokens = createTokenClient({
      tokenEndpoint: `${issuer.url}/token`,
      clientId: 'basic',
      clientSecret: SECRET,
      scope: 'reports:read',
    })
    const reports = await tokens.getToken({ resource: REPORTS })
    const billing = await tokens.getToken({ resource: BILLING })
    expect(reports.value).not.toBe(billing.value)
    expect(decodeJwt(reports.value).aud).toBe(REPORTS)
    expect(decodeJwt(billing.value).aud).toBe(BILLING)
    expect((await tokens.getToken({ resource: BILLING })).value).toBe(billing.value)
    expect(issued(issuer)).toHaveLength(2)
    await tokens.close()
  })

  it('finds the token endpoint in the RFC 8414 metadata the issuer serves', async () => {
    const tokens = createTokenClient({
      issuer: issuer.url,
      clientId: 'basic',
      clientSecret: SECRET,
      scope: 'reports:read',
      resource: REPORTS,
    })
    const token = await tokens.getToken()
    expect(decodeJwt(token.value)).toMatchObject({ iss: issuer.url, scope: 'reports:read' })
    await tokens.close()
  })

  it('calls an API behind @ccflow/guard with tokens.fetch, reusing the cached token', async () => {
    const tokens = createTokenClient({
      issuer: issuer.url,
      clientId: 'keyed',
      privateKey,
      scope: 'reports:read',
      resource: REPORTS,
    })
    for (let i = 0; i < 2; i++) {
      const res = await tokens.fetch(`${api.url}/reports`)
      expect(res.status).toBe(200)
      expect(await res.json()).toEqual({ clientId: 'keyed', scopes: ['reports:read'] })
    }
    expect(issued(issuer)).toHaveLength(1)
    await tokens.close()
  })

  it('drops a token the guard answers 401 invalid_token for (revoked) and retries the call once with a new one', async () => {
    const tokens = createTokenClient({
      tokenEndpoint: `${issuer.url}/token`,
      clientId: 'basic',
      clientSecret: SECRET,
      scope: 'reports:read',
      resource: REPORTS,
    })
    const first = await tokens.getToken()
    const revoke = await fetch(`${issuer.url}/revoke`, {
      method: 'POST',
      headers: { authorization: basic('basic', SECRET) },
      body: new URLSearchParams({ token: first.value }),
    })
    expect(revoke.status).toBe(200)
    const rejected = await fetch(`${api.url}/reports`, {
      headers: { authorization: `Bearer ${first.value}` },
    })
    expect(rejected.status).toBe(401)
    expect(rejected.headers.get('www-authenticate')).toContain('error="invalid_token"')

    const res = await tokens.fetch(`${api.url}/reports`)
    expect(res.status).toBe(200)
    const second = await tokens.getToken()
    expect(second.value).not.toBe(first.value)
    expect(second.source).toBe('cache')
    expect(issued(issuer)).toHaveLength(2)
    await tokens.close()
  })
})
