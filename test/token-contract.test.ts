// The expectTypeOf check below is a type assertion: vitest's typecheck mode runs it in the
// e2e-express5 project (typecheck.include in ./vitest.config.ts), and so does `pnpm typecheck`.
import {
  type AccessTokenClaims as IssuedClaims,
  type IssuerEvent,
  staticClientStore,
  type SigningKeyInput,
  tokenEndpoint,
} from '@ccflow/issuer'
import { type AccessTokenClaims as GuardClaims, requireToken } from '@ccflow/guard'
import express from 'express'
import { decodeJwt, decodeProtectedHeader } from 'jose'
import request from 'supertest'
import { beforeAll, describe, expect, expectTypeOf, it } from 'vitest'
import { basic, body, makeClient, makeSigningKey } from './helpers.js'

const ISSUER = 'http://127.0.0.1:4000'
const AUDIENCE = 'https://orders.example'
const CONTRACT_CLAIMS = ['aud', 'client_id', 'exp', 'iat', 'iss', 'jti', 'scope', 'sub']

interface Setup {
  issuerApp: express.Express
  apiApp: express.Express
  secret: string
}

/** An issuer and an API verifying its tokens with `verifyKey`, both in-process. */
async function setup(
  signingKey: SigningKeyInput,
  verifyKey: Parameters<typeof requireToken>[0]['keys'],
  extraClaims?: () => Record<string, unknown>,
  onEvent?: (event: IssuerEvent) => void,
): Promise<Setup> {
  const made = await makeClient({
    client_id: 'clerk',
    scope: 'orders:read orders:write',
    audiences: [AUDIENCE],
    access_token_ttl: 600,
  })
  const issuerApp = express()
  issuerApp.use(
    tokenEndpoint({
      issuer: ISSUER,
      clients: staticClientStore([made.client]),
      keys: [signingKey],
      ...(extraClaims === undefined ? {} : { extraClaims }),
      ...(onEvent === undefined ? {} : { onEvent }),
    }),
  )
  const apiApp = express()
  apiApp.get(
    '/auth',
    requireToken({ issuer: ISSUER, audience: AUDIENCE, ...(verifyKey ? { keys: verifyKey } : {}) }),
    (req, res) => {
      res.json(req.auth)
    },
  )
  return { issuerApp, apiApp, secret: made.secret }
}

function issue(s: Setup, scope = 'orders:read') {
  return request(s.issuerApp)
    .post('/token')
    .set('Authorization', basic('clerk', s.secret))
    .type('form')
    .send({ grant_type: 'client_credentials', scope })
}

