import * as core from '@ccflow/core'
import { createHmac, generateKeyPairSync, type KeyObject, randomUUID, sign } from 'node:crypto'
import type { Express } from 'express'
import request from 'supertest'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import * as burn from '../../../src/clients/assertion/burn.js'
import { redisReplayStore, type ReplayStore } from '../../../src/clients/assertion/replay-store.js'
import { JWT_BEARER_ASSERTION_TYPE } from '../../../src/clients/assertion/verify-assertion.js'
import { AddressRefusedError } from '../../../src/clients/assertion/address-policy.js'
import { type Client, staticClientStore } from '../../../src/clients/client-store.js'
import type { AuthenticationFailureReason } from '../../../src/events.js'
import type { TokenEndpointOptions } from '../../../src/options/types.js'
import { memoryDenylist } from '../../../src/revocation/denylist.js'
import {
  basic,
  clients,
  createApp,
  eventSpy,
  form,
  ISSUER,
  NO_STORE,
  ORDERS,
  secrets,
} from '../../helpers.js'
import { type ClientKey, clientKey, json, startServer, type TestServer } from './servers.js'

// Counted, not changed: the timing-uniformity tests check how many signature verifications each
// refusal costs.
vi.mock('@ccflow/core', async (importOriginal) => {
  const original = await importOriginal<typeof import('@ccflow/core')>()
  return { ...original, verifyJwsSignature: vi.fn(original.verifyJwsSignature) }
})
vi.mock('../../../src/clients/assertion/burn.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../../src/clients/assertion/burn.js')>()
  return { ...original, burnSignatureCheck: vi.fn(original.burnSignatureCheck) }
})

// Keys are made once for the file (RSA takes tens of milliseconds).
const ec = clientKey('ec-1')
const ec2 = clientKey('ec-2')
const rsa = clientKey('rsa-1', 'RSA')
const ed = clientKey('ed-1', 'Ed25519')
const ec384 = p384Key('ec384-1')
/** Not the client's key, but published under the client's kid by an attacker. */
const attacker = clientKey('ec-1')

function p384Key(kid: string): ClientKey {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' })
  return { kid, publicKey, privateKey, jwk: { ...publicKey.export({ format: 'jwk' }), kid } }
}

const TOKEN_URL = `${ISSUER}/token`
const NOW = Date.UTC(2030, 0, 1) / 1000
const GRANT = { grant_type: 'client_credentials' }
const INVALID_CLIENT = {
  error: 'invalid_client',
  error_description: 'Client authentication failed.',
}
const UNAVAILABLE = {
  error: 'temporarily_unavailable',
  error_description:
    'The service is temporarily unavailable. Retry after the number of seconds in the Retry-After header.',
}
const TWO_METHODS = {
  error: 'invalid_request',
  error_description: 'The request uses more than one client authentication method.',
}

const KEY_CLIENT = 'key-client'
const keyRecord = (client_id: string, extra: Partial<Client> = {}): Client => ({
  client_id,
  scope: 'orders:read',
  audiences: [ORDERS],
  token_endpoint_auth_method: 'private_key_jwt',
  ...(extra.jwks_uri === undefined ? { jwks: { keys: [ec.jwk] } } : {}),
  ...extra,
})
const keyClients: Client[] = [
  // No registered algorithm: the server allow-list applies (ES384 is not in it).
  keyRecord(KEY_CLIENT, {
    jwks: { keys: [ec.jwk, rsa.jwk, ed.jwk, ec384.jwk] },
    introspection: true,
  }),
  keyRecord('two-ec-keys', { jwks: { keys: [ec.jwk, ec2.jwk] } }),
  keyRecord('rs256-only', {
    token_endpoint_auth_signing_alg: 'RS256',
    jwks: { keys: [rsa.jwk, ec.jwk] },
  }),
  keyRecord('es384-client', {
    token_endpoint_auth_signing_alg: 'ES384',
    jwks: { keys: [ec384.jwk] },
  }),
  keyRecord('short-lived', { max_assertion_lifetime: 60 }),
  keyRecord('disabled-key', { disabled: true }),
]
const store = staticClientStore([...clients, ...keyClients])

const spy = eventSpy()

function appWith(overrides: Partial<TokenEndpointOptions> = {}): Express {
  return createApp({ clients: store, rateLimit: false, onEvent: spy.onEvent, ...overrides })
}

interface AssertionSpec {
  /** Merged over `{ alg: 'ES256', kid: 'ec-1' }`; a member set to undefined is left out. */
  header?: Record<string, unknown>
  /** Merged over iss, sub, aud, jti, iat and exp; a member set to undefined is left out. */
  claims?: Record<string, unknown>
  key?: KeyObject
  clientId?: string
}

/** A client assertion signed with `signJws` (JSON.stringify leaves undefined members out). */
function assertion({
  header = {},
  claims = {},
  key = ec.privateKey,
  clientId = KEY_CLIENT,
}: AssertionSpec = {}): string {
  const now = Math.floor(Date.now() / 1000)
  return core.signJws(
    { alg: 'ES256', kid: 'ec-1', ...header },
    {
      iss: clientId,
      sub: clientId,
      aud: ISSUER,
      jti: randomUUID(),
      iat: now,
      exp: now + 60,
      ...claims,
    },
    key,
  )
}

const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64url')

/** An ES256 compact JWS over exactly these JSON texts (for duplicate members). */
function signedText(headerJson: string, payloadJson: string, key = ec.privateKey): string {
  const input = `${b64(headerJson)}.${b64(payloadJson)}`
  const signature = sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' })
  return `${input}.${signature.toString('base64url')}`
}

function claimsJson(extra = ''): string {
  const now = Math.floor(Date.now() / 1000)
  return (
    `{"iss":"${KEY_CLIENT}","sub":"${KEY_CLIENT}","aud":"${ISSUER}","jti":"${randomUUID()}",` +
    `"iat":${now},"exp":${now + 60}${extra}}`
  )
}

