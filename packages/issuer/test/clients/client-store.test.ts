import { generateKeyPairSync } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, relative as relativePath } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import {
  checkStoredClient,
  jsonFileClientStore,
  readClientsFile,
  staticClientStore,
  validateClient,
  type Client,
} from '../../src/clients/client-store.js'

// Well-formed stored hashes (the secrets behind them do not matter here).
const HMAC_HASH = `$hmac-sha256$${'A'.repeat(43)}`
const PEPPER = 'test-pepper-0123456789abcdefghijklmnop'
const SCRYPT_HASH = `$scrypt$ln=15,r=8,p=1$${'B'.repeat(22)}$${'C'.repeat(43)}`

function record(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    client_id: 'billing',
    scope: 'invoices:read invoices:write',
    audiences: ['https://api.example.com'],
    secrets: [{ id: 'k1', hash: HMAC_HASH }],
    ...overrides,
  }
}

describe('validateClient', () => {
  it('returns a copy with every known field kept', () => {
    const input = record({
      client_name: 'Billing service',
      default_scope: 'invoices:read',
      token_endpoint_auth_method: 'client_secret_post',
      grant_types: ['client_credentials'],
      audiences: ['https://a.example', 'urn:b'],
      default_audience: 'urn:b',
      access_token_ttl: 600,
      disabled: false,
      introspection: true,
      secrets: [
        { id: 'k1', hash: HMAC_HASH, expires_at: 1_900_000_000 },
        { id: 'k2', hash: SCRYPT_HASH },
      ],
    })
    const client = validateClient(input)
    expect(client).toEqual(input)
    expect(client).not.toBe(input)
  })

  it('returns a deeply frozen record', () => {
    const client = validateClient(record({ grant_types: ['client_credentials'] }))
    expect(Object.isFrozen(client)).toBe(true)
    expect(Object.isFrozen(client.audiences)).toBe(true)
    expect(Object.isFrozen(client.secrets)).toBe(true)
    expect(Object.isFrozen(client.secrets![0])).toBe(true)
    expect(Object.isFrozen(client.grant_types)).toBe(true)
  })

  it('does not keep references to the input arrays', () => {
    const input = record()
    const client = validateClient(input)
    ;(input.audiences as string[]).push('https://evil.example')
    expect(client.audiences).toEqual(['https://api.example.com'])
  })

  it('accepts an empty scope (a client with no scopes)', () => {
    expect(validateClient(record({ scope: '' })).scope).toBe('')
  })

  it('treats an optional field set to undefined as absent', () => {
    const client = validateClient(record({ client_name: undefined, disabled: undefined }))
    expect(client).not.toHaveProperty('client_name')
    expect(client).not.toHaveProperty('disabled')
  })

  it('treats optional fields set to undefined as absent', () => {
    const optional = [
      'client_name',
      'default_scope',
      'token_endpoint_auth_method',
      'grant_types',
      'default_audience',
      'access_token_ttl',
      'disabled',
      'introspection',
      'jwks',
      'jwks_uri',
      'token_endpoint_auth_signing_alg',
      'max_assertion_lifetime',
    ]
    const withUndefined = record(Object.fromEntries(optional.map((field) => [field, undefined])))
    const secret = { id: 'k1', hash: HMAC_HASH, expires_at: undefined }
    expect(validateClient({ ...withUndefined, secrets: [secret] })).toStrictEqual(
      validateClient(record()),
    )
  })

  it('names the unknown key and the client in the error, with the field it resembles', () => {
    expect(() => validateClient(record({ audiances: ['x'] }), 'clients[3]')).toThrow(
      new TypeError(
        'clients[3] (client_id "billing"): unknown key "audiances" (did you mean "audiences"?)',
      ),
    )
  })

  it.each([
    ['client_secret_hash', 'put the hash in secrets: [{ id, hash }]'],
    ['client_secret_id', 'it is the id in secrets: [{ id, hash }]'],
    [
      'audience',
      'list every allowed audience in audiences: ["https://…"] (the first is the default)',
    ],
    [
      'client_secret',
      'records hold only hashes: hash the secret with `ccflow hash` (or hashClientSecret) and put ' +
        'it in secrets: [{ id, hash }]',
    ],
  ])('says where the value of %s, a field of another client format, goes', (field, instead) => {
    expect(() => validateClient(record({ [field]: 'x' }), 'clients[0]')).toThrow(
      new TypeError(`clients[0] (client_id "billing"): ${field} is not a record field; ${instead}`),
    )
  })

  it('refuses a __proto__ key from JSON rather than ignoring it', () => {
    const json = JSON.stringify(record()).replace(/}$/, ',"__proto__":{"disabled":false}}')
    const parsed = JSON.parse(json) as unknown
    expect(() => validateClient(parsed)).toThrow(/unknown key "__proto__"/)
  })

  it.each<[string, unknown, RegExp]>([
    ['a non-object', 'billing', /client must be an object/],
    ['an array', [], /client must be an object/],
    ['null', null, /client must be an object/],
    ['a class instance', new (class {})(), /client must be an object/],
    ['a missing client_id', record({ client_id: undefined }), /client\.client_id/],
    ['an empty client_id', record({ client_id: '' }), /client\.client_id/],
    ['a client_id with a newline', record({ client_id: 'a\nb' }), /client\.client_id/],
    ['a missing scope', record({ scope: undefined }), /\.scope is required/],
    ['a scope that is an array', record({ scope: ['a'] }), /\.scope must be/],
    ['a scope with a double quote', record({ scope: 'a "b"' }), /\.scope must be scope tokens/],
    ['a scope with a backslash', record({ scope: 'a\\b' }), /\.scope must be scope tokens/],
    ['a scope with two spaces', record({ scope: 'a  b' }), /\.scope must be scope tokens/],
    ['a scope with a leading space', record({ scope: ' a' }), /\.scope must be scope tokens/],
    ['a scope with a tab', record({ scope: 'a\tb' }), /\.scope must be scope tokens/],
    ['a scope with non-ASCII', record({ scope: 'lesen:é' }), /\.scope must be scope tokens/],
    ['a repeated scope token', record({ scope: 'a b a' }), /\.scope repeats "a"/],
    [
      'a default_scope outside scope',
      record({ default_scope: 'invoices:read admin' }),
      /default_scope holds "admin"/,
    ],
    [
      'a malformed default_scope',
      record({ default_scope: 'invoices:read ' }),
      /default_scope must be/,
    ],
    ['missing audiences', record({ audiences: undefined }), /\.audiences must be a non-empty/],
    ['empty audiences', record({ audiences: [] }), /\.audiences must be a non-empty/],
    ['a string audiences', record({ audiences: 'https://a' }), /\.audiences must be/],
    ['an empty audience', record({ audiences: ['x', ''] }), /\.audiences\[1\] must be/],
    ['a repeated audience', record({ audiences: ['x', 'x'] }), /\.audiences\[1\] repeats "x"/],
    [
      'a default_audience not in audiences',
      record({ default_audience: 'https://other' }),
      /default_audience must be one of audiences/,
    ],
    [
      'an unknown auth method',
      record({ token_endpoint_auth_method: 'tls_client_auth' }),
      /token_endpoint_auth_method/,
    ],
    ['grant_types as a string', record({ grant_types: 'client_credentials' }), /grant_types/],
    ['an empty grant type', record({ grant_types: [''] }), /grant_types\[0\]/],
    ['a zero ttl', record({ access_token_ttl: 0 }), /access_token_ttl/],
    ['a fractional ttl', record({ access_token_ttl: 1.5 }), /access_token_ttl/],
    ['a string ttl', record({ access_token_ttl: '300' }), /access_token_ttl/],
    ['disabled as a string', record({ disabled: 'false' }), /disabled must be a boolean/],
    [
      'introspection as a string',
      record({ introspection: 'true' }),
      /introspection must be a boolean/,
    ],
    ['client_name as a number', record({ client_name: 7 }), /client_name/],
    ['no secrets', record({ secrets: [] }), /\.secrets must be a non-empty/],
    ['secrets missing', record({ secrets: undefined }), /\.secrets must be a non-empty/],
    [
      'an unknown key in a secret, suggesting the one it resembles',
      record({ secrets: [{ id: 'k1', hash: HMAC_HASH, expires: 1 }] }),
      /secrets\[0\]: unknown key "expires" \(did you mean "expires_at"\?\)$/,
    ],
    [
      'a misspelt token_endpoint_auth_method, suggesting the one it resembles',
      record({ token_endpoint_auth_method: 'client_secret_basik' }),
      /token_endpoint_auth_method must be 'client_secret_basic', 'client_secret_post' or 'private_key_jwt' \(did you mean 'client_secret_basic'\?\)$/,
    ],
    [
      'a secret id with an underscore',
      record({ secrets: [{ id: 'k_1', hash: HMAC_HASH }] }),
      /secrets\[0\]\.id/,
    ],
    [
      'duplicate secret ids',
      record({
        secrets: [
          { id: 'k1', hash: HMAC_HASH },
          { id: 'k1', hash: SCRYPT_HASH },
        ],
      }),
      /secrets\[1\]\.id repeats "k1"/,
    ],
    [
      'a plain-text secret as the hash',
      record({ secrets: [{ id: 'k1', hash: 'hunter2' }] }),
      /secrets\[0\]\.hash must be a hash/,
    ],
    [
      'an expiry in milliseconds',
      record({ secrets: [{ id: 'k1', hash: HMAC_HASH, expires_at: 1_900_000_000_000 }] }),
      /expires_at must be a time in epoch seconds/,
    ],
    [
      'a negative expiry',
      record({ secrets: [{ id: 'k1', hash: HMAC_HASH, expires_at: -1 }] }),
      /expires_at/,
    ],
    [
      'a NaN expiry',
      record({ secrets: [{ id: 'k1', hash: HMAC_HASH, expires_at: Number.NaN }] }),
      /expires_at/,
    ],
  ])('throws a TypeError for %s', (_label, value, message) => {
    let error: unknown
    try {
      validateClient(value)
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(TypeError)
    expect((error as TypeError).message).toMatch(message)
  })

  it('never echoes a hash (which might be a pasted secret) in its error', () => {
    expect(() => validateClient(record({ secrets: [{ id: 'k1', hash: 'hunter2' }] }))).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('hunter2') as string }),
    )
  })
})

