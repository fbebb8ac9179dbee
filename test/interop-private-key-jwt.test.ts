import { requireToken } from '@ccflow/guard'
import {
  type AssertionAudienceRule,
  type IssuerEvent,
  staticClientStore,
  tokenEndpoint,
} from '@ccflow/issuer'
import express, { type Express } from 'express'
import * as client from 'openid-client'
import request from 'supertest'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type Listening, listenOnEphemeralPort, makeSigningKey } from './helpers.js'
import {
  type ClientKeyAlgorithm,
  type ClientKeyPair,
  clientKeyPair,
  JWT_BEARER,
  jwtPayload,
  keyClient,
  postAssertion,
  signAssertion,
} from './support/private-key-jwt.js'

/**
 * private_key_jwt (RFC 7523) between real clients and a real token endpoint on 127.0.0.1:
 * openid-client 6 (discovery, then its own assertions) and hand-made jose assertions, and the
 * issued tokens verified by @ccflow/guard against the issuer's JWKS.
 */
const AUDIENCE = 'https://reports.example'
const MAJOR = process.env.CCFLOW_EXPRESS_MAJOR ?? '5'
const OPENID_CLIENT_ALGORITHMS = ['ES256', 'RS256', 'PS256'] as const

interface Issuer extends Listening {
  events: IssuerEvent[]
}