const assertionFields = (value: string, extra: Record<string, string> = {}) => ({
  ...GRANT,
  client_assertion_type: JWT_BEARER_ASSERTION_TYPE,
  client_assertion: value,
  ...extra,
})

function post(
  app: Express,
  fields: Record<string, string> | Array<[string, string]>,
  headers: Record<string, string> = {},
  path = '/token',
): Promise<request.Response> {
  const req = request(app).post(path).type('form')
  for (const [name, value] of Object.entries(headers)) void req.set(name, value)
  return req.send(form(fields))
}

const postAssertion = (app: Express, value: string, extra: Record<string, string> = {}) =>
  post(app, assertionFields(value, extra))

/** The uniform refusal: 401, fixed body, no challenge (a body method), the precise event. */
function expectRefused(
  res: request.Response,
  reason: AuthenticationFailureReason,
  clientId?: string,
): void {
  expect(res.status).toBe(401)
  expect(res.text).toBe(JSON.stringify(INVALID_CLIENT))
  expect(res.headers['content-type']).toBe('application/json')
  expect(res.headers['www-authenticate']).toBeUndefined()
  expect(res.headers).toMatchObject(NO_STORE)
  expect(spy.events('authentication_failed')).toEqual([
    {
      type: 'authentication_failed',
      reason,
      method: 'private_key_jwt',
      ...(clientId === undefined ? {} : { clientId }),
      ip: expect.any(String) as unknown,
    },
  ])
  expect(spy.events('token_issued')).toEqual([])
}

function expectIssued(res: request.Response, clientId = KEY_CLIENT): void {
  // The refusal's reason first: it says more than the status.
  expect(spy.events('authentication_failed')).toEqual([])
  expect(res.status).toBe(200)
  expect(res.body).toMatchObject({
    token_type: 'Bearer',
    access_token: expect.any(String) as unknown,
  })
  expect(spy.events('token_issued')).toMatchObject([{ clientId }])
}

/** The 503 of a dependency that cannot answer: Retry-After, nothing issued. */
function expectUnavailable(res: request.Response): void {
  expect(res.status).toBe(503)
  expect(res.body).toEqual(UNAVAILABLE)
  expect(res.headers['retry-after']).toBe('1')
  expect(res.headers['www-authenticate']).toBeUndefined()
  expect(res.headers).toMatchObject(NO_STORE)
  expect(spy.events('token_issued')).toEqual([])
  expect(spy.events('authentication_failed')).toEqual([])
}

beforeEach(() => {
  // Only Date is faked: sockets and timers stay real.
  vi.useFakeTimers({ toFake: ['Date'] })
  vi.setSystemTime(NOW * 1000)
})

afterEach(() => {
  vi.useRealTimers()
  spy.onEvent.mockClear()
  vi.mocked(core.verifyJwsSignature).mockClear()
  vi.mocked(burn.burnSignatureCheck).mockClear()
})

