import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import {
  generateClientSecret,
  generateSigningKey,
  hashClientSecret,
  staticClientStore,
  verifyClientSecret,
} from '@ccflow/issuer'
import express from 'express'
import { decodeJwt, decodeProtectedHeader, SignJWT } from 'jose'
import request from 'supertest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createExistingApp, API_AUDIENCE } from '../examples/existing-app/app.js'
import { createResourceServerApp, PROBE_TOKEN } from '../examples/resource-server/app.js'
import { loadResourceServerConfig } from '../examples/resource-server/config.js'
import { ConfigError } from '../examples/shared/env.js'
import { listen } from '../examples/shared/serve.js'
import { createTokenServerApp } from '../examples/token-server/app.js'
import { loadTokenServerConfig, type TokenServerConfig } from '../examples/token-server/config.js'
import { serveMetrics } from '../examples/shared/metrics.js'
import { noteRequest } from '../examples/shared/request-log.js'
import { logIssuerEvents } from '../examples/token-server/events.js'
import { memoryLogger } from './support/logs.js'
import { Counter, Gauge } from 'prom-client'
import {
  type Listening,
  basic,
  body,
  fetchToken,
  listenOnEphemeralPort,
  makeClient,
  makeSigningKey,
  tempDir,
} from './helpers.js'
import {
  type PrivateRedis,
  privateRedis,
  skipWithoutRedisServer,
  type TestRedisClient,
  testRedisClient,
} from './support/redis-server.js'

const AUDIENCE = 'https://reports.example'
// A generated secret, stored as its HMAC hash, as `ccflow secret` prints it.
const REPORTER = generateClientSecret({ secretId: 'r1' })
// A human-chosen secret whose characters change under RFC 6749 §2.3.1 form-encoding (scrypt).
const AWKWARD_SECRET = 'human demo secret: p@ss+word/é'
const dir = tempDir()
afterAll(() => dir.remove())

const generated = generateClientSecret({ secretId: 'k1' })
const auditorHash = await hashClientSecret(generated.secret)
/** A CLIENTS_FILE in the one record format, the reporter holding `reporterSecrets`. */
const clientsFileWith = (name: string, reporterSecrets: { id: string; hash: string }[]): string =>
  dir.file(name, [
    {
      client_id: 'reporter',
      secrets: reporterSecrets,
      scope: 'reports:read reports:write',
      audiences: [AUDIENCE, 'https://other.example'],
    },
    {
      client_id: 'auditor',
      secrets: [{ id: 'k1', hash: auditorHash }],
      scope: 'reports:read',
      audiences: [AUDIENCE],
      access_token_ttl: 120,
    },
  ])
const clientsFile = clientsFileWith('clients.json', [
  { id: REPORTER.secretId, hash: await hashClientSecret(REPORTER.secret) },
])
const awkwardClientsFile = clientsFileWith('awkward-clients.json', [
  { id: 'human', hash: await hashClientSecret(AWKWARD_SECRET) },
])
const HASH = auditorHash

const signingKey = makeSigningKey('ES256')
const keysFile = dir.file('signing-keys.json', { keys: [signingKey.privateJwk] })

/** Loads the token server config from `vars` plus the test's clients and keys files. */
function loadConfig(vars: Record<string, string> = {}): TokenServerConfig {
  return loadTokenServerConfig({ CLIENTS_FILE: clientsFile, SIGNING_KEYS_FILE: keysFile, ...vars })
}

/** The ConfigError message `load` rejects with. */
async function configError(load: () => unknown): Promise<string> {
  try {
    await load()
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError)
    const message = (err as Error).message
    expect(message).not.toContain('\n')
    return message
  }
  throw new Error('expected a ConfigError')
}