describe('staticClientStore', () => {
  const clients = [
    record() as unknown as Client,
    record({ client_id: 'reports', scope: 'reports:read' }) as unknown as Client,
  ]

  it('finds a client by id', async () => {
    const store = staticClientStore(clients)
    await expect(store.findClient('reports')).resolves.toMatchObject({
      client_id: 'reports',
      scope: 'reports:read',
    })
  })

  it('resolves undefined for an unknown id', async () => {
    await expect(staticClientStore(clients).findClient('nobody')).resolves.toBeUndefined()
  })

  it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'])(
    'is not fooled by the prototype key %s',
    async (id) => {
      await expect(staticClientStore(clients).findClient(id)).resolves.toBeUndefined()
    },
  )

  it('resolves undefined for a non-string id', async () => {
    const store = staticClientStore(clients)
    await expect(store.findClient(undefined as unknown as string)).resolves.toBeUndefined()
    await expect(store.findClient(['billing'] as unknown as string)).resolves.toBeUndefined()
  })

  it('hands out records the caller cannot change', async () => {
    const store = staticClientStore(clients)
    const found = await store.findClient('billing')
    expect(() => {
      ;(found as Client).disabled = true
    }).toThrow(TypeError)
    expect(() => (found as Client).audiences.push('https://evil.example')).toThrow(TypeError)
    await expect(store.findClient('billing')).resolves.not.toHaveProperty('disabled')
  })

  it('is not affected by later changes to the input list', async () => {
    const input = [record()]
    const store = staticClientStore(input as unknown as Client[])
    input[0]!.scope = 'admin'
    await expect(store.findClient('billing')).resolves.toMatchObject({
      scope: 'invoices:read invoices:write',
    })
  })

  it('throws a TypeError naming the position of a duplicate client_id', () => {
    expect(() => staticClientStore([clients[0]!, clients[1]!, clients[0]!])).toThrow(
      new TypeError('clients[2]: duplicate client_id "billing"'),
    )
  })

  it('throws a TypeError naming the position of an invalid record', () => {
    expect(() =>
      staticClientStore([
        clients[0]!,
        record({ client_id: 'x', audiences: [] }) as unknown as Client,
      ]),
    ).toThrow(/^clients\[1\] \(client_id "x"\)\.audiences/)
  })

  it('throws a TypeError when the list is not an array', () => {
    expect(() => staticClientStore({} as unknown as Client[])).toThrow(TypeError)
  })
})