describe('POST /token with private_key_jwt (RFC 7523 §2.2)', () => {
  const app = appWith()

  describe('a valid assertion', () => {
    it('issues a token for an assertion signed with a registered key', async () => {
      const res = await postAssertion(app, assertion())
      expectIssued(res)
      expect(res.headers).toMatchObject(NO_STORE)
    })

    it.each([
      ['ES256', KEY_CLIENT, ec],
      ['EdDSA', KEY_CLIENT, ed],
      ['PS256', KEY_CLIENT, rsa],
      ['RS256', KEY_CLIENT, rsa],
      ['ES384', 'es384-client', ec384],
    ])('issues a token for an assertion signed with %s', async (alg, clientId, key) => {
      const value = assertion({ clientId, header: { alg, kid: key.kid }, key: key.privateKey })
      expectIssued(await postAssertion(app, value), clientId)
    })

    it.each([
      undefined,
      'JWT',
      'client-authentication+jwt',
      'application/client-authentication+jwt',
    ])('accepts typ %s (RFC 7515 §4.1.9, RFC 7523bis)', async (typ) => {
      expectIssued(await postAssertion(app, assertion({ header: { typ } })))
    })

    it('uses the only registered key that fits alg when the header has no kid', async () => {
      expectIssued(await postAssertion(app, assertion({ header: { kid: undefined } })))
    })

    it('accepts a body client_id equal to sub (RFC 7521 §4.2)', async () => {
      expectIssued(await postAssertion(app, assertion(), { client_id: KEY_CLIENT }))
    })

    it('accepts aud as an array holding only the issuer identifier', async () => {
      expectIssued(await postAssertion(app, assertion({ claims: { aud: [ISSUER] } })))
    })

    it('accepts an assertion without iat whose exp is within the lifetime limit', async () => {
      const claims = { iat: undefined, exp: NOW + 60 }
      expectIssued(await postAssertion(app, assertion({ claims })))
    })

    it('accepts iat and nbf in the future within the clock tolerance (15 s)', async () => {
      const claims = { iat: NOW + 10, nbf: NOW + 10, exp: NOW + 60 }
      expectIssued(await postAssertion(app, assertion({ claims })))
    })

    it('accepts a jti of 256 characters', async () => {
      expectIssued(await postAssertion(app, assertion({ claims: { jti: 'j'.repeat(256) } })))
    })
  })

  describe('one method per request (RFC 6749 §2.3)', () => {
    it('answers 400 invalid_request for an assertion together with client_secret', async () => {
      const res = await postAssertion(app, assertion(), {
        client_id: KEY_CLIENT,
        client_secret: 'whatever',
      })
      expect(res.status).toBe(400)
      expect(res.body).toEqual(TWO_METHODS)
      expect(res.headers['www-authenticate']).toBeUndefined()
      expect(spy.events('token_request_rejected')).toMatchObject([
        { error: 'invalid_request', reason: 'multiple_auth_methods' },
      ])
      expect(spy.events('token_issued')).toEqual([])
    })

    it('answers 400 invalid_request for an assertion together with a Basic header', async () => {
      const res = await post(app, assertionFields(assertion()), {
        Authorization: basic('reporter', secrets.reporter.secret),
      })
      expect(res.status).toBe(400)
      expect(res.body).toEqual(TWO_METHODS)
      expect(spy.events('token_request_rejected')).toMatchObject([
        { error: 'invalid_request', reason: 'multiple_auth_methods' },
      ])
      expect(spy.events('token_issued')).toEqual([])
    })

    it('answers 400 invalid_request for a repeated client_assertion (RFC 6749 §3.2)', async () => {
      const value = assertion()
      const res = await post(app, [
        ['grant_type', 'client_credentials'],
        ['client_assertion_type', JWT_BEARER_ASSERTION_TYPE],
        ['client_assertion', value],
        ['client_assertion', value],
      ])
      expect(res.status).toBe(400)
      expect(res.body).toMatchObject({ error: 'invalid_request' })
      expect(res.text).not.toContain(value)
      expect(spy.events('token_request_rejected')).toMatchObject([
        { error: 'invalid_request', reason: 'duplicate_parameter' },
      ])
      expect(spy.events('token_issued')).toEqual([])
    })

    it('answers 401 invalid_client for a client_assertion_type other than jwt-bearer (RFC 7523 §2.2)', async () => {
      const res = await postAssertion(app, assertion(), {
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:saml2-bearer',
      })
      expectRefused(res, 'unsupported_assertion_type')
    })

    it('answers 401 invalid_client for a client_assertion without client_assertion_type', async () => {
      const res = await post(app, { ...GRANT, client_assertion: assertion() })
      expectRefused(res, 'unsupported_assertion_type')
    })

    it('answers 401 invalid_client for a client_assertion_type without client_assertion', async () => {
      const res = await post(app, { ...GRANT, client_assertion_type: JWT_BEARER_ASSERTION_TYPE })
      expectRefused(res, 'malformed_assertion')
    })

    it('answers 401 invalid_client when a secret client presents an assertion', async () => {
      const res = await postAssertion(app, assertion({ clientId: 'reporter' }))
      expectRefused(res, 'auth_method_not_allowed', 'reporter')
    })

    it('answers 401 invalid_client when a key client presents a secret in the body', async () => {
      const res = await post(app, { ...GRANT, client_id: KEY_CLIENT, client_secret: 'guess' })
      expect(res.status).toBe(401)
      expect(res.body).toEqual(INVALID_CLIENT)
      expect(res.headers['www-authenticate']).toBeUndefined()
      expect(spy.events('authentication_failed')).toMatchObject([
        { reason: 'auth_method_not_allowed', method: 'client_secret_post', clientId: KEY_CLIENT },
      ])
    })

    it('answers 401 invalid_client with the Basic challenge when a key client presents a Basic header', async () => {
      const res = await post(app, GRANT, { Authorization: basic(KEY_CLIENT, 'guess') })
      expect(res.status).toBe(401)
      expect(res.body).toEqual(INVALID_CLIENT)
      expect(res.headers['www-authenticate']).toBe('Basic realm="ccflow"')
      expect(spy.events('authentication_failed')).toMatchObject([
        { reason: 'auth_method_not_allowed', method: 'client_secret_basic', clientId: KEY_CLIENT },
      ])
    })

    it('answers 401 invalid_client for a disabled key client, although its assertion is valid', async () => {
      const res = await postAssertion(app, assertion({ clientId: 'disabled-key' }))
      expectRefused(res, 'disabled_client', 'disabled-key')
    })

    it('answers 401 invalid_client when sub names no registered client', async () => {
      const res = await postAssertion(app, assertion({ clientId: 'nobody' }))
      expectRefused(res, 'unknown_client', 'nobody')
    })

    it.each(['__proto__', 'constructor', 'hasOwnProperty'])(
      'answers 401 invalid_client when sub is %s (no prototype lookup)',
      async (sub) => {
        expectRefused(await postAssertion(app, assertion({ clientId: sub })), 'unknown_client', sub)
      },
    )
  })

  describe('size and shape (RFC 7515 §7.1)', () => {
    /** A valid assertion padded with a claim to about `length` characters. */
    function paddedAssertion(length: number): string {
      const base = assertion({ claims: { pad: '' } }).length
      // Three JSON characters become four base64url characters.
      let padLength = Math.floor(((length - base) * 3) / 4)
      let value = assertion({ claims: { pad: 'p'.repeat(padLength) } })
      while (value.length > length) {
        padLength -= 1
        value = assertion({ claims: { pad: 'p'.repeat(padLength) } })
      }
      return value
    }

    it('accepts an assertion just under the 8 KiB cap', async () => {
      const value = paddedAssertion(8192)
      expect(value.length).toBeGreaterThan(8185)
      const res = await postAssertion(appWith({ bodyLimit: 16_384 }), value)
      expectIssued(res)
    })

    it('answers 401 invalid_client for an assertion over 8192 characters', async () => {
      const value = paddedAssertion(8300)
      expect(value.length).toBeGreaterThan(8192)
      const res = await postAssertion(appWith({ bodyLimit: 16_384 }), value)
      expectRefused(res, 'assertion_too_large')
    })

    it('answers 413 before reading an assertion when the body exceeds bodyLimit (4096 by default)', async () => {
      const res = await postAssertion(app, paddedAssertion(8300))
      expect(res.status).toBe(413)
      expect(res.body).toEqual({
        error: 'invalid_request',
        error_description: 'The request body is too large.',
      })
      expect(spy.events('token_request_rejected')).toMatchObject([{ reason: 'body_too_large' }])
      expect(spy.events('token_issued')).toEqual([])
    })

    it('answers 401 invalid_client for a JWE-shaped token of five parts', async () => {
      const jwe = [
        b64('{"alg":"RSA-OAEP-256","enc":"A256GCM","kid":"rsa-1"}'),
        b64('encrypted key'),
        b64('iv'),
        b64(claimsJson()),
        b64('tag'),
      ].join('.')
      expectRefused(await postAssertion(app, jwe), 'malformed_assertion')
    })

    it.each([
      ['not a JWT at all', 'not-a-jwt'],
      ['two parts', `${b64('{"alg":"ES256"}')}.${b64(claimsJson())}`],
      ['four parts', `${b64('{"alg":"ES256"}')}.${b64(claimsJson())}.c2ln.c2ln`],
      ['a header that is not JSON', `${b64('{alg:ES256}')}.${b64(claimsJson())}.c2ln`],
      ['a payload that is a JSON array', `${b64('{"alg":"ES256"}')}.${b64('["key-client"]')}.c2ln`],
      ['padding in a segment', `${b64('{"alg":"ES256"}')}=.${b64(claimsJson())}.c2ln`],
    ])('answers 401 invalid_client for %s', async (_name, value) => {
      expectRefused(await postAssertion(app, value), 'malformed_assertion')
    })

    it('answers 401 invalid_client for a crit header (RFC 7515 §4.1.11)', async () => {
      const value = assertion({ header: { crit: ['exp'], exp: NOW + 60 } })
      expectRefused(await postAssertion(app, value), 'assertion_crit_header')
    })

    it('answers 401 invalid_client for a duplicate member in the payload (RFC 7515 §5.2)', async () => {
      // A parser keeping the first sub would read "key-client", JSON.parse reads "nobody".
      const value = signedText('{"alg":"ES256","kid":"ec-1"}', claimsJson(',"sub":"nobody"'))
      expectRefused(await postAssertion(app, value), 'assertion_duplicate_member')
    })

    it('answers 401 invalid_client for a duplicate member in the header', async () => {
      const value = signedText('{"alg":"ES256","kid":"ec-1","alg":"HS256"}', claimsJson())
      expectRefused(await postAssertion(app, value), 'assertion_duplicate_member')
    })

    it('answers 401 invalid_client for a duplicate member spelled with an escape ("s\\u0075b")', async () => {
      const value = signedText('{"alg":"ES256","kid":"ec-1"}', claimsJson(',"s\\u0075b":"nobody"'))
      expectRefused(await postAssertion(app, value), 'assertion_duplicate_member')
    })
  })

  describe('header: alg, typ and keys (RFC 7515 §4.1, RFC 8725 §3.1)', () => {
    it('answers 401 invalid_client for alg none with an empty signature', async () => {
      const value = `${b64('{"alg":"none","typ":"JWT"}')}.${b64(claimsJson())}.`
      expectRefused(await postAssertion(app, value), 'assertion_alg_not_allowed')
    })

    it("answers 401 invalid_client for HS256 keyed with the PEM bytes of the client's public key", async () => {
      const pem = rsa.publicKey.export({ type: 'spki', format: 'pem' })
      const input = `${b64('{"alg":"HS256","kid":"rsa-1"}')}.${b64(claimsJson())}`
      const value = `${input}.${createHmac('sha256', pem).update(input).digest('base64url')}`
      expectRefused(await postAssertion(app, value), 'assertion_alg_not_allowed')
    })

    it('answers 401 invalid_client for an alg the client did not register (token_endpoint_auth_signing_alg)', async () => {
      // PS256 with the very RSA key registered for RS256.
      const value = assertion({
        clientId: 'rs256-only',
        header: { alg: 'PS256', kid: 'rsa-1' },
        key: rsa.privateKey,
      })
      expectRefused(await postAssertion(app, value), 'assertion_alg_not_allowed', 'rs256-only')
    })

    it('answers 401 invalid_client for an allow-listed alg when the client registered another', async () => {
      const value = assertion({ clientId: 'rs256-only' })
      expectRefused(await postAssertion(app, value), 'assertion_alg_not_allowed', 'rs256-only')
    })

    it('issues a token for the alg the client registered', async () => {
      const value = assertion({
        clientId: 'rs256-only',
        header: { alg: 'RS256', kid: 'rsa-1' },
        key: rsa.privateKey,
      })
      expectIssued(await postAssertion(app, value), 'rs256-only')
    })

    it('answers 401 invalid_client for an alg outside the server allow-list', async () => {
      const value = assertion({ header: { alg: 'ES384', kid: 'ec384-1' }, key: ec384.privateKey })
      expectRefused(await postAssertion(app, value), 'assertion_alg_not_allowed', KEY_CLIENT)
    })

    it('applies privateKeyJwt.signingAlgorithms to clients without a registered alg', async () => {
      const strict = appWith({ privateKeyJwt: { signingAlgorithms: ['ES256'] } })
      const value = assertion({ header: { alg: 'EdDSA', kid: 'ed-1' }, key: ed.privateKey })
      expectRefused(await postAssertion(strict, value), 'assertion_alg_not_allowed', KEY_CLIENT)
      spy.onEvent.mockClear()
      expectIssued(await postAssertion(strict, assertion()))
    })

    it.each(['at+jwt', 'application/at+jwt', 'dpop+jwt', 'logout+jwt', 'JOSE'])(
      'answers 401 invalid_client for typ %s (a token made for another purpose)',
      async (typ) => {
        expectRefused(await postAssertion(app, assertion({ header: { typ } })), 'assertion_bad_typ')
      },
    )

    it("never verifies with a jwk in the header: an attacker's key signing its own jwk fails", async () => {
      const value = assertion({
        header: { kid: undefined, jwk: attacker.jwk },
        key: attacker.privateKey,
      })
      expectRefused(await postAssertion(app, value), 'assertion_bad_signature', KEY_CLIENT)
    })

    it('never fetches jku or x5u, nor uses x5c, from the header', async () => {
      const value = assertion({
        header: {
          jku: 'https://attacker.example/jwks.json',
          x5u: 'https://attacker.example/cert.pem',
          x5c: ['MIIB'],
          jwk: attacker.jwk,
        },
        key: attacker.privateKey,
      })
      expectRefused(await postAssertion(app, value), 'assertion_bad_signature', KEY_CLIENT)
    })
  })

  describe("signature with the client's registered keys (RFC 7523 §3 item 9)", () => {
    it('answers 401 invalid_client for a kid the client did not register', async () => {
      const value = assertion({ header: { kid: 'unknown' } })
      expectRefused(await postAssertion(app, value), 'assertion_unknown_key', KEY_CLIENT)
    })

    it.each(['__proto__', 'constructor'])(
      'answers 401 invalid_client for kid %s (no prototype lookup)',
      async (kid) => {
        const value = assertion({ header: { kid } })
        expectRefused(await postAssertion(app, value), 'assertion_unknown_key', KEY_CLIENT)
      },
    )

    it("answers 401 invalid_client when kid names the client's key of another type", async () => {
      const value = assertion({ header: { kid: 'rsa-1' } })
      expectRefused(await postAssertion(app, value), 'assertion_unknown_key', KEY_CLIENT)
    })

    it('answers 401 invalid_client without kid when two registered keys fit alg (ambiguous)', async () => {
      const value = assertion({ clientId: 'two-ec-keys', header: { kid: undefined } })
      expectRefused(await postAssertion(app, value), 'assertion_unknown_key', 'two-ec-keys')
    })

    it('issues a token with kid when the client has two keys that fit alg', async () => {
      const value = assertion({
        clientId: 'two-ec-keys',
        header: { kid: 'ec-2' },
        key: ec2.privateKey,
      })
      expectIssued(await postAssertion(app, value), 'two-ec-keys')
    })

    it('answers 401 invalid_client for a signature by another key', async () => {
      const value = assertion({ key: ec2.privateKey })
      expectRefused(await postAssertion(app, value), 'assertion_bad_signature', KEY_CLIENT)
    })
  })

  describe('iss and sub (RFC 7523 §3 items 1 and 2)', () => {
    it('answers 401 invalid_client when iss differs from sub', async () => {
      const value = assertion({ claims: { iss: 'two-ec-keys' } })
      expectRefused(await postAssertion(app, value), 'assertion_wrong_issuer', KEY_CLIENT)
    })

    it('answers 401 invalid_client when the body client_id differs from sub (RFC 7521 §4.2)', async () => {
      const res = await postAssertion(app, assertion(), { client_id: 'two-ec-keys' })
      expectRefused(res, 'client_id_mismatch', KEY_CLIENT)
    })
  })

  describe('aud (RFC 7523 §3 item 3, RFC 7523bis)', () => {
    it('answers 401 invalid_client when aud is the token endpoint URL (RFC 7523bis)', async () => {
      const value = assertion({ claims: { aud: TOKEN_URL } })
      expectRefused(await postAssertion(app, value), 'assertion_wrong_audience', KEY_CLIENT)
    })

    it.each([
      ['[issuer, token URL]', [ISSUER, TOKEN_URL]],
      ['[issuer, another server]', [ISSUER, 'https://other.example.test']],
      ['[issuer, issuer]', [ISSUER, ISSUER]],
      ['an empty array', []],
    ])('answers 401 invalid_client when aud is %s', async (_name, aud) => {
      const value = assertion({ claims: { aud } })
      expectRefused(await postAssertion(app, value), 'assertion_wrong_audience', KEY_CLIENT)
    })

    it('answers 401 invalid_client when aud is missing', async () => {
      const value = assertion({ claims: { aud: undefined } })
      expectRefused(await postAssertion(app, value), 'assertion_wrong_audience', KEY_CLIENT)
    })

    it('answers 401 invalid_client when aud differs from the issuer by a trailing slash', async () => {
      const value = assertion({ claims: { aud: `${ISSUER}/` } })
      expectRefused(await postAssertion(app, value), 'assertion_wrong_audience', KEY_CLIENT)
    })

    describe("assertionAudience: 'issuer-string'", () => {
      const strict = appWith({ privateKeyJwt: { assertionAudience: 'issuer-string' } })

      it('issues a token when aud is the issuer as a string', async () => {
        expectIssued(await postAssertion(strict, assertion()))
      })

      it('answers 401 invalid_client when aud is an array of one', async () => {
        const value = assertion({ claims: { aud: [ISSUER] } })
        expectRefused(await postAssertion(strict, value), 'assertion_wrong_audience', KEY_CLIENT)
      })

      it('answers 401 invalid_client when aud is the token endpoint URL', async () => {
        const value = assertion({ claims: { aud: TOKEN_URL } })
        expectRefused(await postAssertion(strict, value), 'assertion_wrong_audience', KEY_CLIENT)
      })
    })

    describe("assertionAudience: 'legacy'", () => {
      const legacy = appWith({ privateKeyJwt: { assertionAudience: 'legacy' } })

      it.each([
        ['the token endpoint URL', TOKEN_URL],
        ['an array holding only the token endpoint URL', [TOKEN_URL]],
      ])('issues a token when aud is %s and reports assertion_legacy_audience', async (_n, aud) => {
        const res = await postAssertion(legacy, assertion({ claims: { aud } }))
        expectIssued(res)
        expect(spy.events('assertion_legacy_audience')).toEqual([
          {
            type: 'assertion_legacy_audience',
            clientId: KEY_CLIENT,
            ip: expect.any(String) as unknown,
          },
        ])
      })

      it('issues a token when aud is the issuer, without the legacy event', async () => {
        expectIssued(await postAssertion(legacy, assertion()))
        expect(spy.events('assertion_legacy_audience')).toEqual([])
      })

      it('answers 401 invalid_client when aud is [issuer, token URL]: one value only', async () => {
        const value = assertion({ claims: { aud: [ISSUER, TOKEN_URL] } })
        expectRefused(await postAssertion(legacy, value), 'assertion_wrong_audience', KEY_CLIENT)
        expect(spy.events('assertion_legacy_audience')).toEqual([])
      })
    })
  })

  describe('exp, iat and nbf (RFC 7523 §3 items 4 to 6)', () => {
    it('answers 401 invalid_client for an expired assertion', async () => {
      const value = assertion({ claims: { iat: NOW - 120, exp: NOW - 60 } })
      expectRefused(await postAssertion(app, value), 'assertion_expired', KEY_CLIENT)
    })

    it('answers 401 invalid_client without exp', async () => {
      const value = assertion({ claims: { exp: undefined } })
      expectRefused(await postAssertion(app, value), 'assertion_missing_exp', KEY_CLIENT)
    })

    it('answers 401 invalid_client when exp is not a number', async () => {
      const value = assertion({ claims: { exp: String(NOW + 60) } })
      expectRefused(await postAssertion(app, value), 'assertion_missing_exp', KEY_CLIENT)
    })

    it('answers 401 invalid_client when exp − iat exceeds 300 s', async () => {
      const value = assertion({ claims: { iat: NOW, exp: NOW + 301 } })
      expectRefused(await postAssertion(app, value), 'assertion_lifetime_too_long', KEY_CLIENT)
    })

    it('answers 401 invalid_client without iat when exp is far in the future', async () => {
      const value = assertion({ claims: { iat: undefined, exp: NOW + 3600 } })
      expectRefused(await postAssertion(app, value), 'assertion_lifetime_too_long', KEY_CLIENT)
    })

    it("applies the client's max_assertion_lifetime", async () => {
      const clientId = 'short-lived'
      const tooLong = assertion({ clientId, claims: { exp: NOW + 61 } })
      expectRefused(await postAssertion(app, tooLong), 'assertion_lifetime_too_long', clientId)
      spy.onEvent.mockClear()
      expectIssued(
        await postAssertion(app, assertion({ clientId, claims: { exp: NOW + 60 } })),
        clientId,
      )
    })

    it('applies privateKeyJwt.maxAssertionLifetimeSeconds', async () => {
      const strict = appWith({ privateKeyJwt: { maxAssertionLifetimeSeconds: 30 } })
      const value = assertion({ claims: { exp: NOW + 31 } })
      expectRefused(await postAssertion(strict, value), 'assertion_lifetime_too_long', KEY_CLIENT)
    })

    it('answers 401 invalid_client when iat is more than 15 s in the future', async () => {
      const value = assertion({ claims: { iat: NOW + 30, exp: NOW + 90 } })
      expectRefused(await postAssertion(app, value), 'assertion_issued_in_future', KEY_CLIENT)
    })

    it('answers 401 invalid_client when nbf is more than 15 s in the future', async () => {
      const value = assertion({ claims: { nbf: NOW + 30, exp: NOW + 90 } })
      expectRefused(await postAssertion(app, value), 'assertion_not_yet_valid', KEY_CLIENT)
    })
  })

  describe('jti and replay (RFC 7523 §3 item 7)', () => {
    it('answers 401 invalid_client without jti', async () => {
      const value = assertion({ claims: { jti: undefined } })
      expectRefused(await postAssertion(app, value), 'assertion_missing_jti', KEY_CLIENT)
    })

    it('answers 401 invalid_client for a jti of 257 characters', async () => {
      const value = assertion({ claims: { jti: 'j'.repeat(257) } })
      expectRefused(await postAssertion(app, value), 'assertion_jti_too_long', KEY_CLIENT)
    })

    it.each([42, ['a'], { id: 'a' }])(
      'answers 401 invalid_client for a jti that is not a string (%j)',
      async (jti) => {
        const value = assertion({ claims: { jti } })
        expectRefused(await postAssertion(app, value), 'assertion_missing_jti', KEY_CLIENT)
      },
    )

    it('answers 401 invalid_client when the same assertion is used twice', async () => {
      const value = assertion()
      expectIssued(await postAssertion(app, value))
      spy.onEvent.mockClear()
      expectRefused(await postAssertion(app, value), 'assertion_replayed', KEY_CLIENT)
    })

    it('answers 401 invalid_client for a new assertion reusing a jti', async () => {
      const jti = randomUUID()
      expectIssued(await postAssertion(app, assertion({ claims: { jti } })))
      spy.onEvent.mockClear()
      const again = assertion({ claims: { jti, iat: NOW + 1 } })
      expectRefused(await postAssertion(app, again), 'assertion_replayed', KEY_CLIENT)
    })

    it('issues exactly one token when 20 requests race with one assertion', async () => {
      const value = assertion()
      const answers = await Promise.all(Array.from({ length: 20 }, () => postAssertion(app, value)))
      expect(answers.filter((res) => res.status === 200)).toHaveLength(1)
      expect(answers.filter((res) => res.status === 401)).toHaveLength(19)
      expect(spy.events('token_issued')).toHaveLength(1)
      const reasons = spy.events('authentication_failed').map((event) => event.reason)
      expect(reasons).toEqual(Array.from({ length: 19 }, () => 'assertion_replayed'))
    })

    it('does not record the jti of a refused assertion, so a failed try cannot burn it', async () => {
      const jti = randomUUID()
      const forged = assertion({ claims: { jti }, key: ec2.privateKey })
      expectRefused(await postAssertion(app, forged), 'assertion_bad_signature', KEY_CLIENT)
      spy.onEvent.mockClear()
      expectIssued(await postAssertion(app, assertion({ claims: { jti } })))
    })

    it('claims the jti only after every other check passed', async () => {
      const claim = vi.fn<ReplayStore['claim']>(() => Promise.resolve(true))
      const watched = appWith({ privateKeyJwt: { replayStore: { claim } } })
      await postAssertion(watched, assertion({ claims: { aud: TOKEN_URL } }))
      await postAssertion(watched, assertion({ clientId: 'disabled-key' }))
      expect(claim).not.toHaveBeenCalled()
      const jti = randomUUID()
      await postAssertion(watched, assertion({ claims: { jti } }))
      expect(claim).toHaveBeenCalledExactlyOnceWith(KEY_CLIENT, jti, NOW + 60 + 15)
    })

    it('answers 503 with Retry-After and issues nothing when the replay store rejects', async () => {
      const replayStore: ReplayStore = { claim: () => Promise.reject(new Error('store down')) }
      const res = await postAssertion(appWith({ privateKeyJwt: { replayStore } }), assertion())
      expectUnavailable(res)
      expect(spy.events('server_error')).toMatchObject([
        {
          error: { code: 'temporarily_unavailable', dependency: 'replay_store' },
          clientId: 'key-client',
        },
      ])
    })

    it('answers 503 with Retry-After and issues nothing when Redis fails (redisReplayStore)', async () => {
      const sendCommand = vi.fn(() => Promise.reject(new Error('ECONNREFUSED')))
      const replayStore = redisReplayStore({ sendCommand })
      const res = await postAssertion(appWith({ privateKeyJwt: { replayStore } }), assertion())
      expectUnavailable(res)
      expect(sendCommand).toHaveBeenCalledOnce()
    })
  })

  describe('timing uniformity (RFC 6819 §5.1.4.2.2), structural', () => {
    it.each([
      ['an unknown sub', () => assertion({ clientId: 'nobody' }), 1],
      ['a secret client', () => assertion({ clientId: 'reporter' }), 1],
      ['an alg the client did not register', () => assertion({ clientId: 'rs256-only' }), 1],
      ['an unknown kid', () => assertion({ header: { kid: 'unknown' } }), 1],
      ['a wrong signature', () => assertion({ key: ec2.privateKey }), 0],
    ])('verifies exactly one signature for %s', async (_name, make, burns) => {
      const value = make()
      const res = await postAssertion(app, value)
      expect(res.status).toBe(401)
      expect(res.body).toEqual(INVALID_CLIENT)
      expect(core.verifyJwsSignature).toHaveBeenCalledOnce()
      expect(vi.mocked(core.verifyJwsSignature).mock.calls[0]?.[0]).toBe(value)
      expect(burn.burnSignatureCheck).toHaveBeenCalledTimes(burns)
    })
  })
})

