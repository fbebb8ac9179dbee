import { staticClientStore } from '@ccflow/issuer'
import { auth, requiredScopes } from 'express-oauth2-jwt-bearer'
import express, { type ErrorRequestHandler } from 'express'
import { createRemoteJWKSet, errors, jwtVerify } from 'jose'
import request from 'supertest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTokenServerApp } from '../examples/token-server/app.js'
import {
  type Listening,
  fetchToken,
  listenOnEphemeralPort,
  makeClient,
  makeSigningKey,
} from './helpers.js'

const AUDIENCE = 'https://reports.example'
// RFC 9068 §2.2: the claims every JWT access token carries.
const RFC_9068_CLAIMS = ['iss', 'exp', 'aud', 'sub', 'client_id', 'iat', 'jti']

describe.each(['RS256', 'PS256', 'ES256'] as const)(
  'third-party verifiers accept %s tokens',
  (alg) => {
    let server: Listening
    let token: string
    let otherAudienceToken: string

    beforeAll(async () => {
      const made = await makeClient({
        client_id: 'reporter',
        scope: 'reports:read reports:write',
        audiences: [AUDIENCE, 'https://other.example'],
      })
      server = await listenOnEphemeralPort((issuer) =>
        createTokenServerApp({
          issuer,
          clients: staticClientStore([made.client]),
          keys: [makeSigningKey(alg).input],
        }),
      )
      const credentials = { clientId: 'reporter', secret: made.secret }
      token = (await fetchToken(`${server.url}/token`, credentials, { scope: 'reports:read' }))
        .access_token
      otherAudienceToken = (
        await fetchToken(`${server.url}/token`, credentials, { resource: 'https://other.example' })
      ).access_token
    })
    afterAll(() => server.close())

    describe('express-oauth2-jwt-bearer configured only with issuerBaseURL and audience', () => {
      // It discovers the JWKS from the metadata (openid-configuration first, then RFC 8414) and
      // allows an http issuer unless NODE_ENV is production; the tests run with NODE_ENV=test.
      function api(strict: boolean): express.Express {
        const app = express()
        app.use(auth({ issuerBaseURL: server.url, audience: AUDIENCE, strict }))
        // req.auth is not read here: auth0 and @ccflow/guard both declare it with their own types.
        app.get('/reports', requiredScopes('reports:read'), (_req, res) => {
          res.json({ ok: true })
        })
        app.post('/reports', requiredScopes('reports:write'), (_req, res) => {
          res.status(201).end()
        })
        const onError: ErrorRequestHandler = (err: { status?: number }, _req, res, next) => {
          // Express's own handler closes a response that has already started.
          if (res.headersSent) {
            next(err)
            return
          }
          res.status(err.status ?? 500).end()
        }
        app.use(onError)
        return app
      }

      it('accepts our token and its scope claim', async () => {
        const res = await request(api(false))
          .get('/reports')
          .set('Authorization', `Bearer ${token}`)
        expect(res.status).toBe(200)
        expect(res.body).toEqual({ ok: true })
      })

      it('accepts our token in strict mode (RFC 9068 typ and required claims)', async () => {
        const res = await request(api(true)).get('/reports').set('Authorization', `Bearer ${token}`)
        expect(res.status).toBe(200)
      })

      it('refuses a token for another audience and a missing scope', async () => {
        const other = await request(api(false))
          .get('/reports')
          .set('Authorization', `Bearer ${otherAudienceToken}`)
        expect(other.status).toBe(401)
        const scope = await request(api(false))
          .post('/reports')
          .set('Authorization', `Bearer ${token}`)
        expect(scope.status).toBe(403)
      })
    })

    describe("jose's jwtVerify with a remote JWKS", () => {
      it('verifies typ at+jwt and the RFC 9068 required claims', async () => {
        const jwks = createRemoteJWKSet(new URL(`${server.url}/jwks.json`))
        const { payload, protectedHeader } = await jwtVerify(token, jwks, {
          issuer: server.url,
          audience: AUDIENCE,
          typ: 'at+jwt',
          algorithms: [alg],
          requiredClaims: RFC_9068_CLAIMS,
        })
        expect(protectedHeader).toMatchObject({ alg, typ: 'at+jwt' })
        expect(typeof protectedHeader.kid).toBe('string')
        expect(payload).toMatchObject({
          sub: 'reporter',
          client_id: 'reporter',
          scope: 'reports:read',
        })
      })

      it('rejects our token for another audience', async () => {
        const jwks = createRemoteJWKSet(new URL(`${server.url}/jwks.json`))
        await expect(
          jwtVerify(otherAudienceToken, jwks, { issuer: server.url, audience: AUDIENCE }),
        ).rejects.toBeInstanceOf(errors.JWTClaimValidationFailed)
      })
    })
  },
)
