import { type Express } from 'express'
import { BasicStrategy } from 'passport-http'
import request from 'supertest'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { type Client, type ClientStore } from '../../src/clients/client-store.js'
import type { IssuerEvent } from '../../src/events.js'
import * as secretsModule from '../../src/clients/secrets.js'
import {
  NO_STORE,
  basic,
  clients,
  createApp,
  eventSpy,
  form,
  formEncode,
  rawBasic,
  secrets,
} from '../helpers.js'

vi.mock('../../src/clients/secrets.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../src/clients/secrets.js')>()
  return { ...original, verifyClientSecret: vi.fn(original.verifyClientSecret) }
})

const GRANT = { grant_type: 'client_credentials' }
const INVALID_CLIENT = {
  error: 'invalid_client',
  error_description: 'Client authentication failed.',
}
const CHALLENGE = 'Basic realm="ccflow"'
const GOOD_BASIC = basic('reporter', secrets.reporter.secret)
const WRONG_BASIC = basic('reporter', 'not-the-secret')

afterEach(() => {
  vi.mocked(secretsModule.verifyClientSecret).mockClear()
})

describe('POST /token client authentication', () => {
  const spy = eventSpy()
  const app = createApp({ rateLimit: false, onEvent: spy.onEvent })
  afterEach(() => spy.onEvent.mockClear())

  async function post(headers: Record<string, string>, body: string): Promise<request.Response> {
    const req = request(app).post('/token').type('form')
    for (const [name, value] of Object.entries(headers)) void req.set(name, value)
    return req.send(body)
  }

  it('authenticates with client_secret_basic', async () => {
    const res = await post(
      { Authorization: basic('reporter', secrets.reporter.secret) },
      form(GRANT),
    )
    expect(res.status).toBe(200)
  })

  it('authenticates with client_secret_post', async () => {
    const res = await post(
      {},
      form({ ...GRANT, client_id: 'reporter', client_secret: secrets.reporter.secret }),
    )
    expect(res.status).toBe(200)
  })

  it('authenticates a client whose id and secret hold ":", "%", "+", space and non-ASCII', async () => {
    const res = await post(
      { Authorization: basic('legacy: importer', secrets.imported.secret) },
      form(GRANT),
    )
    expect(res.status).toBe(200)
    const viaBody = await post(
      {},
      form({ ...GRANT, client_id: 'legacy: importer', client_secret: secrets.imported.secret }),
    )
    expect(viaBody.status).toBe(200)
  })

  it('refuses the same credentials sent without form-encoding (the passport-http reading)', async () => {
    const res = await post(
      { Authorization: rawBasic(`legacy: importer:${secrets.imported.secret}`) },
      form(GRANT),
    )
    expect(res.status).toBe(401)
    expect(res.body).toEqual(INVALID_CLIENT)
  })

  it('answers 401 invalid_client when a raw colon in the secret is not form-encoded (RFC 6749 §2.3.1)', async () => {
    // Every character encoded except ':' (passport-http keeps only the text up to the second
    // colon as the password, so the secret it hands on is truncated).
    const unencoded = formEncode(secrets.imported.secret).replaceAll('%3A', ':')
    const res = await post(
      { Authorization: rawBasic(`${formEncode('legacy: importer')}:${unencoded}`) },
      form(GRANT),
    )
    expect(res.status).toBe(401)
    expect(res.body).toEqual(INVALID_CLIENT)
    expect(res.headers['www-authenticate']).toBe(CHALLENGE)
    expect(res.headers).toMatchObject(NO_STORE)
    expect(spy.events('authentication_failed')[0]).toMatchObject({
      reason: 'wrong_secret',
      clientId: 'legacy: importer',
    })
  })

  it('authenticates a secret holding ":" sent as %3A (RFC 6749 Appendix B)', async () => {
    const encoded = formEncode(secrets.imported.secret)
    expect(encoded).toContain('%3A')
    const res = await post(
      { Authorization: rawBasic(`${formEncode('legacy: importer')}:${encoded}`) },
      form(GRANT),
    )
    expect(res.status).toBe(200)
  })

  it("answers passport-http's own refusal (an empty password before a second colon) like any other failure", async () => {
    const wrong = await post({ Authorization: basic('reporter', 'wrong') }, form(GRANT))
    spy.onEvent.mockClear()
    const res = await post({ Authorization: rawBasic('reporter::x') }, form(GRANT))
    expect(res.status).toBe(401)
    expect(res.text).toBe(JSON.stringify(INVALID_CLIENT))
    expect(res.headers['content-type']).toBe('application/json')
    expect(res.headers['www-authenticate']).toBe(CHALLENGE)
    expect(res.headers).toMatchObject(NO_STORE)
    expect({ ...res.headers, date: undefined }).toEqual({ ...wrong.headers, date: undefined })
    expect(spy.events('authentication_failed')).toEqual([
      {
        type: 'authentication_failed',
        reason: 'malformed_credentials',
        method: 'client_secret_basic',
        ip: expect.any(String) as unknown,
      },
    ])
  })

  it('accepts several spaces between the scheme and the credentials (RFC 7235 1*SP)', async () => {
    const token = basic('reporter', secrets.reporter.secret).slice('Basic '.length)
    const res = await post({ Authorization: `Basic   ${token}` }, form(GRANT))
    expect(res.status).toBe(200)
  })

  it('accepts both secrets of a client during rotation', async () => {
    for (const { secret } of [secrets.reporter, secrets.reporterNext]) {
      const res = await post({ Authorization: basic('reporter', secret) }, form(GRANT))
      expect(res.status).toBe(200)
    }
  })

  it('responds 401 invalid_client with a Basic challenge when the secret is wrong', async () => {
    const res = await post({ Authorization: basic('reporter', 'wrong') }, form(GRANT))
    expect(res.status).toBe(401)
    expect(res.body).toEqual(INVALID_CLIENT)
    expect(res.headers['www-authenticate']).toBe(CHALLENGE)
    expect(res.headers).toMatchObject(NO_STORE)
    expect(spy.events('authentication_failed')).toEqual([
      {
        type: 'authentication_failed',
        reason: 'wrong_secret',
        clientId: 'reporter',
        method: 'client_secret_basic',
        ip: expect.any(String) as unknown,
      },
    ])
  })

  it('gives an unknown client, a wrong, expired or disabled secret, and a disallowed method the same answer', async () => {
    const cases: Array<[string, string, string]> = [
      ['nobody', secrets.reporter.secret, 'unknown_client'],
      ['reporter', 'wrong', 'wrong_secret'],
      ['reporter', secrets.reporterOld.secret, 'expired_secret'],
      ['disabled', secrets.disabled.secret, 'disabled_client'],
      ['post-only', secrets.postOnly.secret, 'auth_method_not_allowed'],
    ]
    const answers = []
    for (const [id, secret] of cases) {
      const res = await post({ Authorization: basic(id, secret) }, form(GRANT))
      answers.push({
        status: res.status,
        body: res.text,
        challenge: res.headers['www-authenticate'],
        cache: res.headers['cache-control'],
      })
    }
    expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1)
    expect(answers[0]).toEqual({
      status: 401,
      body: JSON.stringify(INVALID_CLIENT),
      challenge: CHALLENGE,
      cache: 'no-store',
    })
    expect(spy.events('authentication_failed').map((e) => e.reason)).toEqual(
      cases.map(([, , reason]) => reason),
    )
  })

  it.each<['client_secret_basic' | 'client_secret_post']>([
    ['client_secret_basic'],
    ['client_secret_post'],
  ])(
    'gives every authentication failure byte-for-byte the same response with %s',
    async (method) => {
      const cases: Array<[string, string]> = [
        ['nobody', secrets.reporter.secret],
        ['reporter', 'wrong'],
        ['reporter', secrets.reporterOld.secret],
        ['disabled', secrets.disabled.secret],
        method === 'client_secret_basic'
          ? ['post-only', secrets.postOnly.secret]
          : ['basic-only', secrets.basicOnly.secret],
      ]
      const answers = []
      for (const [id, secret] of cases) {
        const res =
          method === 'client_secret_basic'
            ? await post({ Authorization: basic(id, secret) }, form(GRANT))
            : await post({}, form({ ...GRANT, client_id: id, client_secret: secret }))
        const raw = (res as unknown as { res: { rawHeaders: string[] } }).res.rawHeaders
        const headers = []
        for (let i = 0; i < raw.length; i += 2) {
          if (raw[i]?.toLowerCase() !== 'date') headers.push(`${raw[i]}: ${raw[i + 1]}`)
        }
        answers.push({ status: res.status, headers, body: res.text })
      }
      for (const answer of answers.slice(1)) expect(answer).toEqual(answers[0])
      expect(answers[0]?.status).toBe(401)
      expect(answers[0]?.body).toBe(JSON.stringify(INVALID_CLIENT))
      for (const [id] of cases) expect(JSON.stringify(answers[0])).not.toContain(id)
    },
  )

  it('verifies the secret once, against a hash that matches nothing, for an unknown client', async () => {
    await post({ Authorization: basic('nobody', secrets.reporter.secret) }, form(GRANT))
    expect(secretsModule.verifyClientSecret).toHaveBeenCalledTimes(1)
    expect(vi.mocked(secretsModule.verifyClientSecret).mock.calls[0]?.[1]).toBe(
      secretsModule.UNMATCHABLE_SECRET_HASH,
    )
  })

  it('reports expired_secret for a rotated-out secret', async () => {
    const res = await post(
      { Authorization: basic('reporter', secrets.reporterOld.secret) },
      form(GRANT),
    )
    expect(res.status).toBe(401)
    expect(spy.events('authentication_failed')[0]).toMatchObject({
      reason: 'expired_secret',
      clientId: 'reporter',
    })
  })

  it('responds 401 without a challenge when client_secret_post fails', async () => {
    const res = await post({}, form({ ...GRANT, client_id: 'reporter', client_secret: 'wrong' }))
    expect(res.status).toBe(401)
    expect(res.body).toEqual(INVALID_CLIENT)
    expect(res.headers['www-authenticate']).toBeUndefined()
    expect(spy.events('authentication_failed')[0]).toMatchObject({
      reason: 'wrong_secret',
      method: 'client_secret_post',
    })
  })

  it('refuses a basic-only client that authenticates in the body', async () => {
    const res = await post(
      {},
      form({ ...GRANT, client_id: 'basic-only', client_secret: secrets.basicOnly.secret }),
    )
    expect(res.status).toBe(401)
    expect(spy.events('authentication_failed')[0]?.reason).toBe('auth_method_not_allowed')
  })

  it('responds 401 invalid_client with a Basic challenge when there are no credentials', async () => {
    const res = await post({}, form(GRANT))
    expect(res.status).toBe(401)
    expect(res.body).toEqual(INVALID_CLIENT)
    expect(res.headers['www-authenticate']).toBe(CHALLENGE)
    expect(spy.events('authentication_failed')).toEqual([
      {
        type: 'authentication_failed',
        reason: 'no_credentials',
        ip: expect.any(String) as unknown,
      },
    ])
  })

  it('rejects a request that sends credentials in both header and body', async () => {
    const res = await post(
      { Authorization: basic('reporter', secrets.reporter.secret) },
      form({ ...GRANT, client_id: 'reporter', client_secret: secrets.reporter.secret }),
    )
    expect(res.status).toBe(400)
    expect(res.body).toEqual({
      error: 'invalid_request',
      error_description: 'The request uses more than one client authentication method.',
    })
    expect(spy.events('token_request_rejected')[0]).toMatchObject({
      error: 'invalid_request',
      reason: 'multiple_auth_methods',
    })
  })

  it('accepts a body client_id that names the client the Basic header authenticates', async () => {
    const res = await post(
      { Authorization: basic('reporter', secrets.reporter.secret) },
      form({ ...GRANT, client_id: 'reporter' }),
    )
    expect(res.status).toBe(200)
  })

  it('rejects a body client_id that differs from the Basic client', async () => {
    const res = await post(
      { Authorization: basic('reporter', secrets.reporter.secret) },
      form({ ...GRANT, client_id: 'basic-only' }),
    )
    expect(res.status).toBe(400)
    expect((res.body as { error: string }).error).toBe('invalid_request')
  })

  it('answers a non-Basic Authorization scheme with 401 and the Basic challenge', async () => {
    const res = await post({ Authorization: 'Bearer abc.def.ghi' }, form(GRANT))
    expect(res.status).toBe(401)
    expect(res.body).toEqual(INVALID_CLIENT)
    expect(res.headers['www-authenticate']).toBe(CHALLENGE)
    expect(spy.events('authentication_failed')[0]).toMatchObject({
      reason: 'malformed_credentials',
      method: 'client_secret_basic',
    })
  })

  it.each<[string, string]>([
    ['the scheme alone', 'Basic'],
    ['non-Base64', 'Basic %%%%'],
    ['no colon', rawBasic('reporter')],
    ['an empty client id', rawBasic(`:${secrets.reporter.secret}`)],
    ['an empty secret', rawBasic('reporter:')],
    [
      'bytes that are not UTF-8 in the secret',
      `Basic ${Buffer.from([...Buffer.from('reporter:a'), 0xff]).toString('base64')}`,
    ],
    ['a bad percent escape', rawBasic('reporter:%G0')],
    ['an 8 KB header', `Basic ${'QUFB'.repeat(2100)}`],
    [
      'bytes that are not UTF-8',
      `Basic ${Buffer.from([0xc3, 0x28, 0x3a, 0x41]).toString('base64')}`,
    ],
  ])(
    'answers 401 invalid_client, never 500, for a Basic header with %s',
    async (_label, header) => {
      const res = await post({ Authorization: header }, form(GRANT))
      expect(res.status).toBe(401)
      expect(res.body).toEqual(INVALID_CLIENT)
      expect(res.headers['www-authenticate']).toBe(CHALLENGE)
      expect(res.headers).toMatchObject(NO_STORE)
      expect(spy.events('authentication_failed').map((e) => e.reason)).toEqual([
        'malformed_credentials',
      ])
    },
  )

  it('answers 401 for an empty Authorization header', async () => {
    const res = await post({ Authorization: '' }, form(GRANT))
    expect(res.status).toBe(401)
    expect(res.headers['www-authenticate']).toBe(CHALLENGE)
  })

  it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty'])(
    'answers 401 for the client id %j',
    async (clientId) => {
      const res = await post({ Authorization: basic(clientId, 'x') }, form(GRANT))
      expect(res.status).toBe(401)
      expect(spy.events('authentication_failed')[0]?.reason).toBe('unknown_client')
    },
  )

  it('answers 401 malformed_credentials for client_id without client_secret', async () => {
    const res = await post({}, form({ ...GRANT, client_id: 'reporter' }))
    expect(res.status).toBe(401)
    expect(spy.events('authentication_failed')[0]?.reason).toBe('malformed_credentials')
  })

  it('answers 401 for client_secret without client_id', async () => {
    const res = await post({}, form({ ...GRANT, client_secret: secrets.reporter.secret }))
    expect(res.status).toBe(401)
    expect(res.body).toEqual(INVALID_CLIENT)
  })

  it('refuses client credentials in the query string', async () => {
    const res = await request(app)
      .post(`/token?client_id=reporter&client_secret=${secrets.reporter.secret}`)
      .type('form')
      .send(form(GRANT))
    expect(res.status).toBe(400)
    expect(res.body).toEqual({
      error: 'invalid_request',
      error_description: 'Client credentials must not be sent in the request URI.',
    })
    expect(res.headers).toMatchObject(NO_STORE)
  })

  // RFC 9110 §5.3: Authorization is not a list, so two of them make the request ambiguous; Node
  // keeps the first, a proxy in front may have read the last.
  it.each([
    ['the good one first', [GOOD_BASIC, WRONG_BASIC]],
    ['the good one last', [WRONG_BASIC, GOOD_BASIC]],
  ])('answers 400 invalid_request to two Authorization headers (%s)', async (_label, values) => {
    const res = await request(app)
      .post('/token')
      // superagent writes an array value as one header line per element.
      .set('Authorization', values as unknown as string)
      .type('form')
      .send(form(GRANT))
    expect(res.status).toBe(400)
    expect(res.body).toEqual({
      error: 'invalid_request',
      error_description: 'The request has more than one Authorization header.',
    })
    expect(res.headers).toMatchObject(NO_STORE)
    expect(res.headers['www-authenticate']).toBeUndefined()
  })

  // RFC 6749 Appendix A.1: client-id = *VSCHAR. No registered client can have another id, so the
  // store never sees one, and no control character reaches onEvent (and the logs behind it).
  it.each([
    ['a newline', 'reporter\nFAKE LOG LINE'],
    ['a NUL byte', 'reporter\u0000'],
    ['non-ASCII', 'repörter'],
  ])('refuses a client id holding %s before the store sees it', async (_label, clientId) => {
    const local = eventSpy()
    const findClient = vi.fn(() => Promise.resolve(undefined))
    const strict = createApp({ rateLimit: false, clients: { findClient }, onEvent: local.onEvent })
    for (const res of [
      await request(strict)
        .post('/token')
        .set('Authorization', basic(clientId, secrets.reporter.secret))
        .type('form')
        .send(form(GRANT)),
      await request(strict)
        .post('/token')
        .type('form')
        .send(form({ ...GRANT, client_id: clientId, client_secret: secrets.reporter.secret })),
    ]) {
      expect(res.status).toBe(401)
      expect(res.body).toEqual(INVALID_CLIENT)
    }
    expect(findClient).not.toHaveBeenCalled()
    expect(local.events('authentication_failed')).toEqual([
      {
        type: 'authentication_failed',
        reason: 'malformed_credentials',
        method: 'client_secret_basic',
        ip: expect.any(String) as unknown,
      },
      {
        type: 'authentication_failed',
        reason: 'malformed_credentials',
        method: 'client_secret_post',
        ip: expect.any(String) as unknown,
      },
    ])
  })

  it('uses the configured realm in the challenge', async () => {
    const res = await request(createApp({ rateLimit: false, realm: 'payments' }))
      .post('/token')
      .type('form')
      .send(form(GRANT))
    expect(res.headers['www-authenticate']).toBe('Basic realm="payments"')
  })

  // passport-http runs on its own tick (see client-auth.ts), outside Express's try/catch.
  it('answers 500 server_error, and keeps serving, when the Basic strategy throws synchronously', async () => {
    const spy = vi.spyOn(BasicStrategy.prototype, 'authenticate').mockImplementationOnce(() => {
      throw new Error('strategy failure')
    })
    const app = createApp({ rateLimit: false })
    const failed = await request(app)
      .post('/token')
      .set('Authorization', GOOD_BASIC)
      .type('form')
      .send(form(GRANT))
    expect(spy).toHaveBeenCalledTimes(1)
    expect(failed.status).toBe(500)
    expect(failed.body).toEqual({
      error: 'server_error',
      error_description: 'The server encountered an unexpected error.',
    })
    const next = await request(app)
      .post('/token')
      .set('Authorization', GOOD_BASIC)
      .type('form')
      .send(form(GRANT))
    expect(next.status).toBe(200)
    spy.mockRestore()
  })
})