describe('POST /token with a jwks_uri client (RFC 7591 §2)', () => {
  let server: TestServer
  const LOCAL = { allowedAddresses: ['127.0.0.0/8'], allowHttpLoopback: true }

  beforeAll(async () => {
    server = await startServer()
  })
  afterAll(async () => {
    await server.close()
  })

  function uriApp(jwksUri: string, jwksOptions?: typeof LOCAL): Express {
    const record = keyRecord('uri-client', { jwks_uri: jwksUri })
    return appWith({
      clients: staticClientStore([record]),
      ...(jwksOptions === undefined ? {} : { privateKeyJwt: { jwksUri: jwksOptions } }),
    })
  }

  const uriAssertion = (kid = 'ec-1', key = ec.privateKey) =>
    assertion({ clientId: 'uri-client', header: { kid }, key })

  it('answers 503, not 401, when the default address policy refuses a loopback jwks_uri', async () => {
    const path = `/refused-${randomUUID()}`
    server.route(path, json({ keys: [ec.jwk] }))
    const app = uriApp(`https://127.0.0.1:${server.port}${path}`)
    const res = await postAssertion(app, uriAssertion())
    expectUnavailable(res)
    expect(server.hits(path)).toBe(0)
    const [event] = spy.events('server_error')
    let cause: unknown = event?.error
    while (cause instanceof Error && !(cause instanceof AddressRefusedError)) cause = cause.cause
    expect(cause).toBeInstanceOf(AddressRefusedError)
  })

  it('answers 503, not 401 or 500, for an http jwks_uri when allowHttpLoopback is off (a record the policy forbids)', async () => {
    const path = `/plain-${randomUUID()}`
    server.route(path, json({ keys: [ec.jwk] }))
    const res = await postAssertion(uriApp(server.url(path)), uriAssertion())
    expect(res.status).toBe(503)
    expect((res.body as { error?: unknown }).error).toBe('temporarily_unavailable')
    expect(res.headers['retry-after']).toBeDefined()
    expect(server.hits(path)).toBe(0)
    expect(spy.events('authentication_failed')).toEqual([])
    expect(spy.events('server_error')).toMatchObject([
      { error: { dependency: 'client_jwks', cause: new TypeError('jwks_uri must use https') } },
    ])
  })

  it('never uses an RSA key under 2048 bits from a jwks_uri (RFC 8725 §3.5)', async () => {
    const path = `/weak-${randomUUID()}`
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 })
    const weakJwk = { ...weak.publicKey.export({ format: 'jwk' }), kid: 'weak' }
    server.route(path, json({ keys: [weakJwk, ec.jwk] }))
    const now = Math.floor(Date.now() / 1000)
    // signJws refuses such a key, so the assertion is signed by hand.
    const input = `${b64('{"alg":"RS256","kid":"weak"}')}.${b64(
      JSON.stringify({
        iss: 'uri-client',
        sub: 'uri-client',
        aud: ISSUER,
        jti: randomUUID(),
        exp: now + 60,
      }),
    )}`
    const value = `${input}.${sign('sha256', Buffer.from(input), weak.privateKey).toString('base64url')}`
    const res = await postAssertion(uriApp(server.url(path), LOCAL), value)
    expectRefused(res, 'assertion_unknown_key', 'uri-client')
    expect(spy.events('client_jwks')).toContainEqual(
      expect.objectContaining({
        detail: expect.objectContaining({ type: 'jwks_key_skipped' }) as unknown,
      }) as unknown,
    )
  })

  it('never fetches a jku or x5u named in the header', async () => {
    const path = `/attacker-${randomUUID()}`
    server.route(path, json({ keys: [attacker.jwk] }))
    const value = assertion({
      header: { jku: server.url(path), x5u: server.url(path) },
      key: attacker.privateKey,
    })
    const res = await postAssertion(appWith({ privateKeyJwt: { jwksUri: LOCAL } }), value)
    expectRefused(res, 'assertion_bad_signature', KEY_CLIENT)
    expect(server.hits(path)).toBe(0)
  })

  it('issues a token with a key fetched from an allowed jwks_uri', async () => {
    const path = `/ok-${randomUUID()}`
    server.route(path, json({ keys: [ec.jwk] }))
    const res = await postAssertion(uriApp(server.url(path), LOCAL), uriAssertion())
    expectIssued(res, 'uri-client')
    expect(server.hits(path)).toBe(1)
    expect(spy.events('client_jwks')).toMatchObject([
      { jwksUri: server.url(path), detail: { type: 'jwks_fetched' } },
    ])
  })

  it('fetches a cold jwks_uri once for 10 concurrent requests', async () => {
    const path = `/cold-${randomUUID()}`
    server.route(path, json({ keys: [ec.jwk] }))
    const app = uriApp(server.url(path), LOCAL)
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => postAssertion(app, uriAssertion())),
    )
    expect(answers.map((res) => res.status)).toEqual(Array.from({ length: 10 }, () => 200))
    expect(server.hits(path)).toBe(1)
  })

  it('refetches once for an unknown kid, then waits for the cooldown (30 s)', async () => {
    const path = `/rotate-${randomUUID()}`
    server.route(path, json({ keys: [ec.jwk] }))
    const app = uriApp(server.url(path), LOCAL)
    expectIssued(await postAssertion(app, uriAssertion()), 'uri-client')
    expect(server.hits(path)).toBe(1)

    // The client rotates in a second key; the cached set does not know it yet.
    server.route(path, json({ keys: [ec.jwk, ec2.jwk] }))
    vi.setSystemTime((NOW + 31) * 1000)
    spy.onEvent.mockClear()
    expectIssued(await postAssertion(app, uriAssertion('ec-2', ec2.privateKey)), 'uri-client')
    expect(server.hits(path)).toBe(2)

    // A flood of unknown kids within the cooldown fetches nothing more.
    for (let i = 0; i < 5; i += 1) {
      spy.onEvent.mockClear()
      const res = await postAssertion(app, uriAssertion(`unknown-${i}`))
      expectRefused(res, 'assertion_unknown_key', 'uri-client')
    }
    expect(server.hits(path)).toBe(2)

    vi.setSystemTime((NOW + 62) * 1000)
    spy.onEvent.mockClear()
    expectRefused(
      await postAssertion(app, uriAssertion('unknown-late')),
      'assertion_unknown_key',
      'uri-client',
    )
    expect(server.hits(path)).toBe(3)
  })

  it('answers 503 when the jwks_uri answers more than maxResponseBytes (64 KiB)', async () => {
    const path = `/large-${randomUUID()}`
    server.route(path, json({ keys: [ec.jwk], padding: 'x'.repeat(70_000) }))
    const res = await postAssertion(uriApp(server.url(path), LOCAL), uriAssertion())
    expectUnavailable(res)
  })
})