describe('token server: loadTokenServerConfig', () => {
  it('defaults to 127.0.0.1:4000, an issuer from the bound port and no proxy trust', () => {
    const config = loadConfig()
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 4000,
      issuer: undefined,
      accessTokenTtlSeconds: undefined,
      trustProxy: false,
      metrics: undefined,
    })
  })

  it('reads METRICS_PORT, and METRICS_HOST (127.0.0.1 by default)', () => {
    expect(loadConfig({ METRICS_PORT: '9464' }).metrics).toEqual({ host: '127.0.0.1', port: 9464 })
    expect(loadConfig({ METRICS_PORT: '0', METRICS_HOST: '0.0.0.0' }).metrics).toEqual({
      host: '0.0.0.0',
      port: 0,
    })
  })

  it.each([
    [
      { METRICS_PORT: '70000' },
      'METRICS_PORT must be an integer from 0 to 65535 (0 picks a free port)',
    ],
    [
      { METRICS_PORT: 'nine' },
      'METRICS_PORT must be an integer from 0 to 65535 (0 picks a free port)',
    ],
    [{ METRICS_HOST: '127.0.0.1' }, 'METRICS_HOST is set but METRICS_PORT is not'],
  ])('refuses %j', async (vars, message) => {
    expect(await configError(() => loadConfig(vars))).toBe(message)
  })

  it('reads HOST, PORT, ISSUER, ACCESS_TOKEN_TTL and TRUST_PROXY', () => {
    const config = loadConfig({
      HOST: '0.0.0.0',
      PORT: '0',
      ISSUER: 'https://auth.example.com',
      ACCESS_TOKEN_TTL: '600',
      TRUST_PROXY: 'loopback, 10.0.0.0/8',
    })
    expect(config).toMatchObject({
      host: '0.0.0.0',
      port: 0,
      issuer: 'https://auth.example.com',
      accessTokenTtlSeconds: 600,
      trustProxy: 'loopback, 10.0.0.0/8',
    })
    expect(loadConfig({ TRUST_PROXY: 'true' }).trustProxy).toBe(true)
    expect(loadConfig({ TRUST_PROXY: '2' }).trustProxy).toBe(2)
  })

  it('fails with a message naming CLIENTS_FILE when it is not set', async () => {
    expect(await configError(() => loadTokenServerConfig({}))).toMatch(/^CLIENTS_FILE is required/)
  })

  it('fails when CLIENTS_FILE cannot be read', async () => {
    const missing = `${dir.path}/missing.json`
    expect(await configError(() => loadTokenServerConfig({ CLIENTS_FILE: missing }))).toBe(
      `CLIENTS_FILE ${missing} cannot be read (ENOENT)`,
    )
  })

  it('fails when CLIENTS_FILE is not JSON', async () => {
    const file = dir.file('bad.json', '[{ "client_id": ')
    expect(await configError(() => loadTokenServerConfig({ CLIENTS_FILE: file }))).toMatch(
      `CLIENTS_FILE ${file}: not valid JSON`,
    )
  })

  it('fails when CLIENTS_FILE is not an array', async () => {
    const file = dir.file('not-array.json', { clients: [] })
    expect(await configError(() => loadTokenServerConfig({ CLIENTS_FILE: file }))).toBe(
      `CLIENTS_FILE ${file}: must hold a JSON array of clients`,
    )
  })

  it('warns when CLIENTS_FILE holds no clients', () => {
    const file = dir.file('empty.json', [])
    const config = loadTokenServerConfig({ CLIENTS_FILE: file })
    expect(config.warnings).toContain(
      `CLIENTS_FILE ${file} holds no clients: every client is refused`,
    )
  })

  const secrets = [{ id: 'k1', hash: HASH }]
  it.each([
    [
      'a record without audiences',
      { client_id: 'a', secrets, scope: 's' },
      '[0] (client_id "a").audiences must be a non-empty array of strings',
    ],
    [
      'a misspelt field',
      { client_id: 'a', secrets, scope: 's', audiance: ['x'] },
      '[0] (client_id "a"): unknown key "audiance" (did you mean "audiences"?)',
    ],
    [
      'a hash in client_secret_hash, a field of another format',
      { client_id: 'a', client_secret_hash: HASH, scope: 's', audiences: ['x'] },
      '[0] (client_id "a"): client_secret_hash is not a record field; put the hash in ' +
        'secrets: [{ id, hash }]',
    ],
    [
      'a plain client_secret',
      { client_id: 'a', client_secret: 'x', scope: 's', audiences: ['x'] },
      '[0] (client_id "a"): client_secret is not a record field; records hold only hashes',
    ],
    [
      'audience, a field of another format',
      { client_id: 'a', secrets, scope: 's', audience: ['x'] },
      '[0] (client_id "a"): audience is not a record field; list every allowed audience in ' +
        'audiences',
    ],
    [
      'a record without client_id',
      { secrets, scope: 's', audiences: ['x'] },
      '[0].client_id must be 1-255 printable ASCII characters',
    ],
  ])('fails on %s, naming the record and the field', async (_name, record, message) => {
    const file = dir.file('record.json', [record])
    expect(await configError(() => loadTokenServerConfig({ CLIENTS_FILE: file }))).toContain(
      `CLIENTS_FILE ${file}${message}`,
    )
  })

  it('fails on a record the issuer rejects, such as a hash that is no hash', async () => {
    const file = dir.file('record.json', [
      { client_id: 'a', secrets: [{ id: 'k1', hash: 'not-a-hash' }], scope: 's', audiences: ['x'] },
    ])
    expect(await configError(() => loadTokenServerConfig({ CLIENTS_FILE: file }))).toMatch(/hash/)
  })

  it('fails when a client_id is used twice', async () => {
    const record = { client_id: 'a', secrets, scope: 's', audiences: ['x'] }
    const file = dir.file('dupe.json', [record, record])
    expect(await configError(() => loadTokenServerConfig({ CLIENTS_FILE: file }))).toBe(
      `CLIENTS_FILE ${file}[1]: duplicate client_id "a"`,
    )
  })

  it('reads the records as the issuer defines them: the stored hash verifies the secret', async () => {
    const config = loadConfig()
    expect(config.keys).toEqual({ keys: [signingKey.privateJwk] })
    const reporter = await config.clients.findClient('reporter')
    expect(reporter).toMatchObject({ audiences: [AUDIENCE, 'https://other.example'] })
    expect(await verifyClientSecret(REPORTER.secret, reporter?.secrets?.[0]?.hash ?? '')).toBe(true)
    expect(config.warnings).toEqual([])
  })

  it('checks hashes made with CCFLOW_SECRET_PEPPER with the same pepper', async () => {
    const pepper = 'examples-test-pepper-0123456789abcdef'
    const file = clientsFileWith('peppered.json', [
      { id: REPORTER.secretId, hash: await hashClientSecret(REPORTER.secret, { pepper }) },
    ])
    const answer = async (vars: Record<string, string>): Promise<number> => {
      const config = loadConfig({ CLIENTS_FILE: file, ...vars })
      const app = createTokenServerApp({ ...config, issuer: 'http://127.0.0.1:4000' })
      const res = await request(app)
        .post('/token')
        .set('Authorization', basic('reporter', REPORTER.secret))
        .type('form')
        .send({ grant_type: 'client_credentials' })
      return res.status
    }
    expect(await answer({ CCFLOW_SECRET_PEPPER: pepper })).toBe(200)
    expect(await answer({})).toBe(401)
  })

  it('fails on a CCFLOW_SECRET_PEPPER shorter than 32 bytes', async () => {
    expect(await configError(() => loadConfig({ CCFLOW_SECRET_PEPPER: 'short' }))).toMatch(
      /^CCFLOW_SECRET_PEPPER must be at least 32 bytes/,
    )
  })

  it('warns that tokens will not survive a restart without SIGNING_KEYS_FILE', () => {
    const config = loadTokenServerConfig({ CLIENTS_FILE: clientsFile })
    expect(Array.isArray(config.keys) && config.keys.length).toBe(1)
    expect(config.warnings.some((w) => w.startsWith('SIGNING_KEYS_FILE is not set'))).toBe(true)
  })

  it('reads a private JWKS from SIGNING_KEYS_FILE, the first key active', async () => {
    const first = makeSigningKey('ES256')
    const second = makeSigningKey('RS256')
    const file = dir.file('keys.json', {
      keys: [
        { ...first.privateJwk, kid: first.kid, alg: 'ES256' },
        { ...second.privateJwk, kid: second.kid, alg: 'RS256' },
      ],
    })
    const config = loadConfig({ SIGNING_KEYS_FILE: file })
    // The first key signs; both are published.
    const app = createTokenServerApp({ ...config, issuer: 'http://127.0.0.1:4000' })
    const jwks = await request(app).get('/jwks.json')
    expect((body(jwks).keys as { kid: string }[]).map((k) => k.kid)).toEqual([
      first.kid,
      second.kid,
    ])
    const token = await request(app).post('/token').type('form').send({
      grant_type: 'client_credentials',
      client_id: 'auditor',
      client_secret: generated.secret,
    })
    expect(decodeProtectedHeader(body(token).access_token as string)).toMatchObject({
      kid: first.kid,
      alg: 'ES256',
    })
    expect(config.warnings.some((w) => w.startsWith('SIGNING_KEYS_FILE'))).toBe(false)
  })

  it.each([
    ['a public key', { d: undefined }, 'keys[0] is a JWK without the private member "d"'],
    ['a key without alg', { alg: undefined }, 'keys[0]: a JWK signing key needs "kid" and "alg"'],
    ['a key with alg HS256', { alg: 'HS256' }, `keys[0].alg of a JWK signing key must be 'RS256'`],
    ['a key without kid', { kid: undefined }, 'keys[0]: a JWK signing key needs "kid" and "alg"'],
  ])(
    'fails on SIGNING_KEYS_FILE holding %s, naming the file and the key',
    async (_name, change, message) => {
      const file = dir.file('keys.json', { keys: [{ ...signingKey.privateJwk, ...change }] })
      expect(await configError(() => loadConfig({ SIGNING_KEYS_FILE: file }))).toContain(
        `SIGNING_KEYS_FILE ${file}: ${message}`,
      )
    },
  )

  it('fails on SIGNING_KEYS_FILE that holds no keys', async () => {
    const file = dir.file('keys.json', { keys: [] })
    expect(await configError(() => loadConfig({ SIGNING_KEYS_FILE: file }))).toBe(
      `SIGNING_KEYS_FILE ${file}: keys must be a non-empty array of signing keys or a JWK Set: { "keys": [...] }`,
    )
  })

  it.each([
    ['PORT', 'http', /^PORT must be an integer/],
    ['PORT', '70000', /^PORT must be an integer/],
    ['ACCESS_TOKEN_TTL', '-5', /^ACCESS_TOKEN_TTL must be a positive whole number/],
    ['ISSUER', 'not a url', /^ISSUER must be an absolute http\(s\) URL/],
    ['TRUST_PROXY', 'yes please!', /^TRUST_PROXY must be/],
    ['HOST', '0.0.0.0', /^ISSUER is required when HOST is not a loopback address/],
  ])('fails on %s=%s', async (name, value, message) => {
    expect(await configError(() => loadConfig({ [name]: value }))).toMatch(message)
  })
})