describe('jsonFileClientStore', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ccflow-clients-'))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  async function file(name: string, content: unknown): Promise<string> {
    const path = join(dir, name)
    await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content))
    return path
  }

  it('reads and validates the file at creation', async () => {
    const path = await file('ok.json', [record(), record({ client_id: 'reports' })])
    const store = jsonFileClientStore(path)
    await expect(store.findClient('reports')).resolves.toMatchObject({ client_id: 'reports' })
    await expect(store.findClient('__proto__')).resolves.toBeUndefined()
  })

  it('throws a TypeError with the file path and the field for an invalid record', async () => {
    const path = await file('bad-field.json', [record(), record({ client_id: 'x', scopes: 'a' })])
    expect(() => jsonFileClientStore(path)).toThrow(
      new TypeError(`${path}[1] (client_id "x"): unknown key "scopes" (did you mean "scope"?)`),
    )
  })

  it('throws a TypeError with the file path for invalid JSON', async () => {
    const path = await file('bad-json.json', '[{"client_id": ')
    expect(() => jsonFileClientStore(path)).toThrow(TypeError)
    expect(() => jsonFileClientStore(path)).toThrow(path)
  })

  it('throws a TypeError when the file holds an object instead of an array', async () => {
    const path = await file('object.json', { clients: [record()] })
    expect(() => jsonFileClientStore(path)).toThrow(`${path}: must hold a JSON array of clients`)
  })

  it('throws a TypeError for duplicate client ids in the file', async () => {
    const path = await file('dupe.json', [record(), record()])
    expect(() => jsonFileClientStore(path)).toThrow(`${path}[1]: duplicate client_id "billing"`)
  })

  it('fails at creation on a missing file with one line naming the resolved path, and its code', () => {
    const relative = relativePath(process.cwd(), join(dir, 'missing.json'))
    let thrown: unknown
    try {
      jsonFileClientStore(relative)
    } catch (error) {
      thrown = error
    }
    expect(thrown).toBeInstanceOf(Error)
    expect(thrown).toMatchObject({
      code: 'ENOENT',
      message: `jsonFileClientStore: cannot read the clients file ${join(dir, 'missing.json')} (ENOENT: no such file)`,
    })
  })

  it('names a directory given as the clients file', () => {
    expect(() => jsonFileClientStore(dir)).toThrow(
      `jsonFileClientStore: cannot read the clients file ${dir} (EISDIR: it is a directory)`,
    )
  })

  it('rejects reload() with the same one line when the file is gone', async () => {
    const path = await file('gone.json', [record()])
    const store = jsonFileClientStore(path)
    await rm(path)
    await expect(store.reload()).rejects.toMatchObject({
      code: 'ENOENT',
      message: `jsonFileClientStore: cannot read the clients file ${path} (ENOENT: no such file)`,
    })
    await expect(store.findClient('billing')).resolves.toMatchObject({ client_id: 'billing' })
  })

  it('picks up changes on reload()', async () => {
    const path = await file('reload.json', [record()])
    const store = jsonFileClientStore(path)
    await file('reload.json', [record({ client_id: 'reports' })])
    await expect(store.findClient('reports')).resolves.toBeUndefined()
    await store.reload()
    await expect(store.findClient('reports')).resolves.toMatchObject({ client_id: 'reports' })
    await expect(store.findClient('billing')).resolves.toBeUndefined()
  })

  it('keeps the previous clients and rejects when the reloaded file is invalid', async () => {
    const path = await file('reload-bad.json', [record()])
    const store = jsonFileClientStore(path)
    await file('reload-bad.json', [record({ audiences: [] })])
    await expect(store.reload()).rejects.toThrow(/audiences/)
    await expect(store.findClient('billing')).resolves.toMatchObject({ client_id: 'billing' })
    await file('reload-bad.json', '{ not json')
    await expect(store.reload()).rejects.toBeInstanceOf(TypeError)
    await expect(store.findClient('billing')).resolves.toMatchObject({ client_id: 'billing' })
  })

  it('throws a TypeError for an empty path', () => {
    expect(() => jsonFileClientStore('')).toThrow(TypeError)
  })

  it.each([
    [
      'client_secret_hash',
      { client_secret_hash: HMAC_HASH },
      'put the hash in secrets: [{ id, hash }]',
    ],
    ['client_secret_id', { client_secret_id: 'k1' }, 'it is the id in secrets: [{ id, hash }]'],
    ['audience', { audience: 'urn:a' }, 'list every allowed audience in audiences: ['],
    [
      'client_secret',
      { client_secret: 'demo secret' },
      'records hold only hashes: hash the secret with `ccflow hash`',
    ],
  ])(
    'refuses the field %s of another client format, saying where its value goes',
    async (field, extra, instead) => {
      const path = await file(`other-format-${field}.json`, [record(extra)])
      let message = ''
      try {
        jsonFileClientStore(path)
      } catch (err) {
        expect(err).toBeInstanceOf(TypeError)
        message = (err as Error).message
      }
      expect(message).toContain(
        `${path}[0] (client_id "billing"): ${field} is not a record field; ${instead}`,
      )
      expect(message).not.toContain('demo secret')
    },
  )

  it('hands the warnings to onWarning after each successful load', async () => {
    const path = await file('warn.json', [])
    const onWarning = vi.fn()
    const store = jsonFileClientStore(path, { onWarning })
    expect(onWarning.mock.calls).toEqual([[`${path} holds no clients: every client is refused`]])
    await store.reload()
    expect(onWarning).toHaveBeenCalledTimes(2)
  })

  it('throws a TypeError for an unknown option', async () => {
    const path = await file('options.json', [record()])
    expect(() => jsonFileClientStore(path, { pepper: PEPPER } as never)).toThrow(
      new TypeError('jsonFileClientStore: unknown option "pepper"'),
    )
  })
})

