import { statSync } from 'node:fs'
import { join } from 'node:path'
import { requireToken } from '@ccflow/guard'
import {
  type Client,
  type ClientJwks,
  type IssuerEvent,
  staticClientStore,
  tokenEndpoint,
} from '@ccflow/issuer'
import express from 'express'
import request from 'supertest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Listening, listenOnEphemeralPort, makeSigningKey, tempDir } from './helpers.js'
import { ccflow, CLI_BIN } from './support/cli.js'
import { jwtPayload, postAssertion } from './support/private-key-jwt.js'

/**
 * The private_key_jwt workflow of the README with the built `ccflow` bin: `keygen --client`
 * makes the key pair, its public JWK Set goes into the client record of a real token endpoint,
 * and both `ccflow assertion` (posted as curl would) and `ccflow token --key` get tokens.
 */
const AUDIENCE = 'https://api.internal'
const onExpress5 = process.env.CCFLOW_EXPRESS_MAJOR === '5'
const ALGORITHMS = ['ES256', 'EdDSA', 'PS256', 'RS256'] as const

/** A client key made by the bin: the private JWK file and the printed public JWK Set. */
interface CliKey {
  file: string
  jwks: ClientJwks
}

// The bin runs as its own process; the issuer is the same in-process either way, and its
// Express majors are covered elsewhere, so one major is enough (as in cli-bin.test.ts).
describe.skipIf(!onExpress5)('private_key_jwt with the built ccflow bin', () => {
  const { esm: bin } = CLI_BIN
  const dir = tempDir()
  const keys = {} as Record<(typeof ALGORITHMS)[number], CliKey>
  const events: IssuerEvent[] = []
  let issuer: Listening

  async function keygen(alg: (typeof ALGORITHMS)[number]): Promise<CliKey> {
    const file = join(dir.path, `billing-${alg.toLowerCase()}.jwk`)
    const args = ['keygen', '--client', '--out', file]
    if (alg !== 'ES256') args.push('--alg', alg)
    const result = await ccflow(bin, args)
    expect(result.code, result.stderr).toBe(0)
    expect(result.stderr).toBe(`private JWK written to ${file}\n`)
    return { file, jwks: JSON.parse(result.stdout) as ClientJwks }
  }

  beforeAll(async () => {
    const made = await Promise.all(ALGORITHMS.map(keygen))
    ALGORITHMS.forEach((alg, i) => {
      keys[alg] = made[i] as CliKey
    })
    // The printed JWK Set is the record's jwks value, pasted as the README shows.
    const clients: Client[] = ALGORITHMS.map((alg) => ({
      client_id: alg === 'ES256' ? 'billing' : `billing-${alg.toLowerCase()}`,
      scope: 'reports:read reports:write',
      audiences: [AUDIENCE],
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: keys[alg].jwks,
    }))
    const signingKey = makeSigningKey('ES256')
    issuer = await listenOnEphemeralPort((url) => {
      const app = express()
      app.use(
        tokenEndpoint({
          issuer: url,
          clients: staticClientStore(clients),
          keys: [signingKey.input],
          rateLimit: false,
          onEvent: (event) => events.push(event),
        }),
      )
      return app
    })
  })
  afterAll(async () => {
    await issuer.close()
    dir.remove()
  })

  const clientId = (alg: (typeof ALGORITHMS)[number]): string =>
    alg === 'ES256' ? 'billing' : `billing-${alg.toLowerCase()}`

  describe('ccflow keygen --client --out FILE', () => {
    it('writes the private JWK to a new file of mode 0600 and prints one public key', () => {
      const { file, jwks } = keys.ES256
      expect(statSync(file).mode & 0o777).toBe(0o600)
      expect(jwks.keys).toHaveLength(1)
      const [publicJwk] = jwks.keys
      expect(publicJwk).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' })
      expect(publicJwk).not.toHaveProperty('d')
    })

    it('refuses to overwrite an existing key file (exit 1)', async () => {
      const result = await ccflow(bin, ['keygen', '--client', '--out', keys.ES256.file])
      expect(result.code).toBe(1)
      expect(result.stdout).toBe('')
    })
  })

  describe('ccflow assertion', () => {
    it.each(ALGORITHMS)(
      'prints a %s assertion that the token endpoint accepts once, posted as curl would',
      async (alg) => {
        const result = await ccflow(bin, [
          'assertion',
          '--key',
          keys[alg].file,
          '--client-id',
          clientId(alg),
          '--issuer',
          issuer.url,
        ])
        expect(result.code, result.stderr).toBe(0)
        expect(result.stderr).toBe('')
        expect(result.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/)
        const assertion = result.stdout.trim()
        expect(jwtPayload(assertion)).toMatchObject({
          iss: clientId(alg),
          sub: clientId(alg),
          aud: issuer.url,
        })

        const res = await postAssertion(`${issuer.url}/token`, assertion, {
          scope: 'reports:read',
        })
        expect(res.status).toBe(200)
        expect(res.body).toMatchObject({ token_type: 'Bearer', scope: 'reports:read' })

        const replayed = await postAssertion(`${issuer.url}/token`, assertion)
        expect(replayed.status).toBe(401)
        expect(replayed.body).toMatchObject({ error: 'invalid_client' })
      },
    )

    it('signs with a new jti on every run', async () => {
      const args = ['assertion', '--key', keys.ES256.file, '--client-id', 'billing']
      const [first, second] = await Promise.all([
        ccflow(bin, [...args, '--issuer', issuer.url]),
        ccflow(bin, [...args, '--issuer', issuer.url]),
      ])
      expect(jwtPayload(first.stdout.trim()).jti).not.toBe(jwtPayload(second.stdout.trim()).jti)
    })

    it('makes an assertion for `--issuer URL/` that the endpoint refuses, and warns about it', async () => {
      const result = await ccflow(bin, [
        'assertion',
        '--key',
        keys.ES256.file,
        '--client-id',
        'billing',
        '--issuer',
        `${issuer.url}/`,
      ])
      expect(result.code).toBe(0)
      expect(result.stderr).toMatch(/warning/)
      const res = await postAssertion(`${issuer.url}/token`, result.stdout.trim())
      expect(res.status).toBe(401)
      expect(events).toContainEqual(
        expect.objectContaining({ reason: 'assertion_wrong_audience', clientId: 'billing' }),
      )
    })
  })

  describe('ccflow token --key', () => {
    it.each(ALGORITHMS)(
      'prints the token response of a private_key_jwt request with a %s key',
      async (alg) => {
        const result = await ccflow(bin, [
          'token',
          '--key',
          keys[alg].file,
          '--issuer',
          issuer.url,
          '--client-id',
          clientId(alg),
          '--scope',
          'reports:write',
        ])
        expect(result.code, result.stderr).toBe(0)
        const response = JSON.parse(result.stdout) as Record<string, unknown>
        expect(response).toMatchObject({ token_type: 'Bearer', scope: 'reports:write' })
        expect(response.expires_in).toBeGreaterThan(0)
        expect(jwtPayload(response.access_token as string)).toMatchObject({
          iss: issuer.url,
          client_id: clientId(alg),
        })
      },
    )

    it('prints a token that @ccflow/guard accepts through the JWKS', async () => {
      const result = await ccflow(bin, [
        'token',
        '--key',
        keys.ES256.file,
        '--issuer',
        issuer.url,
        '--client-id',
        'billing',
      ])
      const { access_token: token } = JSON.parse(result.stdout) as { access_token: string }
      const api = express()
      api.get(
        '/reports',
        requireToken({
          issuer: issuer.url,
          audience: AUDIENCE,
          jwksUri: `${issuer.url}/jwks.json`,
        }),
        (req, res) => {
          res.json({ clientId: req.auth?.clientId })
        },
      )
      const res = await request(api).get('/reports').set('Authorization', `Bearer ${token}`)
      expect(res.status).toBe(200)
      expect(res.body).toEqual({ clientId: 'billing' })
    })

    it('exits 1 naming the answer when the key is not the one the record holds', async () => {
      const result = await ccflow(bin, [
        'token',
        '--key',
        keys.EdDSA.file,
        '--issuer',
        issuer.url,
        '--client-id',
        'billing',
      ])
      expect(result.code).toBe(1)
      expect(result.stdout).toBe('')
      expect(result.stderr).toMatch(/token endpoint answered 401 invalid_client/)
    })
  })
})