describe('token server: createTokenServerApp', () => {
  let config: TokenServerConfig
  const issuer = 'http://127.0.0.1:4000'
  beforeAll(() => {
    config = loadConfig({ ACCESS_TOKEN_TTL: '240', CLIENTS_FILE: awkwardClientsFile })
  })

  it('serves RFC 8414 metadata at the issuer root naming the token endpoint and JWKS', async () => {
    const res = await request(createTokenServerApp({ ...config, issuer })).get(
      '/.well-known/oauth-authorization-server',
    )
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({
      issuer,
      token_endpoint: `${issuer}/token`,
      jwks_uri: `${issuer}/jwks.json`,
      grant_types_supported: ['client_credentials'],
    })
  })

  it('issues a token to a client whose plain secret was hashed at load (Basic, form-encoded first)', async () => {
    const res = await request(createTokenServerApp({ ...config, issuer }))
      .post('/token')
      .set('Authorization', basic('reporter', AWKWARD_SECRET))
      .type('form')
      .send({ grant_type: 'client_credentials', scope: 'reports:read' })
    expect(res.status).toBe(200)
    expect(res.headers['cache-control']).toBe('no-store')
    expect(res.body).toMatchObject({ token_type: 'Bearer', expires_in: 240, scope: 'reports:read' })
    const claims = decodeJwt(body(res).access_token as string)
    expect(claims).toMatchObject({ iss: issuer, client_id: 'reporter', aud: AUDIENCE })
  })

  it('issues a token to a client stored by hash, with its own access_token_ttl', async () => {
    const res = await request(createTokenServerApp({ ...config, issuer }))
      .post('/token')
      .type('form')
      .send({
        grant_type: 'client_credentials',
        client_id: 'auditor',
        client_secret: generated.secret,
      })
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({ expires_in: 120, scope: 'reports:read' })
  })

  it('answers 401 invalid_client with a Basic challenge for a wrong secret', async () => {
    const res = await request(createTokenServerApp({ ...config, issuer }))
      .post('/token')
      .set('Authorization', basic('reporter', 'wrong'))
      .type('form')
      .send({ grant_type: 'client_credentials' })
    expect(res.status).toBe(401)
    expect(body(res).error).toBe('invalid_client')
    expect(res.headers['www-authenticate']).toMatch(/^Basic realm=/)
  })

  it('serves the public JWKS without private members', async () => {
    const res = await request(createTokenServerApp({ ...config, issuer })).get('/jwks.json')
    expect(res.status).toBe(200)
    const keys = body(res).keys as Record<string, unknown>[]
    expect(keys).toHaveLength(1)
    expect(keys[0]).toMatchObject({ kid: signingKey.kid, use: 'sig' })
    expect(keys[0]).not.toHaveProperty('d')
  })

  it('mounts everything under the path of an issuer that has one', async () => {
    const app = createTokenServerApp({ ...config, issuer: 'https://auth.example.com/oauth' })
    const res = await request(app).get('/oauth/.well-known/oauth-authorization-server')
    expect(res.status).toBe(200)
    expect(body(res).token_endpoint).toBe('https://auth.example.com/oauth/token')
    expect((await request(app).get('/.well-known/oauth-authorization-server')).status).toBe(404)
  })

  it('answers unknown paths with a JSON 404', async () => {
    const res = await request(createTokenServerApp({ ...config, issuer })).get('/nope')
    expect(res.status).toBe(404)
    expect(res.body).toEqual({ error: 'not_found' })
  })

  it('applies TRUST_PROXY to Express', () => {
    const app = createTokenServerApp({ ...loadConfig({ TRUST_PROXY: '1' }), issuer })
    expect(app.get('trust proxy')).toBe(1)
  })

  it('throws a TypeError for an issuer the endpoint refuses (plain http off localhost)', () => {
    expect(() => createTokenServerApp({ ...config, issuer: 'http://auth.example.com' })).toThrow(
      TypeError,
    )
  })
})