describe('readClientsFile', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ccflow-clients-read-'))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  async function file(name: string, content: unknown): Promise<string> {
    const path = join(dir, name)
    await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content))
    return path
  }

  it('returns the checked, frozen records in file order', async () => {
    const path = await file('ok.json', [record({ client_id: 'b' }), record({ client_id: 'a' })])
    const clients = readClientsFile(path)
    expect(clients.map((client) => client.client_id)).toEqual(['b', 'a'])
    expect(Object.isFrozen(clients)).toBe(true)
    expect(Object.isFrozen(clients[0])).toBe(true)
    expect(clients[0]).toEqual(validateClient(record({ client_id: 'b' })))
  })

  it('refuses what jsonFileClientStore refuses, with the same message', async () => {
    const path = await file('dupe.json', [record(), record()])
    expect(() => readClientsFile(path)).toThrow(
      new TypeError(`${path}[1]: duplicate client_id "billing"`),
    )
    const bad = await file('bad.json', [record({ scopes: 'a' })])
    expect(() => readClientsFile(bad)).toThrow(
      new TypeError(
        `${bad}[0] (client_id "billing"): unknown key "scopes" (did you mean "scope"?)`,
      ),
    )
  })

  it('hands the warnings of the file to onWarning', async () => {
    const path = await file('empty.json', [])
    const onWarning = vi.fn()
    expect(readClientsFile(path, { onWarning })).toEqual([])
    expect(onWarning).toHaveBeenCalledWith(`${path} holds no clients: every client is refused`)
  })

  it('names itself when the file cannot be read', () => {
    expect(() => readClientsFile(join(dir, 'missing.json'))).toThrow(
      /^readClientsFile: cannot read the clients file .*missing\.json \(ENOENT: no such file\)$/,
    )
  })

  it('throws a TypeError for a path that is not a non-empty string', () => {
    expect(() => readClientsFile('')).toThrow(
      new TypeError('readClientsFile: path must be a non-empty string'),
    )
  })
})