describe(`private_key_jwt interop on Express ${MAJOR}`, () => {
  const signingKey = makeSigningKey('RS256')
  const keys = {} as Record<ClientKeyAlgorithm, ClientKeyPair>
  let strict: Issuer
  let legacy: Issuer

  /** A token endpoint at the origin of an ephemeral port, recording its events. */
  async function startIssuer(assertionAudience?: AssertionAudienceRule): Promise<Issuer> {
    const events: IssuerEvent[] = []
    const clients = [
      ...OPENID_CLIENT_ALGORITHMS.map((alg) =>
        keyClient(`oc-${alg.toLowerCase()}`, [keys[alg]], {
          scope: 'reports:read reports:write',
          audiences: [AUDIENCE],
        }),
      ),
      keyClient('batch', [keys.EdDSA], { scope: 'reports:read', audiences: [AUDIENCE] }),
    ]
    const listening = await listenOnEphemeralPort((issuer) => {
      const app = express()
      app.use(
        tokenEndpoint({
          issuer,
          clients: staticClientStore(clients),
          keys: [signingKey.input],
          rateLimit: false,
          onEvent: (event) => events.push(event),
          ...(assertionAudience === undefined ? {} : { privateKeyJwt: { assertionAudience } }),
        }),
      )
      return app
    })
    return Object.assign(listening, { events })
  }

  beforeAll(async () => {
    for (const alg of [...OPENID_CLIENT_ALGORITHMS, 'EdDSA'] as const) {
      keys[alg] = await clientKeyPair(alg)
    }
    strict = await startIssuer()
    legacy = await startIssuer('legacy')
  })
  afterAll(() => Promise.all([strict.close(), legacy.close()]))
  beforeEach(() => {
    strict.events.length = 0
    legacy.events.length = 0
  })

  /** A resource server guarding GET /reports with tokens of `issuer`, keys from its JWKS. */
  function api(issuer: Listening): Express {
    const app = express()
    app.get(
      '/reports',
      requireToken({ issuer: issuer.url, audience: AUDIENCE, jwksUri: `${issuer.url}/jwks.json` }),
      (req, res) => {
        res.json({ clientId: req.auth?.clientId, scopes: req.auth?.scopes })
      },
    )
    return app
  }

  /** Every request body openid-client sends, read as a form. */
  interface Sent {
    bodies: URLSearchParams[]
  }

  type Header = Record<string, client.JsonValue | undefined>
  type Claims = Record<string, client.JsonValue | undefined>
  type Change = (header: Header, claims: Claims) => void

  /** openid-client 6: RFC 8414 discovery over plain http, then PrivateKeyJwt client auth. */
  async function discover(
    issuer: Listening,
    clientId: string,
    key: ClientKeyPair,
    changes: readonly Change[] = [],
  ): Promise<{ config: client.Configuration; sent: Sent }> {
    const config = await client.discovery(
      new URL(issuer.url),
      clientId,
      undefined,
      client.PrivateKeyJwt(
        { key: key.privateKey, kid: key.kid },
        {
          [client.modifyAssertion]: (header, claims) => {
            for (const change of changes) change(header, claims)
          },
        },
      ),
      { algorithm: 'oauth2', execute: [client.allowInsecureRequests] },
    )
    const sent: Sent = { bodies: [] }
    config[client.customFetch] = (url, init) => {
      if (init.body instanceof URLSearchParams || typeof init.body === 'string') {
        sent.bodies.push(new URLSearchParams(init.body))
      }
      // CustomFetchOptions is what fetch takes, typed without exactOptionalPropertyTypes.
      return fetch(url, init as RequestInit)
    }
    return { config, sent }
  }

  /** The `client_assertion` of the only request openid-client sent. */
  function assertionSent(sent: Sent): string {
    expect(sent.bodies).toHaveLength(1)
    return sent.bodies[0]?.get('client_assertion') ?? ''
  }

  /** The decoded JOSE header of a compact JWS. */
  function jwsHeader(jwt: string): Record<string, unknown> {
    return JSON.parse(Buffer.from(jwt.split('.')[0] ?? '', 'base64url').toString()) as Record<
      string,
      unknown
    >
  }

  describe('openid-client 6.9.0 with PrivateKeyJwt', () => {
    it('finds private_key_jwt and the assertion algorithms in the RFC 8414 metadata', async () => {
      const { config } = await discover(strict, 'oc-es256', keys.ES256)
      const metadata = config.serverMetadata()
      expect(metadata.token_endpoint).toBe(`${strict.url}/token`)
      expect(metadata.token_endpoint_auth_methods_supported).toContain('private_key_jwt')
      expect(metadata.token_endpoint_auth_signing_alg_values_supported).toEqual(
        expect.arrayContaining(['ES256', 'RS256', 'PS256', 'EdDSA']),
      )
    })

    // openid-client signs its assertion with no `typ` header, which RFC 7523 allows.
    it('gets a token with the assertion exactly as openid-client signs it (no typ header)', async () => {
      const { config, sent } = await discover(strict, 'oc-es256', keys.ES256)
      const outcome = await client.clientCredentialsGrant(config)
      expect(jwsHeader(assertionSent(sent))).not.toHaveProperty('typ')
      expect(strict.events).toEqual([expect.objectContaining({ type: 'token_issued' })])
      expect(outcome).toHaveProperty('access_token')
    })

    it.each(OPENID_CLIENT_ALGORITHMS)(
      'gets a token with a %s key that @ccflow/guard accepts through the JWKS',
      async (alg) => {
        const clientId = `oc-${alg.toLowerCase()}`
        const { config, sent } = await discover(strict, clientId, keys[alg])
        const tokens = await client.clientCredentialsGrant(config, { scope: 'reports:read' })
        expect(tokens.token_type).toBe('bearer')
        expect(tokens.scope).toBe('reports:read')

        const body = sent.bodies[0]
        expect(body?.get('client_id')).toBe(clientId)
        expect(body?.get('client_assertion_type')).toBe(JWT_BEARER)
        expect(jwsHeader(assertionSent(sent))).toMatchObject({ alg, kid: keys[alg].kid })

        const res = await request(api(strict))
          .get('/reports')
          .set('Authorization', `Bearer ${tokens.access_token}`)
        expect(res.status).toBe(200)
        expect(res.body).toEqual({ clientId, scopes: ['reports:read'] })
        expect(strict.events).toContainEqual(
          expect.objectContaining({ type: 'token_issued', clientId }),
        )
      },
    )

    it('sends aud = the issuer identifier as a plain string, which the default rule accepts', async () => {
      const { config, sent } = await discover(strict, 'oc-es256', keys.ES256)
      await client.clientCredentialsGrant(config)
      const claims = jwtPayload(assertionSent(sent))
      expect(claims.aud).toBe(strict.url)
      expect(claims).toMatchObject({ iss: 'oc-es256', sub: 'oc-es256' })
      expect(claims.exp).toBe((claims.iat as number) + 60)
      expect(typeof claims.jti).toBe('string')
      expect(strict.events.map((e) => e.type)).toEqual(['token_issued'])
    })

    it('sends a fresh jti on every request, so repeated grants all succeed', async () => {
      const { config, sent } = await discover(strict, 'oc-rs256', keys.RS256)
      for (let i = 0; i < 3; i++) await client.clientCredentialsGrant(config)
      const jtis = sent.bodies.map((b) => jwtPayload(b.get('client_assertion') ?? '').jti)
      expect(new Set(jtis).size).toBe(3)
    })

    it('is refused with invalid_client when told to send aud = the token endpoint URL under the default rule', async () => {
      const { config } = await discover(strict, 'oc-es256', keys.ES256, [
        (_header, claims) => {
          claims.aud = `${strict.url}/token`
        },
      ])
      const error: unknown = await client.clientCredentialsGrant(config).catch((e: unknown) => e)
      expect(error).toMatchObject({ error: 'invalid_client', status: 401 })
      expect(strict.events).toContainEqual(
        expect.objectContaining({
          type: 'authentication_failed',
          reason: 'assertion_wrong_audience',
          clientId: 'oc-es256',
        }),
      )
    })

    it("is accepted with aud = the token endpoint URL under assertionAudience: 'legacy', and reported", async () => {
      const { config } = await discover(legacy, 'oc-es256', keys.ES256, [
        (_header, claims) => {
          claims.aud = `${legacy.url}/token`
        },
      ])
      const tokens = await client.clientCredentialsGrant(config)
      expect(tokens.access_token).toBeTruthy()
      expect(legacy.events).toContainEqual(
        expect.objectContaining({ type: 'assertion_legacy_audience', clientId: 'oc-es256' }),
      )
    })

    it("is refused with aud = [issuer, token endpoint] even under assertionAudience: 'legacy'", async () => {
      const { config } = await discover(legacy, 'oc-es256', keys.ES256, [
        (_header, claims) => {
          claims.aud = [legacy.url, `${legacy.url}/token`]
        },
      ])
      const error: unknown = await client.clientCredentialsGrant(config).catch((e: unknown) => e)
      expect(error).toMatchObject({ error: 'invalid_client', status: 401 })
      expect(legacy.events).toContainEqual(
        expect.objectContaining({ reason: 'assertion_wrong_audience', clientId: 'oc-es256' }),
      )
    })

    it('signs with an Ed25519 key under alg "Ed25519" (RFC 9864), which the issuer refuses: it knows only "EdDSA"', async () => {
      const { config, sent } = await discover(strict, 'batch', keys.EdDSA)
      const error: unknown = await client.clientCredentialsGrant(config).catch((e: unknown) => e)
      expect(error).toMatchObject({ error: 'invalid_client', status: 401 })
      expect(jwsHeader(assertionSent(sent)).alg).toBe('Ed25519')
      expect(strict.events).toContainEqual(
        expect.objectContaining({
          type: 'authentication_failed',
          reason: 'assertion_alg_not_allowed',
        }),
      )
    })

    it('gets a token with an Ed25519 key once the header is remapped to alg "EdDSA"', async () => {
      const { config } = await discover(strict, 'batch', keys.EdDSA, [
        (header) => {
          if (header.alg === 'Ed25519') header.alg = 'EdDSA'
        },
      ])
      const tokens = await client.clientCredentialsGrant(config, { scope: 'reports:read' })
      expect(tokens.scope).toBe('reports:read')
    })
  })

  describe('a jose assertion (SignJWT, EdDSA with an Ed25519 key)', () => {
    const assertion = (issuer: Listening, extra: { jti?: string } = {}): Promise<string> =>
      signAssertion(keys.EdDSA, { clientId: 'batch', aud: issuer.url, ...extra })

    it('gets a token that @ccflow/guard accepts through the JWKS', async () => {
      const res = await postAssertion(`${strict.url}/token`, await assertion(strict))
      expect(res.status).toBe(200)
      expect(res.headers.get('cache-control')).toBe('no-store')
      expect(res.body).toMatchObject({ token_type: 'Bearer', scope: 'reports:read' })

      const guarded = await request(api(strict))
        .get('/reports')
        .set('Authorization', `Bearer ${res.body.access_token as string}`)
      expect(guarded.status).toBe(200)
      expect(guarded.body).toEqual({ clientId: 'batch', scopes: ['reports:read'] })
    })

    it('is refused with 401 invalid_client when the same assertion is sent a second time', async () => {
      const once = await assertion(strict)
      expect((await postAssertion(`${strict.url}/token`, once)).status).toBe(200)
      const again = await postAssertion(`${strict.url}/token`, once)
      expect(again.status).toBe(401)
      expect(again.body).toMatchObject({ error: 'invalid_client' })
      expect(again.headers.get('cache-control')).toBe('no-store')
      expect(strict.events.filter((e) => e.type === 'token_issued')).toHaveLength(1)
      expect(strict.events).toContainEqual(
        expect.objectContaining({
          type: 'authentication_failed',
          reason: 'assertion_replayed',
          clientId: 'batch',
          method: 'private_key_jwt',
        }),
      )
    })

    it('accepts the same assertion with the body naming the client in client_id', async () => {
      const res = await postAssertion(`${strict.url}/token`, await assertion(strict), {
        client_id: 'batch',
      })
      expect(res.status).toBe(200)
    })

    it('is refused when signed for another issuer (aud = that issuer)', async () => {
      const res = await postAssertion(`${strict.url}/token`, await assertion(legacy))
      expect(res.status).toBe(401)
      expect(res.body).toMatchObject({ error: 'invalid_client' })
    })
  })
})