describe('token server: private_key_jwt clients in CLIENTS_FILE', () => {
  const issuer = 'http://127.0.0.1:4000'
  const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'
  // The client's key pair: the private key stays with the client, the public JWK goes in the file.
  const clientKey = generateSigningKey('ES256')
  const keyClientsFile = dir.file('key-clients.json', [
    {
      client_id: 'billing',
      scope: 'reports:read',
      audiences: [AUDIENCE],
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [clientKey.publicJwk] },
    },
  ])
  const keyClientConfig = () =>
    loadTokenServerConfig({ CLIENTS_FILE: keyClientsFile, SIGNING_KEYS_FILE: keysFile })

  /** An RFC 7523 client assertion signed with jose, as a client independent of ccflow makes it. */
  const assertion = (
    key = clientKey,
    claims: { aud?: string; sub?: string } = {},
  ): Promise<string> =>
    new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: 'client-authentication+jwt' })
      .setIssuer(claims.sub ?? 'billing')
      .setSubject(claims.sub ?? 'billing')
      .setAudience(claims.aud ?? issuer)
      .setIssuedAt()
      .setExpirationTime('60s')
      .setJti(randomUUID())
      .sign(key.privateKey)

  const tokenRequest = (app: ReturnType<typeof createTokenServerApp>, jwt: string) =>
    request(app).post('/token').type('form').send({
      grant_type: 'client_credentials',
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: jwt,
    })

  it('issues a token to a key client of CLIENTS_FILE for a signed assertion', async () => {
    const app = createTokenServerApp({ ...keyClientConfig(), issuer })
    const res = await tokenRequest(app, await assertion())
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({ token_type: 'Bearer', scope: 'reports:read' })
    expect(decodeJwt(body(res).access_token as string)).toMatchObject({
      iss: issuer,
      client_id: 'billing',
      aud: AUDIENCE,
    })
  })

  it('lists private_key_jwt in the metadata', async () => {
    const app = createTokenServerApp({ ...keyClientConfig(), issuer })
    const res = await request(app).get('/.well-known/oauth-authorization-server')
    expect(body(res).token_endpoint_auth_methods_supported).toContain('private_key_jwt')
  })

  it('answers 401 invalid_client to the same assertion sent again (replay)', async () => {
    const app = createTokenServerApp({ ...keyClientConfig(), issuer })
    const jwt = await assertion()
    expect((await tokenRequest(app, jwt)).status).toBe(200)
    const replay = await tokenRequest(app, jwt)
    expect(replay.status).toBe(401)
    expect(body(replay).error).toBe('invalid_client')
  })

  it.each([
    ['signed by a key the file does not list', () => assertion(generateSigningKey('ES256'))],
    [
      'addressed to the token endpoint instead of the issuer',
      () => assertion(clientKey, { aud: `${issuer}/token` }),
    ],
    ['naming a client that is not in the file', () => assertion(clientKey, { sub: 'nobody' })],
  ])('answers 401 invalid_client to an assertion %s', async (_name, make) => {
    const app = createTokenServerApp({ ...keyClientConfig(), issuer })
    const res = await tokenRequest(app, await make())
    expect(res.status).toBe(401)
    expect(body(res).error).toBe('invalid_client')
  })

  describe.skipIf(skipWithoutRedisServer())('with Redis (REDIS_URL)', () => {
    let redis: PrivateRedis
    let client: TestRedisClient
    beforeAll(async () => {
      redis = await privateRedis()
      await redis.start()
      client = testRedisClient(redis.url)
      await client.ready
    })
    afterAll(async () => {
      client?.close()
      await redis?.kill()
    })

    it('accepts an assertion once across two instances sharing Redis', async () => {
      const config = { ...keyClientConfig(), issuer, sendCommand: client.sendCommand }
      const [first, second] = [createTokenServerApp(config), createTokenServerApp(config)]
      const jwt = await assertion()
      expect((await tokenRequest(first, jwt)).status).toBe(200)
      const replay = await tokenRequest(second, jwt)
      expect(replay.status).toBe(401)
      expect(body(replay).error).toBe('invalid_client')
      const keys = (await client.sendCommand(['KEYS', 'ccflow:assertion:*'])) as string[]
      expect(keys).toHaveLength(1)
    })
  })
})