describe('POST /token with records from a custom ClientStore', () => {
  const reporter = clients[0] as Client
  const SERVER_ERROR = {
    error: 'server_error',
    error_description: 'The server encountered an unexpected error.',
  }

  function appWith(record: unknown, onEvent: (event: IssuerEvent) => void): Express {
    const store = { findClient: () => Promise.resolve(record) } as unknown as ClientStore
    return createApp({ rateLimit: false, clients: store, onEvent })
  }

  // Each of these used to issue a token: the check treated the bad value as "allowed".
  it.each<[string, unknown]>([
    ['disabled as the string "true"', { ...reporter, disabled: 'true' }],
    ['disabled as 1', { ...reporter, disabled: 1 }],
    [
      'a secret expiry in milliseconds',
      { ...reporter, secrets: [{ ...reporter.secrets![0], expires_at: Date.now() - 3_600_000 }] },
    ],
    [
      'a secret expiry as a date string',
      { ...reporter, secrets: [{ ...reporter.secrets![0], expires_at: '2000-01-01' }] },
    ],
    ['audiences as a string', { ...reporter, audiences: 'https://api.example.test/orders' }],
    ['a misspelt key ("disable")', { ...reporter, disable: true }],
  ])('answers a generic 500, never a token, for a record with %s', async (_label, record) => {
    const spy = eventSpy()
    const res = await request(appWith(record, spy.onEvent))
      .post('/token')
      .set('Authorization', basic('reporter', secrets.reporter.secret))
      .type('form')
      .send(form(GRANT))
    expect(res.status).toBe(500)
    expect(res.body).toEqual(SERVER_ERROR)
    expect(res.headers).toMatchObject(NO_STORE)
    expect(spy.events('token_issued')).toEqual([])
    expect(spy.events('server_error')).toEqual([
      {
        type: 'server_error',
        error: expect.any(Error) as unknown,
        clientId: 'reporter',
        ip: expect.any(String) as unknown,
      },
    ])
  })

  it('treats a store answering null like one answering undefined: unknown client', async () => {
    const spy = eventSpy()
    const res = await request(appWith(null, spy.onEvent))
      .post('/token')
      .set('Authorization', basic('reporter', secrets.reporter.secret))
      .type('form')
      .send(form(GRANT))
    expect(res.status).toBe(401)
    expect(res.body).toEqual(INVALID_CLIENT)
    expect(res.headers['www-authenticate']).toBe(CHALLENGE)
    expect(spy.events('authentication_failed').map((e) => e.reason)).toEqual(['unknown_client'])
  })

  it('issues a token for a valid record built fresh on every lookup', async () => {
    const store = {
      findClient: (id: string) =>
        Promise.resolve(id === 'reporter' ? structuredClone(reporter) : undefined),
    }
    const res = await request(createApp({ rateLimit: false, clients: store }))
      .post('/token')
      .set('Authorization', basic('reporter', secrets.reporter.secret))
      .type('form')
      .send(form(GRANT))
    expect(res.status).toBe(200)
  })

  it('sees a change made in place to a mutable record', async () => {
    const record = structuredClone(reporter)
    const store = { findClient: () => Promise.resolve(record) }
    const app = createApp({ rateLimit: false, clients: store })
    const ask = () =>
      request(app)
        .post('/token')
        .set('Authorization', basic('reporter', secrets.reporter.secret))
        .type('form')
        .send(form(GRANT))
    expect((await ask()).status).toBe(200)
    record.disabled = true
    expect((await ask()).status).toBe(401)
  })
})
