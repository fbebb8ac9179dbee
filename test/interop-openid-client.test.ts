import { hashClientSecret, staticClientStore } from '@ccflow/issuer'
import { createRemoteJWKSet, jwtVerify } from 'jose'
import * as client from 'openid-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTokenServerApp } from '../examples/token-server/app.js'
import { type Listening, listenOnEphemeralPort, makeClient, makeSigningKey } from './helpers.js'

const AUDIENCE = 'https://reports.example'
// A human-chosen secret with characters that RFC 6749 §2.3.1 form-encoding changes (space, +, :,
// /, non-ASCII): openid-client encodes them before Base64, so the server must decode them.
const AWKWARD_SECRET = 'imported secret: a+b/c%d ü'

describe('openid-client v6 against the token server', () => {
  let server: Listening
  let generatedSecret: string

  beforeAll(async () => {
    const made = await makeClient({
      client_id: 'reporter',
      scope: 'reports:read reports:write',
      audiences: [AUDIENCE, 'https://other.example'],
    })
    generatedSecret = made.secret
    const importedClient = {
      client_id: 'imported',
      scope: 'reports:read',
      audiences: [AUDIENCE],
      secrets: [{ id: 'legacy', hash: await hashClientSecret(AWKWARD_SECRET) }],
    }
    const key = makeSigningKey('RS256')
    server = await listenOnEphemeralPort((issuer) =>
      createTokenServerApp({
        issuer,
        clients: staticClientStore([made.client, importedClient]),
        keys: [key.input],
      }),
    )
  })
  afterAll(() => server.close())

  /** RFC 8414 discovery over plain http, which openid-client allows only when told to. */
  function discover(clientId: string, auth: client.ClientAuth): Promise<client.Configuration> {
    return client.discovery(new URL(server.url), clientId, undefined, auth, {
      algorithm: 'oauth2',
      execute: [client.allowInsecureRequests],
    })
  }

  async function verify(token: string): Promise<Record<string, unknown>> {
    const jwks = createRemoteJWKSet(new URL(`${server.url}/jwks.json`))
    const { payload } = await jwtVerify(token, jwks, {
      issuer: server.url,
      audience: AUDIENCE,
      typ: 'at+jwt',
    })
    return payload
  }

  it('discovers the token endpoint and JWKS from the RFC 8414 metadata', async () => {
    const config = await discover('reporter', client.ClientSecretBasic(generatedSecret))
    const metadata = config.serverMetadata()
    expect(metadata.issuer).toBe(server.url)
    expect(metadata.token_endpoint).toBe(`${server.url}/token`)
    expect(metadata.jwks_uri).toBe(`${server.url}/jwks.json`)
  })

  it('gets a token with client_secret_basic', async () => {
    const config = await discover('reporter', client.ClientSecretBasic(generatedSecret))
    const tokens = await client.clientCredentialsGrant(config, { scope: 'reports:read' })
    expect(tokens.token_type).toBe('bearer')
    expect(tokens.scope).toBe('reports:read')
    expect(tokens.expiresIn()).toBeGreaterThan(0)
    expect(await verify(tokens.access_token)).toMatchObject({
      client_id: 'reporter',
      scope: 'reports:read',
    })
  })

  it('gets a token with client_secret_post', async () => {
    const config = await discover('reporter', client.ClientSecretPost(generatedSecret))
    const tokens = await client.clientCredentialsGrant(config, { scope: 'reports:write' })
    expect(await verify(tokens.access_token)).toMatchObject({
      client_id: 'reporter',
      scope: 'reports:write',
    })
  })

  it('gets a token for a non-default audience with the RFC 8707 resource parameter', async () => {
    const config = await discover('reporter', client.ClientSecretBasic(generatedSecret))
    const tokens = await client.clientCredentialsGrant(config, {
      resource: 'https://other.example',
    })
    const jwks = createRemoteJWKSet(new URL(`${server.url}/jwks.json`))
    const { payload } = await jwtVerify(tokens.access_token, jwks, {
      audience: 'https://other.example',
    })
    expect(payload.aud).toBe('https://other.example')
  })

  it('sends a secret that needs form-encoding in Basic, and the server decodes it', async () => {
    const config = await discover('imported', client.ClientSecretBasic(AWKWARD_SECRET))
    const tokens = await client.clientCredentialsGrant(config)
    expect(await verify(tokens.access_token)).toMatchObject({ client_id: 'imported' })
  })

  it('surfaces the Basic challenge of a 401 for a wrong secret sent with client_secret_basic', async () => {
    const config = await discover('reporter', client.ClientSecretBasic('wrong'))
    const error: unknown = await client.clientCredentialsGrant(config).catch((err: unknown) => err)
    expect(error).toBeInstanceOf(client.WWWAuthenticateChallengeError)
    const challenge = error as client.WWWAuthenticateChallengeError
    expect(challenge.status).toBe(401)
    expect(challenge.cause.map((c) => c.scheme)).toEqual(['basic'])
    expect(await challenge.response.json()).toMatchObject({ error: 'invalid_client' })
  })

  it('surfaces invalid_client for a wrong secret sent with client_secret_post', async () => {
    const config = await discover('reporter', client.ClientSecretPost('wrong'))
    const error: unknown = await client.clientCredentialsGrant(config).catch((err: unknown) => err)
    expect(error).toBeInstanceOf(client.ResponseBodyError)
    expect(error).toMatchObject({ error: 'invalid_client', status: 401 })
  })

  it('surfaces invalid_scope for a scope the client may not have', async () => {
    const config = await discover('reporter', client.ClientSecretBasic(generatedSecret))
    const error: unknown = await client
      .clientCredentialsGrant(config, { scope: 'admin' })
      .catch((err: unknown) => err)
    expect(error).toMatchObject({ error: 'invalid_scope', status: 400 })
  })
})