describe('resource server', () => {
  let tokenServer: Listening
  let reader: { clientId: string; secret: string }
  let writer: { clientId: string; secret: string }
  let readToken: string
  let writeToken: string
  let otherAudienceToken: string

  beforeAll(async () => {
    const r = await makeClient({
      client_id: 'reader',
      scope: 'reports:read',
      audiences: [AUDIENCE, 'https://other.example'],
    })
    const w = await makeClient({
      client_id: 'writer',
      scope: 'reports:read reports:write',
      audiences: [AUDIENCE],
    })
    reader = { clientId: 'reader', secret: r.secret }
    writer = { clientId: 'writer', secret: w.secret }
    const key = makeSigningKey('ES256')
    tokenServer = await listenOnEphemeralPort((issuer) =>
      createTokenServerApp({
        issuer,
        clients: staticClientStore([r.client, w.client]),
        keys: [key.input],
      }),
    )
    const tokenUrl = `${tokenServer.url}/token`
    readToken = (await fetchToken(tokenUrl, reader)).access_token
    writeToken = (await fetchToken(tokenUrl, writer, { scope: 'reports:write' })).access_token
    otherAudienceToken = (await fetchToken(tokenUrl, reader, { resource: 'https://other.example' }))
      .access_token
  })
  afterAll(() => tokenServer.close())

  const app = () => createResourceServerApp({ issuer: tokenServer.url, audience: AUDIENCE })

  it('answers GET /health without a token', async () => {
    const res = await request(app()).get('/health')
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ status: 'ok' })
  })

  it('answers GET /ready 503 with every reason, until the key set is fetched', async () => {
    const ready = createResourceServerApp({
      issuer: tokenServer.url,
      audience: AUDIENCE,
      readiness: [{ name: 'redis', check: () => 'redis_unreachable' }],
    })
    const before = await request(ready).get('/ready')
    expect([before.status, before.body]).toEqual([
      503,
      { status: 'not_ready', reasons: ['key_set_not_loaded', 'redis_unreachable'] },
    ])
    expect(before.headers['cache-control']).toBe('no-store')
    await request(ready).get('/reports').set('Authorization', `Bearer ${readToken}`)
    const after = await request(ready).get('/ready')
    expect(after.body).toEqual({ status: 'not_ready', reasons: ['redis_unreachable'] })
  })

  it('gets ready by itself once the token server is up: /ready makes the guard fetch again', async () => {
    // A port nothing listens on yet, for a token server started later.
    const spare = await listenOnEphemeralPort(() => express())
    const port = Number(new URL(spare.url).port)
    await spare.close()
    const issuer = `http://127.0.0.1:${port}`
    let probes = 0
    const app: express.Express = createResourceServerApp({
      issuer,
      audience: AUDIENCE,
      refreshKeys: () => {
        probes++
        void request(app).get('/whoami').set('Authorization', `Bearer ${PROBE_TOKEN}`).then()
      },
    })
    const down = await request(app).get('/ready')
    expect([down.status, down.body]).toEqual([
      503,
      { status: 'not_ready', reasons: ['key_set_not_loaded'] },
    ])
    const key = makeSigningKey('ES256')
    const late = await listen(
      '127.0.0.1',
      port,
      () => createTokenServerApp({ issuer, clients: staticClientStore([]), keys: [key.input] }),
      undefined,
    )
    try {
      // No request but the readiness checks reaches the API, as behind a load balancer.
      let status = 503
      for (let i = 0; i < 100 && status !== 200; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100))
        status = (await request(app).get('/ready')).status
      }
      expect(status).toBe(200)
      expect(probes).toBeGreaterThan(0)
    } finally {
      await late.close()
    }
  })

  it('answers GET /whoami with the caller, its scope and audience', async () => {
    const res = await request(app()).get('/whoami').set('Authorization', `Bearer ${readToken}`)
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ client_id: 'reader', scope: 'reports:read', aud: AUDIENCE })
  })

  it('answers GET /reports to a reports:read token (keys discovered from the metadata)', async () => {
    const res = await request(app()).get('/reports').set('Authorization', `Bearer ${readToken}`)
    expect(res.status).toBe(200)
    expect(Array.isArray(body(res).reports)).toBe(true)
  })

  it('answers GET /reports with keys from an explicit JWKS_URI', async () => {
    const explicit = createResourceServerApp({
      issuer: tokenServer.url,
      audience: AUDIENCE,
      jwksUri: `${tokenServer.url}/jwks.json`,
    })
    const res = await request(explicit).get('/reports').set('Authorization', `Bearer ${readToken}`)
    expect(res.status).toBe(200)
  })

  it('answers 401 with a bare Bearer challenge when the token is missing', async () => {
    const res = await request(app()).get('/reports')
    expect(res.status).toBe(401)
    expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="[^"]*"$/)
  })

  it('answers 401 invalid_token for a token issued to another audience', async () => {
    const res = await request(app())
      .get('/reports')
      .set('Authorization', `Bearer ${otherAudienceToken}`)
    expect(res.status).toBe(401)
    expect(res.headers['www-authenticate']).toContain('error="invalid_token"')
  })

  it('answers 403 insufficient_scope to POST /reports with a read-only token', async () => {
    const res = await request(app())
      .post('/reports')
      .set('Authorization', `Bearer ${readToken}`)
      .send({ title: 'Q3' })
    expect(res.status).toBe(403)
    expect(body(res).error).toBe('insufficient_scope')
    expect(res.headers['www-authenticate']).toContain('scope="reports:write"')
  })

  it('creates a report on POST /reports with a reports:write token', async () => {
    const res = await request(app())
      .post('/reports')
      .set('Authorization', `Bearer ${writeToken}`)
      .send({ title: 'Q3' })
    expect(res.status).toBe(201)
    expect(res.body).toMatchObject({ title: 'Q3', created_by: 'writer' })
  })

  it('answers 400 JSON to POST /reports with a malformed body', async () => {
    const res = await request(app())
      .post('/reports')
      .set('Authorization', `Bearer ${writeToken}`)
      .type('json')
      .send('{"title":')
    expect(res.status).toBe(400)
    expect(res.body).toEqual({ error: 'bad_request' })
  })

  it('reads ISSUER, AUDIENCE, JWKS_URI with PORT defaulting to 4001', () => {
    expect(
      loadResourceServerConfig({ ISSUER: 'http://127.0.0.1:4000', AUDIENCE: AUDIENCE }),
    ).toEqual({
      host: '127.0.0.1',
      port: 4001,
      issuer: 'http://127.0.0.1:4000',
      audience: AUDIENCE,
      jwksUri: undefined,
    })
  })

  it.each([
    [{ AUDIENCE }, /^ISSUER is required/],
    [{ ISSUER: 'http://127.0.0.1:4000' }, /^AUDIENCE is required/],
    [{ ISSUER: 'http://127.0.0.1:4000', AUDIENCE, JWKS_URI: 'ftp://x' }, /^JWKS_URI must be/],
  ])('fails with a clear message on %j', async (vars, message) => {
    expect(await configError(() => loadResourceServerConfig(vars))).toMatch(message)
  })
})

