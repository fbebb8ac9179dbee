import { generateKeyPairSync } from 'node:crypto'
import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  type ClientFileSettings,
  readClientFile,
  resolveClientFileOptions,
} from '../../src/clients/client-file.js'
import { validateClient } from '../../src/clients/client-store.js'
import {
  generateClientSecret,
  hashClientSecret,
  verifyClientSecret,
} from '../../src/clients/secrets.js'

const PATH = '/etc/ccflow/clients.json'
const PEPPER = 'test-pepper-0123456789abcdefghijklmnop'
// A well-formed stored hash (the secret behind it does not matter here).
const HMAC_HASH = `$hmac-sha256$${'A'.repeat(43)}`
const AT = `${PATH}[0] (client_id "billing")`

const settings = (secretPepper?: string): ClientFileSettings => ({
  secretPepper,
  onWarning: () => undefined,
})

function canonical(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    client_id: 'billing',
    scope: 'invoices:read',
    audiences: ['https://api.example.com'],
    secrets: [{ id: 'k1', hash: HMAC_HASH }],
    ...overrides,
  }
}

/** A record in the file format: `canonical()` with `changes` applied (`undefined` removes). */
function fileRecord(changes: Record<string, unknown>): Record<string, unknown> {
  const record = { ...canonical(), ...changes }
  for (const [key, value] of Object.entries(changes)) if (value === undefined) delete record[key]
  return record
}

/** Reads a file holding `records` and returns the one record and the warnings. */
function read(records: unknown[], secretPepper?: string) {
  const { records: out, warnings } = readClientFile(
    JSON.stringify(records),
    PATH,
    settings(secretPepper),
  )
  return { record: out[0] as Record<string, unknown>, warnings }
}

const readError = (record: Record<string, unknown>): string => {
  try {
    read([record])
  } catch (err) {
    expect(err).toBeInstanceOf(TypeError)
    return (err as Error).message
  }
  throw new Error('expected a TypeError')
}