describe('POST /introspect and POST /revoke with private_key_jwt (RFC 7662 §2.1, RFC 7009 §2.1)', () => {
  const app = appWith({ revocation: { store: memoryDenylist() }, introspection: true })

  async function token(): Promise<string> {
    const res = await postAssertion(app, assertion())
    expect(res.status).toBe(200)
    return (res.body as { access_token: string }).access_token
  }

  it('introspects a token for a key client allowed to introspect', async () => {
    const accessToken = await token()
    const res = await post(
      app,
      { token: accessToken, ...withoutGrant(assertion()) },
      {},
      '/introspect',
    )
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({ active: true, client_id: KEY_CLIENT })
  })

  it('revokes its own token for a key client', async () => {
    const accessToken = await token()
    const res = await post(app, { token: accessToken, ...withoutGrant(assertion()) }, {}, '/revoke')
    expect(res.status).toBe(200)
    expect(spy.events('token_revoked')).toMatchObject([{ clientId: KEY_CLIENT }])
    const after = await post(
      app,
      { token: accessToken, ...withoutGrant(assertion()) },
      {},
      '/introspect',
    )
    expect(after.body).toEqual({ active: false })
  })

  it('answers 400 unauthorized_client at /introspect for a key client without introspection: true', async () => {
    const accessToken = await token()
    const value = assertion({ clientId: 'two-ec-keys' })
    const res = await post(app, { token: accessToken, ...withoutGrant(value) }, {}, '/introspect')
    expect(res.status).toBe(400)
    expect(res.body).toMatchObject({ error: 'unauthorized_client' })
    expect(spy.events('authentication_failed')).toEqual([])
  })

  it('answers 401 invalid_client at /revoke for an assertion already used at /token', async () => {
    const value = assertion()
    const issued = await postAssertion(app, value)
    expect(issued.status).toBe(200)
    const accessToken = (issued.body as { access_token: string }).access_token
    spy.onEvent.mockClear()
    const res = await post(app, { token: accessToken, ...withoutGrant(value) }, {}, '/revoke')
    expectRefused(res, 'assertion_replayed', KEY_CLIENT)
  })

  it.each(['/introspect', '/revoke'])(
    'answers 401 invalid_client at %s for a replayed assertion',
    async (path) => {
      const accessToken = await token()
      const value = assertion()
      expect(
        (await post(app, { token: accessToken, ...withoutGrant(value) }, {}, path)).status,
      ).toBe(200)
      spy.onEvent.mockClear()
      const res = await post(app, { token: accessToken, ...withoutGrant(value) }, {}, path)
      expectRefused(res, 'assertion_replayed', KEY_CLIENT)
    },
  )
})

function withoutGrant(value: string): Record<string, string> {
  return { client_assertion_type: JWT_BEARER_ASSERTION_TYPE, client_assertion: value }
}

describe('GET /.well-known/oauth-authorization-server (RFC 8414 §2)', () => {
  it('lists private_key_jwt and the server allow-list of signing algorithms', async () => {
    const res = await request(appWith()).get('/.well-known/oauth-authorization-server')
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({
      token_endpoint_auth_methods_supported: expect.arrayContaining(['private_key_jwt']) as unknown,
      token_endpoint_auth_signing_alg_values_supported: ['ES256', 'EdDSA', 'PS256', 'RS256'],
    })
  })

  it('lists privateKeyJwt.signingAlgorithms when set', async () => {
    const app = appWith({ privateKeyJwt: { signingAlgorithms: ['EdDSA', 'ES256'] } })
    const res = await request(app).get('/.well-known/oauth-authorization-server')
    expect(
      (res.body as Record<string, unknown>).token_endpoint_auth_signing_alg_values_supported,
    ).toEqual(['EdDSA', 'ES256'])
  })
})