describe('existing app with ccflow mounted', () => {
  const origin = 'http://127.0.0.1:4002'
  let app: ReturnType<typeof createExistingApp>
  let secret: string
  beforeAll(async () => {
    const made = await makeClient({
      client_id: 'reporter',
      scope: 'reports:read',
      audiences: [API_AUDIENCE],
    })
    secret = made.secret
    app = createExistingApp({
      origin,
      clients: [made.client],
      signingKey: generateSigningKey('ES256'),
    })
  })

  const getToken = async (): Promise<string> => {
    const res = await request(app)
      .post('/oauth/token')
      .set('Authorization', basic('reporter', secret))
      .type('form')
      .send({ grant_type: 'client_credentials' })
    expect(res.status).toBe(200)
    return body(res).access_token as string
  }

  it("keeps parsing JSON for the app's own routes", async () => {
    const res = await request(app).post('/notes').send({ text: 'hello' })
    expect(res.status).toBe(201)
    expect(res.body).toEqual({ note: { text: 'hello' }, visits: 1 })
  })

  it("keeps the app's cookie session and security headers", async () => {
    const agent = request.agent(app)
    const first = await agent.post('/notes').send({})
    expect(first.headers['set-cookie']?.[0]).toMatch(
      /^sid=[\w-]{36}; Path=\/; HttpOnly; SameSite=Lax$/,
    )
    expect(first.headers['x-content-type-options']).toBe('nosniff')
    expect(first.headers['x-frame-options']).toBe('DENY')
    const second = await agent.post('/notes').send({})
    expect(body(second).visits).toBe(2)
  })

  it("renders the app's own errors with the app's error handler", async () => {
    const res = await request(app).get('/boom')
    expect(res.status).toBe(500)
    expect(res.headers['x-app-error']).toBe('handled')
    expect(res.text).toBe('<h1>Sorry, that failed.</h1>')
  })

  it("renders malformed JSON on the app's routes with the app's error handler", async () => {
    const res = await request(app).post('/notes').type('json').send('{"text":')
    expect(res.status).toBe(400)
    expect(res.headers['x-app-error']).toBe('handled')
  })

  it('issues tokens from the mounted token endpoint, with metadata under /oauth', async () => {
    const meta = await request(app).get('/oauth/.well-known/oauth-authorization-server')
    expect(meta.status).toBe(200)
    expect(meta.body).toMatchObject({
      issuer: `${origin}/oauth`,
      token_endpoint: `${origin}/oauth/token`,
    })
    const claims = decodeJwt(await getToken())
    expect(claims).toMatchObject({
      iss: `${origin}/oauth`,
      aud: API_AUDIENCE,
      client_id: 'reporter',
    })
  })

  it('still refuses a JSON token request although the app parses JSON everywhere', async () => {
    const res = await request(app)
      .post('/oauth/token')
      .set('Authorization', basic('reporter', secret))
      .send({ grant_type: 'client_credentials' })
    expect(res.status).toBe(400)
    expect(body(res).error).toBe('invalid_request')
    expect(res.headers['content-type']).toMatch(/^application\/json/)
    expect(res.headers['cache-control']).toBe('no-store')
    expect(res.headers['x-app-error']).toBeUndefined()
  })

  it("answers token errors as RFC 6749 JSON, not through the app's error handler", async () => {
    const res = await request(app)
      .post('/oauth/token')
      .set('Authorization', basic('reporter', 'wrong'))
      .type('form')
      .send({ grant_type: 'client_credentials' })
    expect(res.status).toBe(401)
    expect(body(res).error).toBe('invalid_client')
    expect(res.headers['x-app-error']).toBeUndefined()
  })

  it('guards the API with the mounted guard, answering RFC 6750 errors itself', async () => {
    const denied = await request(app).get('/api/reports')
    expect(denied.status).toBe(401)
    expect(denied.headers['www-authenticate']).toMatch(/^Bearer /)
    expect(denied.headers['x-app-error']).toBeUndefined()
    const ok = await request(app)
      .get('/api/reports')
      .set('Authorization', `Bearer ${await getToken()}`)
    expect(ok.status).toBe(200)
    expect(ok.body).toEqual({ reports: [], client_id: 'reporter' })
  })
})