describe('readClientFile', () => {
  it('passes a canonical record through unchanged', () => {
    const record = canonical({ default_audience: 'https://api.example.com', disabled: false })
    expect(read([record])).toEqual({ record, warnings: [] })
  })

  it('maps audience (an array) to audiences, keeping the order so the first is the default', () => {
    const { record } = read([fileRecord({ audiences: undefined, audience: ['urn:a', 'urn:b'] })])
    expect(record).toEqual(canonical({ audiences: ['urn:a', 'urn:b'] }))
    expect(record).not.toHaveProperty('audience')
  })

  it('maps a single audience string to audiences with one entry', () => {
    const { record } = read([fileRecord({ audiences: undefined, audience: 'urn:a' })])
    expect(record).toEqual(canonical({ audiences: ['urn:a'] }))
  })

  it('keeps default_audience when it is given with audience', () => {
    const { record } = read([
      fileRecord({ audiences: undefined, audience: ['urn:a', 'urn:b'], default_audience: 'urn:b' }),
    ])
    expect(validateClient(record)).toMatchObject({
      audiences: ['urn:a', 'urn:b'],
      default_audience: 'urn:b',
    })
  })

  it('rejects audience and audiences together, naming both', () => {
    expect(readError(fileRecord({ audience: ['urn:a'] }))).toBe(
      `${AT}: give "audiences" or its alias "audience", not both`,
    )
  })

  it('rejects an audience that is neither a string nor an array', () => {
    expect(readError(fileRecord({ audiences: undefined, audience: 42 }))).toBe(
      `${AT}.audience must be a string or a non-empty array of strings`,
    )
  })

  it('maps client_secret_hash with client_secret_id to one secret', () => {
    const { record } = read([
      fileRecord({ secrets: undefined, client_secret_hash: HMAC_HASH, client_secret_id: 'k1' }),
    ])
    expect(record).toEqual(canonical())
  })

  it('gives a client_secret_hash the secret id "default" when client_secret_id is absent', () => {
    const { record } = read([fileRecord({ secrets: undefined, client_secret_hash: HMAC_HASH })])
    expect(record).toEqual(canonical({ secrets: [{ id: 'default', hash: HMAC_HASH }] }))
  })

  it('rejects a client_secret_hash that is no hash, without echoing it', () => {
    const message = readError(
      fileRecord({ secrets: undefined, client_secret_hash: 'pasted-secret' }),
    )
    expect(message).toMatch(/^.*\.client_secret_hash must be a hash made by hashClientSecret/)
    expect(message).not.toContain('pasted-secret')
  })

  it('rejects a malformed client_secret_id', () => {
    expect(
      readError(
        fileRecord({ secrets: undefined, client_secret_hash: HMAC_HASH, client_secret_id: 'a b' }),
      ),
    ).toBe(`${AT}.client_secret_id must be 1-32 characters of [A-Za-z0-9-]`)
  })

  it('rejects a client_secret_id next to secrets, which it cannot apply to', () => {
    expect(readError(fileRecord({ client_secret_id: 'k1' }))).toBe(
      `${AT}: client_secret_id goes with client_secret_hash or client_secret`,
    )
  })

  it.each([
    [
      'secrets and client_secret_hash',
      { client_secret_hash: HMAC_HASH },
      'secrets" and "client_secret_hash',
    ],
    [
      'client_secret_hash and client_secret',
      { secrets: undefined, client_secret_hash: HMAC_HASH, client_secret: 'x' },
      'client_secret_hash" and "client_secret',
    ],
  ])('rejects a record with two secret forms (%s), naming them', (_name, changes, named) => {
    expect(readError(fileRecord(changes))).toBe(
      `${AT}: give exactly one of "secrets", "client_secret_hash" or (demos only) ` +
        `"client_secret", not "${named}"`,
    )
  })

  it('rejects a record with no secret at all', () => {
    expect(readError(fileRecord({ secrets: undefined }))).toMatch(
      /give exactly one of .*, not none$/,
    )
  })

  it('hashes a plain generated client_secret with HMAC keyed by the pepper, under its prefix id', async () => {
    const { secretId, secret } = generateClientSecret({ secretId: 'k7' })
    const { record } = read([fileRecord({ secrets: undefined, client_secret: secret })], PEPPER)
    const [stored] = record.secrets as { id: string; hash: string }[]
    expect(stored?.id).toBe(secretId)
    expect(stored?.hash).toBe(await hashClientSecret(secret, { pepper: PEPPER }))
    expect(await verifyClientSecret(secret, stored?.hash ?? '', { pepper: PEPPER })).toBe(true)
    expect(await verifyClientSecret(secret, stored?.hash ?? '')).toBe(false)
    expect(JSON.stringify(record)).not.toContain(secret)
  })

  it('hashes a plain generated client_secret with the default HMAC key without a pepper', async () => {
    const { secret } = generateClientSecret()
    const { record } = read([fileRecord({ secrets: undefined, client_secret: secret })])
    const [stored] = record.secrets as { id: string; hash: string }[]
    expect(await verifyClientSecret(secret, stored?.hash ?? '')).toBe(true)
  })

  it('hashes a human-chosen client_secret with scrypt, under client_secret_id or "default"', async () => {
    const { records } = readClientFile(
      JSON.stringify([
        fileRecord({ secrets: undefined, client_secret: 'change me' }),
        fileRecord({
          client_id: 'b',
          secrets: undefined,
          client_secret: 'x',
          client_secret_id: 'k2',
        }),
      ]),
      PATH,
      settings(PEPPER),
    )
    const [first, second] = records.map(
      (r) => (r as { secrets: { id: string; hash: string }[] }).secrets[0],
    )
    expect(first?.id).toBe('default')
    expect(first?.hash).toMatch(/^\$scrypt\$/)
    // The pepper keys only HMAC; scrypt verifies without it.
    expect(await verifyClientSecret('change me', first?.hash ?? '')).toBe(true)
    expect(second?.id).toBe('k2')
  })

  it('warns that a plain client_secret is for demos, without printing it', () => {
    const { warnings } = read([fileRecord({ secrets: undefined, client_secret: 'change me' })])
    expect(warnings).toEqual([
      `${AT} has a plain client_secret: fine for a demo, but store client_secret_hash ` +
        '(from `ccflow hash`) in real deployments',
    ])
  })

  it('warns about a plain client_secret holding ":" (HTTP Basic must send it as %3A)', () => {
    const { warnings } = read([fileRecord({ secrets: undefined, client_secret: 'pass:word' })])
    expect(warnings).toHaveLength(2)
    expect(warnings[1]).toBe(
      `${AT} has a client_secret holding ":": the client must form-encode it (%3A) before ` +
        'Base64 in HTTP Basic (RFC 6749 §2.3.1), or use client_secret_post',
    )
    expect(warnings.join('\n')).not.toContain('pass:word')
  })

  it('does not warn about ":" for a client that may only use client_secret_post', () => {
    const { warnings } = read([
      fileRecord({
        secrets: undefined,
        client_secret: 'pass:word',
        token_endpoint_auth_method: 'client_secret_post',
      }),
    ])
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toContain('plain client_secret')
  })

  it('rejects a client_secret holding a stored hash, pointing at client_secret_hash', () => {
    expect(readError(fileRecord({ secrets: undefined, client_secret: HMAC_HASH }))).toBe(
      `${AT}.client_secret holds a hash: put it in client_secret_hash`,
    )
  })

  it('rejects a client_secret_id that contradicts the generated secret prefix', () => {
    const { secret } = generateClientSecret({ secretId: 'k7' })
    expect(
      readError(fileRecord({ secrets: undefined, client_secret: secret, client_secret_id: 'k8' })),
    ).toBe(`${AT}.client_secret_id is "k8" but the secret's prefix names "k7"`)
  })

  it.each([
    ['an empty client_secret', '', `${AT}.client_secret must be a non-empty string`],
    ['a non-string client_secret', 42, `${AT}.client_secret must be a non-empty string`],
    [
      'a client_secret over 1024 characters',
      'x'.repeat(1025),
      `${AT}.client_secret: secret must be a non-empty string of at most 1024 characters`,
    ],
  ])('rejects %s', (_name, secret, message) => {
    expect(readError(fileRecord({ secrets: undefined, client_secret: secret }))).toBe(message)
  })

  it.each([
    ['audiances', 'audiences'],
    ['client_secert', 'client_secret'],
    ['client_secret_hsh', 'client_secret_hash'],
  ])('rejects the unknown field %s, suggesting %s', (key, suggestion) => {
    expect(readError(fileRecord({ [key]: 'x' }))).toBe(
      `${AT}: unknown key "${key}" (did you mean "${suggestion}"?)`,
    )
  })

  it('rejects an unknown field that resembles nothing, naming it', () => {
    expect(readError(fileRecord({ colour: 'blue' }))).toBe(`${AT}: unknown key "colour"`)
  })

  it('names the record by its position in the file', () => {
    expect(() =>
      readClientFile(
        JSON.stringify([canonical(), canonical({ client_id: 'x', aud: 'y' })]),
        PATH,
        settings(),
      ),
    ).toThrow(`${PATH}[1] (client_id "x"): unknown key "aud"`)
  })

  it('leaves a record that is not an object with a client_id to validateClient', () => {
    const { records } = readClientFile('[42, { "audience": "x" }]', PATH, settings())
    expect(records).toEqual([42, { audience: 'x' }])
  })

  it('rejects text that is not JSON, naming the file', () => {
    expect(() => readClientFile('[{', PATH, settings())).toThrow(
      new RegExp(`^${PATH}: not valid JSON \\(`),
    )
  })

  it('rejects JSON that is not an array', () => {
    expect(() => readClientFile('{"clients": []}', PATH, settings())).toThrow(
      new TypeError(`${PATH}: must hold a JSON array of clients`),
    )
  })

  it('warns about a file without clients', () => {
    expect(readClientFile('[]', PATH, settings())).toEqual({
      records: [],
      warnings: [`${PATH} holds no clients: every client is refused`],
    })
  })
})