describe('the token contract between @ccflow/issuer and @ccflow/guard', () => {
  const key = makeSigningKey('RS256')
  let s: Setup
  beforeAll(async () => {
    s = await setup(key.input, [key.publicJwk])
  })

  it('answers with an RFC 6749 §5.1 token response that is never cached', async () => {
    const res = await issue(s)
    expect(res.status).toBe(200)
    expect(Object.keys(res.body as object).sort()).toEqual([
      'access_token',
      'expires_in',
      'scope',
      'token_type',
    ])
    expect(res.body).toMatchObject({ token_type: 'Bearer', expires_in: 600, scope: 'orders:read' })
    expect(res.headers['cache-control']).toBe('no-store')
    expect(res.headers.pragma).toBe('no-cache')
  })

  it('signs with the header RFC 9068 §2.1 asks for: typ at+jwt, alg and kid of the active key', async () => {
    const header = decodeProtectedHeader(body(await issue(s)).access_token as string)
    expect(header).toEqual({ alg: 'RS256', typ: 'at+jwt', kid: key.kid })
  })

  it('carries exactly the contract claims, with sub = client_id and exp = iat + expires_in', async () => {
    const before = Math.floor(Date.now() / 1000)
    const res = await issue(s, 'orders:read orders:write')
    const claims = decodeJwt(body(res).access_token as string)
    expect(Object.keys(claims).sort()).toEqual(CONTRACT_CLAIMS)
    expect(claims).toMatchObject({
      iss: ISSUER,
      sub: 'clerk',
      client_id: 'clerk',
      aud: AUDIENCE,
      scope: 'orders:read orders:write',
    })
    expect(claims.iat).toBeGreaterThanOrEqual(before)
    expect(claims.iat).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000))
    expect((claims.exp as number) - (claims.iat as number)).toBe(body(res).expires_in)
  })

  it('gives every token a fresh jti of at least 128 bits', async () => {
    const ids = await Promise.all([issue(s), issue(s), issue(s)]).then((all) =>
      all.map((r) => decodeJwt(body(r).access_token as string).jti as string),
    )
    expect(new Set(ids).size).toBe(3)
    for (const jti of ids) expect(jti.length).toBeGreaterThanOrEqual(22)
  })

  it('is read by the guard into req.auth: clientId, scopes, claims and header', async () => {
    const access = body(await issue(s, 'orders:read orders:write')).access_token as string
    const res = await request(s.apiApp).get('/auth').set('Authorization', `Bearer ${access}`)
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({
      token: access,
      clientId: 'clerk',
      scopes: ['orders:read', 'orders:write'],
      claims: decodeJwt(access),
      header: { alg: 'RS256', typ: 'at+jwt', kid: key.kid },
    })
  })

  it('passes extra claims from the hook through to req.auth.claims', async () => {
    const withTenant = await setup(key.input, [key.publicJwk], () => ({ tenant: 'acme' }))
    const access = body(await issue(withTenant)).access_token as string
    const res = await request(withTenant.apiApp)
      .get('/auth')
      .set('Authorization', `Bearer ${access}`)
    expect(body(res).claims).toMatchObject({ tenant: 'acme', client_id: 'clerk' })
  })

  it('never lets the hook override a reserved claim: no token is issued', async () => {
    const events: IssuerEvent[] = []
    const hijack = await setup(
      key.input,
      [key.publicJwk],
      () => ({ sub: 'admin' }),
      (event) => {
        events.push(event)
      },
    )
    const res = await issue(hijack)
    expect(res.status).toBe(500)
    expect(body(res).error).toBe('server_error')
    expect(JSON.stringify(res.body)).not.toMatch(/admin|reserved|sub/)
    expect(events.map((e) => e.type)).toEqual(['server_error'])
  })

  it('has issuer claims that the guard claims type accepts', () => {
    expectTypeOf<IssuedClaims>().toExtend<GuardClaims>()
  })
})

describe.each([
  ['PS256', () => makeSigningKey('PS256')],
  ['ES256', () => makeSigningKey('ES256')],
] as const)('the contract with %s keys', (alg, make) => {
  it('is verified by the guard', async () => {
    const key = make()
    const s = await setup(key.input, [key.publicJwk])
    const access = body(await issue(s)).access_token as string
    expect(decodeProtectedHeader(access)).toMatchObject({ alg, typ: 'at+jwt' })
    const res = await request(s.apiApp).get('/auth').set('Authorization', `Bearer ${access}`)
    expect(res.status).toBe(200)
  })
})

describe('the contract with an HS256 shared secret', () => {
  const secret = 'a shared secret of at least thirty-two bytes!'

  it('is verified by a guard holding the same secret, and the secret is never published', async () => {
    const s = await setup({ kid: 'hs-1', alg: 'HS256', secret }, [{ secret, kid: 'hs-1' }])
    const access = body(await issue(s)).access_token as string
    expect(decodeProtectedHeader(access)).toEqual({ alg: 'HS256', typ: 'at+jwt', kid: 'hs-1' })
    expect(
      (await request(s.apiApp).get('/auth').set('Authorization', `Bearer ${access}`)).status,
    ).toBe(200)
    expect((await request(s.issuerApp).get('/jwks.json')).body).toEqual({ keys: [] })
  })

  it('is refused by a guard holding another secret', async () => {
    const s = await setup({ kid: 'hs-1', alg: 'HS256', secret }, [
      { secret: 'another shared secret, also 32+ bytes long', kid: 'hs-1' },
    ])
    const access = body(await issue(s)).access_token as string
    const res = await request(s.apiApp).get('/auth').set('Authorization', `Bearer ${access}`)
    expect(res.status).toBe(401)
  })
})