describe('validateClient: private_key_jwt records (RFC 7591 §2, RFC 7523)', () => {
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const JWK = { ...pair.publicKey.export({ format: 'jwk' }), kid: 'k1' }
  const PRIVATE_JWK = { ...pair.privateKey.export({ format: 'jwk' }), kid: 'k1' }
  function keyRecord(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    return record({
      token_endpoint_auth_method: 'private_key_jwt',
      secrets: undefined,
      jwks: { keys: [JWK] },
      ...overrides,
    })
  }

  it('keeps jwks, the signing alg and the lifetime, with no secrets, deeply frozen', () => {
    const client = validateClient(
      keyRecord({ token_endpoint_auth_signing_alg: 'ES256', max_assertion_lifetime: 120 }),
    )
    expect(client.secrets).toBeUndefined()
    expect(client.jwks).toEqual({ keys: [JWK] })
    expect(client.token_endpoint_auth_signing_alg).toBe('ES256')
    expect(client.max_assertion_lifetime).toBe(120)
    expect(Object.isFrozen(client.jwks?.keys[0])).toBe(true)
    expect(Object.isFrozen(client.jwks?.keys)).toBe(true)
  })

  it('freezes nested JWK members too (key_ops)', () => {
    const client = validateClient(keyRecord({ jwks: { keys: [{ ...JWK, key_ops: ['verify'] }] } }))
    expect(Object.isFrozen(client.jwks?.keys[0]?.key_ops)).toBe(true)
  })

  it('checks again a stored record whose jwks is not deeply frozen', async () => {
    const checked = validateClient(keyRecord({ jwks: { keys: [{ ...JWK, key_ops: ['verify'] }] } }))
    // Frozen on the outside, a mutable array inside: such a record is validated on each lookup.
    const mutable = Object.freeze({
      ...checked,
      jwks: Object.freeze({ keys: Object.freeze([{ ...JWK, key_ops: ['verify'] }]) }),
    })
    const first = checkStoredClient(mutable)
    expect(first).not.toBe(mutable)
    expect(checkStoredClient(mutable)).not.toBe(first)
    await Promise.resolve()
  })

  it('keeps a jwks_uri instead of jwks', () => {
    const uri = 'https://billing.example.com/jwks.json'
    const client = validateClient(keyRecord({ jwks: undefined, jwks_uri: uri }))
    expect(client.jwks_uri).toBe(uri)
    expect(client.jwks).toBeUndefined()
  })

  it('does not share the input JWKs', () => {
    const input = keyRecord({ jwks: { keys: [{ ...JWK }] } })
    const client = validateClient(input)
    ;(input.jwks as { keys: Record<string, unknown>[] }).keys[0]!.kid = 'changed'
    expect(client.jwks?.keys[0]?.kid).toBe('k1')
  })

  it.each([
    [
      'secrets beside the key',
      keyRecord({ secrets: [{ id: 'k1', hash: HMAC_HASH }] }),
      /\.secrets: a private_key_jwt client/,
    ],
    [
      'neither jwks nor jwks_uri',
      keyRecord({ jwks: undefined }),
      /exactly one of jwks and jwks_uri/,
    ],
    [
      'both jwks and jwks_uri',
      keyRecord({ jwks_uri: 'https://a.example/jwks' }),
      /exactly one of jwks and jwks_uri/,
    ],
    ['a jwks that is an array', keyRecord({ jwks: [JWK] }), /\.jwks must be a JWK Set/],
    [
      'a jwks without keys',
      keyRecord({ jwks: { keys: [] } }),
      /\.jwks\.keys must be a non-empty array/,
    ],
    [
      'a jwks with an unknown member',
      keyRecord({ jwks: { keys: [JWK], kyes: [] } }),
      /\.jwks: unknown key "kyes"/,
    ],
    [
      'a key that is not an object',
      keyRecord({ jwks: { keys: ['abc'] } }),
      /\.jwks\.keys\[0\] must be a JWK object/,
    ],
    [
      'a jwks_uri that is not a URL',
      keyRecord({ jwks: undefined, jwks_uri: 'jwks.json' }),
      /\.jwks_uri must be an absolute URL/,
    ],
    [
      'a file: jwks_uri',
      keyRecord({ jwks: undefined, jwks_uri: 'file:///etc/passwd' }),
      /\.jwks_uri must use https$/,
    ],
    [
      'a jwks_uri with credentials',
      keyRecord({ jwks: undefined, jwks_uri: 'https://u:p@a.example/j' }),
      /\.jwks_uri must not contain credentials/,
    ],
    [
      'alg none',
      keyRecord({ token_endpoint_auth_signing_alg: 'none' }),
      /token_endpoint_auth_signing_alg must be one of/,
    ],
    [
      'alg HS256',
      keyRecord({ token_endpoint_auth_signing_alg: 'HS256' }),
      /token_endpoint_auth_signing_alg must be one of [^(]*$/,
    ],
    [
      'an alg in the wrong letter case, suggesting the right one',
      keyRecord({ token_endpoint_auth_signing_alg: 'es256' }),
      /token_endpoint_auth_signing_alg must be one of .* \(did you mean "ES256"\?\)$/,
    ],
    [
      'a zero lifetime',
      keyRecord({ max_assertion_lifetime: 0 }),
      /max_assertion_lifetime must be an integer from 1 to 3600/,
    ],
    [
      'a lifetime over an hour',
      keyRecord({ max_assertion_lifetime: 3601 }),
      /max_assertion_lifetime/,
    ],
    [
      'a private key in jwks',
      keyRecord({ jwks: { keys: [PRIVATE_JWK] } }),
      /\.jwks\.keys\[0\] holds private key members/,
    ],
    [
      'an encryption key in jwks',
      keyRecord({ jwks: { keys: [{ ...JWK, use: 'enc' }] } }),
      /\.jwks\.keys\[0\] is not for signatures/,
    ],
    [
      'an HMAC key in jwks',
      keyRecord({ jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] } }),
      /\.jwks\.keys\[0\] holds private key members/,
    ],
    [
      'an alg that does not fit the key',
      keyRecord({ jwks: { keys: [{ ...JWK, alg: 'RS256' }] } }),
      /names an "alg" that does not fit/,
    ],
    [
      'a weak RSA key',
      keyRecord({
        jwks: {
          keys: [
            generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' }),
          ],
        },
      }),
      /under 2048 bits/,
    ],
    [
      'two keys with one kid',
      keyRecord({
        jwks: {
          keys: [
            JWK,
            {
              ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({
                format: 'jwk',
              }),
              kid: 'k1',
            },
          ],
        },
      }),
      /repeats a "kid"/,
    ],
    [
      'an http jwks_uri off loopback',
      keyRecord({ jwks: undefined, jwks_uri: 'http://keys.example.com/j' }),
      /\.jwks_uri must use https \(plain http is allowed only for localhost/,
    ],
    [
      'jwks on a secret client',
      record({ jwks: { keys: [JWK] } }),
      /\.jwks is for private_key_jwt clients/,
    ],
    [
      'jwks_uri on a secret client',
      record({ jwks_uri: 'https://a.example/j' }),
      /\.jwks_uri is for private_key_jwt clients/,
    ],
    [
      'a signing alg on a secret client',
      record({ token_endpoint_auth_signing_alg: 'ES256' }),
      /is for private_key_jwt clients/,
    ],
  ])('throws a TypeError for %s', (_name, input, message) => {
    expect(() => validateClient(input)).toThrow(message)
  })
})