describe('readClientFile: private_key_jwt records', () => {
  const jwks = {
    keys: [generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' })],
  }

  it('takes a key client with jwks and no secret form, and it validates', () => {
    const input = fileRecord({
      secrets: undefined,
      audience: 'urn:a',
      audiences: undefined,
      token_endpoint_auth_method: 'private_key_jwt',
      jwks,
    })
    const { record } = read([input])
    expect(record).toEqual({
      client_id: 'billing',
      scope: 'invoices:read',
      audiences: ['urn:a'],
      token_endpoint_auth_method: 'private_key_jwt',
      jwks,
    })
    expect(validateClient(record).jwks).toEqual(jwks)
  })

  it.each([
    ['client_secret_hash', { client_secret_hash: HMAC_HASH }, '"client_secret_hash"'],
    ['client_secret', { client_secret: 'demo-secret' }, '"client_secret"'],
    ['secrets', {}, '"secrets"'],
  ])('refuses a key client that also gives %s, naming the field', (_name, extra, field) => {
    const message = readError(
      fileRecord({
        token_endpoint_auth_method: 'private_key_jwt',
        jwks,
        ...(_name === 'secrets' ? {} : { secrets: undefined }),
        ...extra,
      }),
    )
    expect(message).toBe(
      `${AT}: a private_key_jwt client authenticates with its key; remove ${field}`,
    )
  })
})

describe('resolveClientFileOptions', () => {
  afterEach(() => {
    vi.restoreAllMocks()
  })

  it('sends warnings to process.emitWarning with code CCFLOW_CLIENT_FILE by default', () => {
    const emit = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined)
    const resolved = resolveClientFileOptions(undefined, 'jsonFileClientStore')
    expect(resolved.secretPepper).toBeUndefined()
    resolved.onWarning('careful')
    expect(emit).toHaveBeenCalledWith('careful', { code: 'CCFLOW_CLIENT_FILE' })
  })

  it('keeps the given pepper and warning sink', () => {
    const onWarning = vi.fn()
    expect(
      resolveClientFileOptions({ secretPepper: PEPPER, onWarning }, 'jsonFileClientStore'),
    ).toEqual({ secretPepper: PEPPER, onWarning })
  })

  it('treats options set to undefined as not given', () => {
    const resolved = resolveClientFileOptions(
      { secretPepper: undefined, onWarning: undefined },
      'jsonFileClientStore',
    )
    expect(resolved.secretPepper).toBeUndefined()
    expect(resolved.onWarning).toBeTypeOf('function')
  })

  it.each([
    [
      'an unknown option',
      { secretPeper: PEPPER },
      'jsonFileClientStore: unknown option "secretPeper" (did you mean "secretPepper"?)',
    ],
    [
      'a short pepper',
      { secretPepper: 'short' },
      'jsonFileClientStore: option "secretPepper" must be a string of at least 32 bytes',
    ],
    [
      'an onWarning that is not a function',
      { onWarning: 'log' },
      'jsonFileClientStore: option "onWarning" must be a function',
    ],
    ['options that are not an object', 'pepper', 'jsonFileClientStore: options must be an object'],
  ])('throws a TypeError for %s', (_name, options, message) => {
    expect(() => resolveClientFileOptions(options, 'jsonFileClientStore')).toThrow(
      new TypeError(message),
    )
  })
})