describe('shared server runner (listen)', () => {
  it('logs one JSON record per request: method, full path without query, status, time, outcome', async () => {
    const { logger, records } = memoryLogger()
    const app = express()
    app.get('/health', (_req, res) => void res.json({ status: 'ok' }))
    app.use(
      '/oauth',
      express.Router().post('/token', (_req, res) => {
        noteRequest({ outcome: 'invalid_request', reason: 'duplicate_parameter', clientId: 'c' })
        res.status(400).end()
      }),
    )
    const served = await listen('127.0.0.1', 0, () => app, logger)
    try {
      await fetch(`${served.url}/oauth/token?client_secret=hunter2`, { method: 'POST' })
      await fetch(`${served.url}/health`)
      await fetch(`${served.url}/nowhere`)
      expect(records()).toEqual([
        expect.objectContaining({
          level: 'info',
          program: 'test',
          msg: 'request',
          method: 'POST',
          route: '/oauth/token',
          status: 400,
          duration_ms: expect.any(Number) as number,
          outcome: 'invalid_request',
          reason: 'duplicate_parameter',
          client_id: 'c',
        }),
        // Probes answered 200 only at debug: one every few seconds would drown the log.
        expect.objectContaining({ level: 'debug', route: '/health', status: 200 }),
        expect.objectContaining({ method: 'GET', route: '/nowhere', outcome: 'not_found' }),
      ])
      expect(JSON.stringify(records())).not.toContain('hunter2')
    } finally {
      await served.close()
    }
  })

  it('reports a port in use as a one-line error naming HOST/PORT', async () => {
    const first = await listen('127.0.0.1', 0, () => express(), undefined)
    const port = Number(new URL(first.url).port)
    try {
      await expect(listen('127.0.0.1', port, () => express(), undefined)).rejects.toThrow(
        `cannot listen on 127.0.0.1:${port} (the address is in use); set HOST/PORT`,
      )
    } finally {
      await first.close()
    }
  })
})

describe('shared metrics listener (serveMetrics)', () => {
  it('serves GET and HEAD /metrics in the Prometheus text format with process metrics, nothing else', async () => {
    const served = await serveMetrics('127.0.0.1', 0, (registry) => {
      new Counter({ name: 'example_total', help: 'An example.', registers: [registry] }).inc(3)
    })
    try {
      const res = await fetch(`${served.url}/metrics?x=1`)
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
      const text = await res.text()
      expect(text).toContain('example_total 3')
      expect(text).toContain('process_cpu_user_seconds_total')
      const head = await fetch(`${served.url}/metrics`, { method: 'HEAD' })
      expect([head.status, await head.text()]).toEqual([200, ''])
      for (const [method, path] of [
        ['GET', '/'],
        ['GET', '/token'],
        ['POST', '/metrics'],
      ] as const) {
        expect((await fetch(`${served.url}${path}`, { method })).status).toBe(404)
      }
    } finally {
      await served.close()
    }
  })

  it('answers 500 when the registry cannot be read', async () => {
    const served = await serveMetrics('127.0.0.1', 0, (registry) => {
      new Gauge({
        name: 'broken',
        help: 'A collect that fails.',
        registers: [registry],
        collect() {
          throw new Error('broken collect')
        },
      })
    })
    try {
      expect((await fetch(`${served.url}/metrics`)).status).toBe(500)
    } finally {
      await served.close()
    }
  })
})

describe('examples/README.md', () => {
  it('shows a request log line with exactly the fields the servers write', async () => {
    const readme = readFileSync(new URL('../examples/README.md', import.meta.url), 'utf8')
    const shown = /```json\n(\{"level".*"msg":"request"\})\n```/.exec(readme)?.[1]
    expect(shown).toBeDefined()
    const { logger, records } = memoryLogger('token-server')
    // As server.ts builds it: the issuer's events fill in the request line.
    const app = createTokenServerApp({
      ...loadConfig(),
      issuer: 'http://127.0.0.1:4000',
      onEvent: logIssuerEvents(logger),
    })
    const served = await listen('127.0.0.1', 0, () => app, logger)
    try {
      await fetch(`${served.url}/token`, {
        method: 'POST',
        headers: { authorization: basic('reporter', 'wrong') },
        body: new URLSearchParams({ grant_type: 'client_credentials' }),
      })
    } finally {
      await served.close()
    }
    const written = records().find((record) => record.msg === 'request')
    const keys = (record: object) => Object.keys(record).sort()
    expect(keys(JSON.parse(shown ?? '{}') as object)).toEqual(keys(written ?? {}))
    expect(written).toMatchObject({ outcome: 'invalid_client', reason: 'wrong_secret' })
  })

  it('shows a CLIENTS_FILE example that the token server loads', async () => {
    const readme = readFileSync(new URL('../examples/README.md', import.meta.url), 'utf8')
    const example = /```json\n([\s\S]*?)```/.exec(readme)?.[1]
    expect(example).toBeDefined()
    const file = dir.file('readme-clients.json', example ?? '')
    const config = loadTokenServerConfig({ CLIENTS_FILE: file, SIGNING_KEYS_FILE: keysFile })
    for (const id of ['reporting-job', 'demo', 'billing']) {
      expect(await config.clients.findClient(id)).toMatchObject({ client_id: id })
    }
    const app = createTokenServerApp({ ...config, issuer: 'http://127.0.0.1:4000' })
    // The curl walkthrough's Basic credentials for the plain secret "change me".
    const res = await request(app)
      .post('/token')
      .set('Authorization', `Basic ${Buffer.from('demo:change+me').toString('base64')}`)
      .type('form')
      .send({ grant_type: 'client_credentials', scope: 'reports:read' })
    expect(res.status).toBe(200)
  })
})
