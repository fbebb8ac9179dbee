import { createPublicKey, generateKeyPairSync } from 'node:crypto'
import type { Jwk } from '@ccflow/core'
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { Readable } from 'node:stream'
import { join } from 'node:path'
import express from 'express'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { verifyJwsSignature } from '@ccflow/core'
import { runCli, type CliIo } from '../src/cli.js'
import {
  generateClientSecret,
  hashClientSecret,
  importSigningKeys,
  staticClientStore,
  tokenEndpoint,
  verifyClientSecret,
  DEFAULT_SIGNING_ALGORITHM,
  generateSigningKey,
  validateClient,
} from '@ccflow/issuer'
import { jwkThumbprint } from '@ccflow/core'

interface Run {
  code: number
  stdout: string
  stderr: string
}

async function run(
  argv: string[],
  options: { stdin?: string; env?: Record<string, string> } = {},
): Promise<Run> {
  let stdout = ''
  let stderr = ''
  const io: CliIo = {
    stdin: Readable.from(options.stdin === undefined ? [] : [Buffer.from(options.stdin)]),
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env: options.env ?? {},
  }
  const code = await runCli(argv, io)
  return { code, stdout, stderr }
}

async function listen(
  app: express.Express | ((req: never, res: never) => void),
): Promise<{ server: Server; url: string }> {
  const server = createServer(app as Parameters<typeof createServer>[1])
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }
}

describe('ccflow secret', () => {
  it('prints the secrets entry first, then the prefixed secret it verifies', async () => {
    const result = await run(['secret', '--id', 'k1'])
    expect(result.code).toBe(0)
    const [first, second] = result.stdout.split('\n')
    const entry = JSON.parse(/^secrets entry\s+(\{.*\})$/.exec(first ?? '')?.[1] ?? '') as {
      id: string
      hash: string
    }
    const secret = /^client_secret\s+(\S+)$/.exec(second ?? '')?.[1] ?? ''
    expect(Object.keys(entry)).toEqual(['id', 'hash'])
    expect(entry.id).toBe('k1')
    expect(entry.hash).toMatch(/^\$hmac-sha256\$/)
    expect(secret).toMatch(/^ccs_k1_[A-Za-z0-9_-]{43}$/)
    expect(await verifyClientSecret(secret, entry.hash)).toBe(true)
    expect(result.stdout).not.toContain('client_secret_hash')
  })

  it('prints an entry that a client record takes as it is, in its secrets', async () => {
    const result = await run(['secret', '--id', 'k1'])
    const entry = JSON.parse(/^secrets entry\s+(\{.*\})$/m.exec(result.stdout)?.[1] ?? '') as {
      id: string
      hash: string
    }
    const record = { client_id: 'c', scope: 's', audiences: ['https://api'], secrets: [entry] }
    expect(validateClient(record).secrets).toEqual([entry])
  })

  it('prints one JSON object, the secrets entry first, when --json is given', async () => {
    const result = await run(['secret', '--json', '--id', 'k2026'])
    expect(result.code).toBe(0)
    const parsed = JSON.parse(result.stdout) as {
      client_secret: string
      secret: { id: string; hash: string }
    }
    expect(Object.keys(parsed)).toEqual(['secret', 'client_secret'])
    expect(parsed.secret.id).toBe('k2026')
    expect(parsed.client_secret.startsWith('ccs_k2026_')).toBe(true)
    expect(await verifyClientSecret(parsed.client_secret, parsed.secret.hash)).toBe(true)
  })

  it('uses the pepper from CCFLOW_SECRET_PEPPER so the hash verifies only with it', async () => {
    const pepper = 'p'.repeat(32)
    const result = await run(['secret', '--json'], { env: { CCFLOW_SECRET_PEPPER: pepper } })
    const parsed = JSON.parse(result.stdout) as { client_secret: string; secret: { hash: string } }
    expect(await verifyClientSecret(parsed.client_secret, parsed.secret.hash, { pepper })).toBe(
      true,
    )
    expect(await verifyClientSecret(parsed.client_secret, parsed.secret.hash)).toBe(false)
  })

  it('exits 1 with a one-line message when the secret id is not allowed', async () => {
    const result = await run(['secret', '--id', 'has_underscore'])
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/^ccflow: .+\n$/)
  })

  it('hashes with scrypt when asked with --alg (or its older spelling --algorithm)', async () => {
    for (const flag of ['--alg', '--algorithm']) {
      const result = await run(['secret', '--json', flag, 'scrypt'])
      expect(result.code).toBe(0)
      const parsed = JSON.parse(result.stdout) as { secret: { hash: string } }
      expect(parsed.secret.hash).toMatch(/^\$scrypt\$/)
    }
  })
})

describe('ccflow hash', () => {
  it('hashes the secret read on standard input with scrypt when asked with --alg', async () => {
    const result = await run(['hash', '--alg', 'scrypt'], {
      stdin: 'correct horse battery staple\n',
    })
    expect(result.code).toBe(0)
    const hash = result.stdout.trim()
    expect(hash).toMatch(/^\$scrypt\$/)
    expect(await verifyClientSecret('correct horse battery staple', hash)).toBe(true)
  })

  it('still takes the older spelling --algorithm, and refuses both at once', async () => {
    const old = await run(['hash', '--algorithm', 'scrypt'], { stdin: 'a human secret\n' })
    expect(old.code).toBe(0)
    expect(old.stdout).toMatch(/^\$scrypt\$/)
    const both = await run(['hash', '--alg', 'scrypt', '--algorithm', 'scrypt'], { stdin: 'x\n' })
    expect(both.code).toBe(2)
    expect(both.stderr).toMatch(
      /^ccflow: option '--alg <alg>' cannot be used with option '--algorithm <alg>'\n/,
    )
  })

  it('hashes a human-chosen secret with scrypt when no algorithm is given', async () => {
    const result = await run(['hash'], { stdin: 'my-human-password\n' })
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^\$scrypt\$/)
  })

  it('warns on standard error, and still hashes, when the secret holds a colon', async () => {
    const result = await run(['hash'], { stdin: 'pass:word\n' })
    expect(result.code).toBe(0)
    expect(await verifyClientSecret('pass:word', result.stdout.trim())).toBe(true)
    expect(result.stderr).toMatch(/^ccflow: warning: the secret holds ":".*%3A.*client_secret_post/)
    expect(result.stderr).not.toContain('pass:word')
  })

  it('prints no warning for a secret without a colon', async () => {
    const result = await run(['hash'], { stdin: 'my-human-password\n' })
    expect(result.stderr).toBe('')
  })

  it('exits 1 when standard input is empty', async () => {
    const result = await run(['hash'], { stdin: '' })
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('no secret on standard input')
  })

  it('exits 1 when standard input holds more than one line', async () => {
    const result = await run(['hash'], { stdin: 'one\ntwo\n' })
    expect(result.code).toBe(1)
  })

  it('exits 1 when standard input holds more than 64 KiB, without hashing it', async () => {
    const result = await run(['hash'], { stdin: 'x'.repeat(64 * 1024 + 1) })
    expect(result.code).toBe(1)
    expect(result.stdout).toBe('')
    expect(result.stderr).toBe('ccflow: the secret on standard input is too long\n')
  })

  it('reads standard input delivered as text chunks', async () => {
    let stdout = ''
    const io: CliIo = {
      stdin: Readable.from(['human-', 'chosen\n'], { objectMode: true }),
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: () => true },
      env: {},
    }
    expect(await runCli(['hash'], io)).toBe(0)
    expect(await verifyClientSecret('human-chosen', stdout.trim())).toBe(true)
  })

  it('exits 2 on an unknown hash algorithm', async () => {
    const result = await run(['hash', '--alg', 'md5'], { stdin: 'x' })
    expect(result.code).toBe(2)
    expect((await run(['hash', '--algorithm', 'md5'], { stdin: 'x' })).code).toBe(2)
  })

  it('suggests the nearest hash algorithm for a misspelt one', async () => {
    const result = await run(['hash', '--alg', 'scrpyt'], { stdin: 'x' })
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(
      /^ccflow: option '--alg <alg>' argument 'scrpyt' is invalid\. Allowed choices are hmac-sha256, scrypt \(did you mean scrypt\?\)\.\n/,
    )
  })
})

describe('ccflow keygen', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ccflow-cli-'))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it.each(['RS256', 'PS256', 'ES256'] as const)(
    'prints a private JWKS the issuer imports and a public JWKS for %s',
    async (alg) => {
      const result = await run(['keygen', '--alg', alg, '--kid', `k-${alg}`])
      expect(result.code).toBe(0)
      const { private: privateJwks, public: publicJwks } = JSON.parse(result.stdout) as {
        private: { keys: (Jwk & { kid: string; alg: string })[] }
        public: { keys: (Jwk & { kid: string })[] }
      }
      const [privateKey] = privateJwks.keys
      expect(privateKey).toMatchObject({ kid: `k-${alg}`, alg })
      expect(privateKey?.d).toBeTypeOf('string')
      expect(publicJwks.keys[0]).not.toHaveProperty('d')
      // The private JWK Set is a valid `keys` option as it is.
      const keySet = importSigningKeys(privateJwks as Parameters<typeof importSigningKeys>[0])
      expect(keySet.active.kid).toBe(`k-${alg}`)
    },
  )

  it('writes the private JWKS with mode 0600 and prints only the public JWKS when --out is given', async () => {
    const file = join(dir, 'keys.json')
    const result = await run(['keygen', '--out', file])
    expect(result.code).toBe(0)
    expect(result.stdout).not.toContain('"d"')
    expect((await stat(file)).mode & 0o777).toBe(0o600)
    expect(JSON.parse(await readFile(file, 'utf8'))).toHaveProperty('keys.0.d')
  })

  it('writes a file that tokenEndpoint takes as its keys option as it is parsed', async () => {
    const file = join(dir, 'signing-keys.json')
    expect((await run(['keygen', '--alg', 'ES256', '--kid', 'k1', '--out', file])).code).toBe(0)
    const app = express()
    app.use(
      tokenEndpoint({
        issuer: 'http://127.0.0.1',
        clients: staticClientStore([]),
        keys: JSON.parse(await readFile(file, 'utf8')) as Parameters<typeof importSigningKeys>[0],
      }),
    )
    const { server, url } = await listen(app)
    try {
      const jwks = (await (await fetch(`${url}/jwks.json`)).json()) as { keys: Jwk[] }
      expect(jwks.keys.map((jwk) => [jwk.kid, jwk.alg])).toEqual([['k1', 'ES256']])
    } finally {
      server.close()
    }
  })

  it('refuses to overwrite an existing key file', async () => {
    const file = join(dir, 'existing.json')
    await writeFile(file, 'keep me')
    const result = await run(['keygen', '--out', file])
    expect(result.code).toBe(1)
    expect(await readFile(file, 'utf8')).toBe('keep me')
  })

  it('uses the same default algorithm as generateSigningKey', async () => {
    const result = await run(['keygen'])
    expect(result.code).toBe(0)
    const { private: privateJwks } = JSON.parse(result.stdout) as {
      private: { keys: { alg: string }[] }
    }
    expect(privateJwks.keys[0]?.alg).toBe(DEFAULT_SIGNING_ALGORITHM)
    expect(generateSigningKey().alg).toBe(DEFAULT_SIGNING_ALGORITHM)
    expect(DEFAULT_SIGNING_ALGORITHM).toBe('RS256')
  })

  it('exits 1 with a one-line message when the kid is not allowed', async () => {
    const result = await run(['keygen', '--kid', 'bad kid\u0000'])
    expect(result.code).toBe(1)
    expect(result.stdout).toBe('')
    expect(result.stderr).toMatch(/^ccflow: .*kid.*\n$/)
  })

  it('exits 1 naming the file and the error code when the file cannot be written', async () => {
    const file = join(dir, 'missing-dir', 'keys.json')
    const result = await run(['keygen', '--out', file])
    expect(result.code).toBe(1)
    expect(result.stdout).toBe('')
    expect(result.stderr).toBe(`ccflow: cannot write ${file} (ENOENT)\n`)
  })

  it('exits 2 on an algorithm it does not offer', async () => {
    expect((await run(['keygen', '--alg', 'HS256'])).code).toBe(2)
  })
})

describe('ccflow keygen --client', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ccflow-cli-client-'))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  interface ClientKeyOutput {
    private: Jwk & { kid: string; alg: string; use: string }
    public: { keys: (Jwk & { kid: string; alg: string; use: string })[] }
  }

  it.each(['ES256', 'EdDSA', 'PS256', 'RS256'])(
    'prints the private JWK and the public JWK Set of a new %s client key',
    async (alg) => {
      const result = await run(['keygen', '--client', '--alg', alg, '--kid', 'billing-1'])
      expect(result.code).toBe(0)
      expect(result.stderr).toBe('')
      const output = JSON.parse(result.stdout) as ClientKeyOutput
      expect(Object.keys(output)).toEqual(['private', 'public'])
      expect(output.private).toMatchObject({ kid: 'billing-1', alg, use: 'sig' })
      expect(output.private.d).toBeTypeOf('string')
      expect(output.public.keys).toHaveLength(1)
      expect(output.public.keys[0]).toMatchObject({ kid: 'billing-1', alg, use: 'sig' })
      expect(output.public.keys[0]).not.toHaveProperty('d')
    },
  )

  it('makes an ES256 key named by its thumbprint when neither --alg nor --kid is given', async () => {
    const result = await run(['keygen', '--client'])
    expect(result.code).toBe(0)
    const output = JSON.parse(result.stdout) as ClientKeyOutput
    expect(output.private).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256' })
    expect(output.private.kid).toBe(jwkThumbprint(output.public.keys[0]!))
  })

  it('prints a public JWK Set that the issuer accepts as a private_key_jwt client record', async () => {
    const result = await run(['keygen', '--client', '--alg', 'EdDSA'])
    const { public: jwks } = JSON.parse(result.stdout) as ClientKeyOutput
    const client = validateClient({
      client_id: 'billing',
      scope: 'reports:read',
      audiences: ['https://api.internal'],
      token_endpoint_auth_method: 'private_key_jwt',
      jwks,
    })
    expect(client.jwks).toEqual(jwks)
  })

  it('writes the private JWK (not a set) with mode 0600 and prints only the public JWK Set when --out is given', async () => {
    const file = join(dir, 'billing.jwk')
    const result = await run(['keygen', '--client', '--out', file])
    expect(result.code).toBe(0)
    expect(result.stderr).toBe(`private JWK written to ${file}\n`)
    expect((await stat(file)).mode & 0o777).toBe(0o600)
    const privateJwk = JSON.parse(await readFile(file, 'utf8')) as Jwk & { kid: string }
    expect(privateJwk).not.toHaveProperty('keys')
    expect(privateJwk).toMatchObject({ kty: 'EC', alg: 'ES256', use: 'sig' })
    expect(privateJwk.d).toBeTypeOf('string')
    expect(result.stdout).not.toContain('"d"')
    const publicJwks = JSON.parse(result.stdout) as ClientKeyOutput['public']
    expect(publicJwks.keys.map((key) => key.kid)).toEqual([privateJwk.kid])
  })

  it('refuses to overwrite an existing file', async () => {
    const file = join(dir, 'existing.jwk')
    await writeFile(file, 'keep me')
    const result = await run(['keygen', '--client', '--alg', 'EdDSA', '--out', file])
    expect(result.code).toBe(1)
    expect(result.stdout).toBe('')
    expect(result.stderr).toBe(
      `ccflow: ${file} already exists; choose another file (keys are never overwritten)\n`,
    )
    expect(await readFile(file, 'utf8')).toBe('keep me')
  })

  it('exits 1 with a one-line message when the kid is not allowed', async () => {
    const result = await run(['keygen', '--client', '--kid', 'bad kid'])
    expect(result.code).toBe(1)
    expect(result.stdout).toBe('')
    expect(result.stderr).toBe('ccflow: the kid must be 1-128 characters of [A-Za-z0-9._~-]\n')
  })

  it('exits 2 on an algorithm it does not offer', async () => {
    for (const alg of ['HS256', 'ES384', 'none']) {
      expect((await run(['keygen', '--client', '--alg', alg])).code).toBe(2)
    }
  })

  it('exits 2 when --alg EdDSA is asked for a signing key (without --client)', async () => {
    const result = await run(['keygen', '--alg', 'EdDSA'])
    expect(result.code).toBe(2)
    expect(result.stdout).toBe('')
    expect(result.stderr).toMatch(/^ccflow: --alg EdDSA is for client keys: add --client/)
  })

  it('suggests the algorithm in the right letter case for --alg es256', async () => {
    const result = await run(['keygen', '--alg', 'es256'])
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(
      /Allowed choices are RS256, PS256, ES256, EdDSA \(did you mean ES256\?\)\.\n/,
    )
  })
})

describe('ccflow assertion', () => {
  let dir: string
  let keyFile: string
  const NOW = Date.UTC(2026, 5, 1, 8, 30, 0)
  const issuer = 'https://auth.internal'
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ccflow-cli-assertion-'))
    keyFile = join(dir, 'billing.jwk')
    expect((await run(['keygen', '--client', '--kid', 'billing-1', '--out', keyFile])).code).toBe(0)
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  /** Runs `ccflow assertion` with the test key, client id and issuer unless told otherwise. */
  const assertion = (
    given: { key?: string; clientId?: string; issuer?: string } = {},
    ...extra: string[]
  ) =>
    run([
      'assertion',
      ...['--key', given.key ?? keyFile],
      ...['--client-id', given.clientId ?? 'billing'],
      ...['--issuer', given.issuer ?? issuer],
      ...extra,
    ])

  it.each(['ES256', 'EdDSA', 'PS256', 'RS256'])(
    'prints one %s assertion that the public JWK from keygen --client verifies',
    async (alg) => {
      const file = join(dir, `client-${alg}.jwk`)
      const generated = await run(['keygen', '--client', '--alg', alg, '--out', file])
      const [publicJwk] = (JSON.parse(generated.stdout) as { keys: (Jwk & { kid: string })[] }).keys
      const result = await assertion({ key: file })
      expect(result.code).toBe(0)
      expect(result.stderr).toBe('')
      expect(result.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/)
      const token = result.stdout.trim()
      const { header } = decodeJwt(token)
      expect(header).toEqual({ alg, kid: publicJwk!.kid, typ: 'client-authentication+jwt' })
      const publicKey = createPublicKey({ key: publicJwk!, format: 'jwk' })
      expect(verifyJwsSignature(token, alg, publicKey)).toBe(true)
    },
  )

  it('signs exactly iss, sub, aud, iat, exp (iat + 60) and jti', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(NOW)
    const result = await assertion()
    expect(decodeJwt(result.stdout.trim()).payload).toEqual({
      iss: 'billing',
      sub: 'billing',
      aud: issuer,
      iat: NOW / 1000,
      exp: NOW / 1000 + 60,
      jti: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/) as unknown,
    })
  })

  it('sets exp to iat plus --lifetime', async () => {
    for (const lifetime of [1, 300]) {
      const { payload } = decodeJwt(
        (await assertion({}, '--lifetime', String(lifetime))).stdout.trim(),
      )
      expect(payload.exp - payload.iat).toBe(lifetime)
    }
  })

  it('makes a new jti on every run', async () => {
    const first = decodeJwt((await assertion()).stdout.trim()).payload
    const second = decodeJwt((await assertion()).stdout.trim()).payload
    expect(first.jti).not.toBe(second.jti)
  })

  it('uses the issuer exactly as given for aud, path included', async () => {
    const result = await assertion({ issuer: 'https://auth.internal/tenants/a' })
    expect(decodeJwt(result.stdout.trim()).payload.aud).toBe('https://auth.internal/tenants/a')
  })

  it('keeps a trailing slash in aud and warns on standard error that issuers compare as strings', async () => {
    const result = await assertion({ issuer: `${issuer}/` })
    expect(result.code).toBe(0)
    expect(decodeJwt(result.stdout.trim()).payload.aud).toBe(`${issuer}/`)
    expect(result.stderr).toBe(
      'ccflow: warning: the issuer ends in "/"; aud must equal the issuer identifier character ' +
        'for character, so the token endpoint refuses this assertion unless its issuer ends in ' +
        '"/" too\n',
    )
  })

  it('reads a PEM private key and leaves kid out of the header', async () => {
    const file = join(dir, 'client.pem')
    const { privateKey } = generateKeyPairSync('ed25519')
    await writeFile(file, privateKey.export({ format: 'pem', type: 'pkcs8' }))
    const result = await assertion({ key: file })
    expect(result.code).toBe(0)
    expect(decodeJwt(result.stdout.trim()).header).toEqual({
      alg: 'EdDSA',
      typ: 'client-authentication+jwt',
    })
  })

  describe('refusals', () => {
    async function refusedKey(content: string): Promise<Run & { file: string }> {
      const file = join(dir, `refused-${Math.random().toString(36).slice(2)}`)
      await writeFile(file, content)
      const result = await assertion({ key: file })
      expect(result.stdout).toBe('')
      return { ...result, file }
    }

    it('exits 1 with a one-line message for a public key file', async () => {
      const generated = await run(['keygen', '--client'])
      const { public: jwks } = JSON.parse(generated.stdout) as { public: object }
      const result = await refusedKey(JSON.stringify(jwks))
      expect(result.code).toBe(1)
      expect(result.stderr).toBe(
        `ccflow: ${result.file} holds a public key; sign with the client's private key ` +
          '(the public JWK Set belongs in the client record)\n',
      )
    })

    it('exits 1 for a symmetric (oct, HS256) key', async () => {
      const oct = { kty: 'oct', k: Buffer.alloc(32, 7).toString('base64url'), alg: 'HS256' }
      const result = await refusedKey(JSON.stringify(oct))
      expect(result.code).toBe(1)
      expect(result.stderr).toMatch(/^ccflow: .* holds a symmetric \(oct\) key; .*\n$/)
    })

    it('exits 1 for a file that is not JSON', async () => {
      const result = await refusedKey('not json')
      expect(result.code).toBe(1)
      expect(result.stderr).toBe(
        `ccflow: ${result.file} holds neither JSON (a JWK) nor a PEM private key\n`,
      )
    })

    it('exits 1 naming the file and the error code when it cannot be read', async () => {
      const missing = join(dir, 'missing.jwk')
      const result = await assertion({ key: missing })
      expect(result.code).toBe(1)
      expect(result.stdout).toBe('')
      expect(result.stderr).toBe(`ccflow: cannot read ${missing} (ENOENT)\n`)
    })

    it.each(['0', '301', 'abc', '1.5', '-5', '60s', ''])(
      'exits 2 on --lifetime %j',
      async (lifetime) => {
        const result = await assertion({}, '--lifetime', lifetime)
        expect(result.code).toBe(2)
        expect(result.stdout).toBe('')
        expect(result.stderr).toContain('expected whole seconds from 1 to 300')
      },
    )

    it.each([
      ['--issuer', ['--key', 'k.jwk', '--client-id', 'billing']],
      ['--key', ['--client-id', 'billing', '--issuer', issuer]],
      ['--client-id', ['--key', 'k.jwk', '--issuer', issuer]],
    ])('exits 2 when %s is missing', async (option, args) => {
      const result = await run(['assertion', ...args])
      expect(result.code).toBe(2)
      expect(result.stdout).toBe('')
      expect(result.stderr).toMatch(new RegExp(`^ccflow: required option '${option} <`))
    })

    it.each([
      ['not a URL', 'auth.internal'],
      ['not http(s)', 'ftp://auth.internal'],
      ['with a query', 'https://auth.internal?tenant=a'],
      ['with a fragment', 'https://auth.internal#a'],
    ])('exits 2 on an issuer %s', async (_label, value) => {
      const result = await assertion({ issuer: value })
      expect(result.code).toBe(2)
      expect(result.stdout).toBe('')
    })

    it.each([
      ['empty', ''],
      ['with a line break', 'bill\ning'],
      ['longer than 255 characters', 'x'.repeat(256)],
    ])('exits 2 on a client id %s', async (_label, value) => {
      const result = await assertion({ clientId: value })
      expect(result.code).toBe(2)
      expect(result.stdout).toBe('')
    })
  })
})

describe('ccflow token', () => {
  let server: Server
  let url: string
  let secret: string

  beforeAll(async () => {
    const generated = generateClientSecret({ secretId: 'k1' })
    secret = generated.secret
    const hash = await hashClientSecret(secret)
    const app = express()
    const started = await listen(app)
    server = started.server
    url = started.url
    app.use(
      tokenEndpoint({
        issuer: url,
        clients: staticClientStore([
          {
            client_id: 'reporter',
            scope: 'reports:read reports:write',
            audiences: ['https://api.example'],
            secrets: [{ id: 'k1', hash }],
          },
        ]),
        keys: [{ kid: 'cli-test', alg: 'ES256', privateKey: generateKeyJwk() }],
        rateLimit: false,
      }),
    )
  })
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

  it('fetches a token through metadata discovery with the secret from the environment', async () => {
    const result = await run(
      ['token', '--issuer', url, '--client-id', 'reporter', '--scope', 'reports:read'],
      {
        env: { CCFLOW_CLIENT_SECRET: secret },
      },
    )
    expect(result.code).toBe(0)
    expect(JSON.parse(result.stdout)).toMatchObject({ token_type: 'Bearer', scope: 'reports:read' })
  })

  it('fetches a token with client_secret_post and the secret on standard input', async () => {
    const result = await run(
      ['token', '--issuer', url, '--client-id', 'reporter', '--auth', 'client_secret_post'],
      {
        stdin: `${secret}\n`,
      },
    )
    expect(result.code).toBe(0)
    expect(JSON.parse(result.stdout)).toHaveProperty('access_token')
  })

  it('exits 1 naming the RFC error when the secret is wrong', async () => {
    const result = await run(['token', '--issuer', url, '--client-id', 'reporter'], {
      env: { CCFLOW_CLIENT_SECRET: `${secret}x` },
    })
    expect(result.code).toBe(1)
    expect(result.stderr).toBe('ccflow: token endpoint answered 401 invalid_client\n')
  })

  it('exits 2 when a required option is missing', async () => {
    expect((await run(['token', '--client-id', 'reporter'])).code).toBe(2)
  })

  it('exits 2 when the issuer is not an http(s) URL', async () => {
    expect((await run(['token', '--issuer', 'ftp://x', '--client-id', 'a'])).code).toBe(2)
  })

  it('finds the metadata of an issuer mounted under a path (appended after the RFC 8414 location 404s)', async () => {
    const app = express()
    const mounted = await listen(app)
    try {
      const generated = generateClientSecret({ secretId: 'k1' })
      app.use(
        '/tenant',
        tokenEndpoint({
          issuer: `${mounted.url}/tenant`,
          clients: staticClientStore([
            {
              client_id: 'reporter',
              scope: 'reports:read',
              audiences: ['https://api.example'],
              secrets: [{ id: 'k1', hash: await hashClientSecret(generated.secret) }],
            },
          ]),
          keys: [{ kid: 'cli-path', alg: 'ES256', privateKey: generateKeyJwk() }],
          rateLimit: false,
        }),
      )
      const result = await run(
        ['token', '--issuer', `${mounted.url}/tenant`, '--client-id', 'reporter'],
        {
          env: { CCFLOW_CLIENT_SECRET: generated.secret },
        },
      )
      expect(result.stderr).toBe('')
      expect(result.code).toBe(0)
      expect(JSON.parse(result.stdout)).toMatchObject({ scope: 'reports:read' })
    } finally {
      mounted.server.close()
    }
  })

  it('exits 1 naming the metadata URL when no metadata is published', async () => {
    const empty = await listen(express())
    try {
      const result = await run(['token', '--issuer', `${empty.url}/nothing`, '--client-id', 'a'], {
        env: { CCFLOW_CLIENT_SECRET: 'x' },
      })
      expect(result.code).toBe(1)
      expect(result.stderr).toContain('no usable metadata')
    } finally {
      empty.server.close()
    }
  })

  it('exits 1 when the metadata names another issuer', async () => {
    const impostor = await listen((_req: never, res: never) => {
      const response = res as unknown as import('node:http').ServerResponse
      response.setHeader('content-type', 'application/json')
      response.end(
        JSON.stringify({ issuer: 'https://elsewhere.example', token_endpoint: `${url}/token` }),
      )
    })
    try {
      const result = await run(['token', '--issuer', impostor.url, '--client-id', 'reporter'], {
        env: { CCFLOW_CLIENT_SECRET: secret },
      })
      expect(result.code).toBe(1)
      expect(result.stderr).toContain('names another issuer')
    } finally {
      impostor.server.close()
    }
  })

  it('sends every --resource as its own resource parameter (RFC 8707 §2)', async () => {
    const result = await run(
      [
        'token',
        '--issuer',
        url,
        '--client-id',
        'reporter',
        '--resource',
        'https://api.example',
        '--resource',
        'https://api.example',
      ],
      { env: { CCFLOW_CLIENT_SECRET: secret } },
    )
    expect(result.code).toBe(0)
    const token = (JSON.parse(result.stdout) as { access_token: string }).access_token
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as {
      aud: unknown
    }
    expect(claims.aud).toBe('https://api.example')
  })

  /** A server publishing metadata for itself whose token endpoint answers `status` and `body`. */
  async function fakeIssuer(status: number, type: string, body: string) {
    const fake = await listen((req: never, res: never) => {
      const request = req as unknown as import('node:http').IncomingMessage
      const response = res as unknown as import('node:http').ServerResponse
      if (request.url === '/.well-known/oauth-authorization-server') {
        response.setHeader('content-type', 'application/json')
        response.end(JSON.stringify({ issuer: fake.url, token_endpoint: `${fake.url}/token` }))
        return
      }
      response.statusCode = status
      response.setHeader('content-type', type)
      response.end(body)
    })
    return fake
  }

  it.each<[string, number, string, string, string]>([
    [
      'a 2xx without JSON',
      200,
      'text/html',
      '<html>ok</html>',
      'token at http://HOST/token answered 200 without JSON',
    ],
    [
      'an error page without JSON',
      502,
      'text/html',
      '<h1>Bad Gateway</h1>',
      'token endpoint answered 502',
    ],
    [
      'an error code outside the RFC 6749 §5.2 character set',
      400,
      'application/json',
      JSON.stringify({ error: 'bad\u001b[31m"code' }),
      'token endpoint answered 400',
    ],
    [
      'an error member that is not a string',
      400,
      'application/json',
      JSON.stringify({ error: { nested: true } }),
      'token endpoint answered 400',
    ],
  ])(
    'exits 1 with a fixed message when the token endpoint answers %s',
    async (_label, status, type, body, message) => {
      const fake = await fakeIssuer(status, type, body)
      try {
        const result = await run(['token', '--issuer', fake.url, '--client-id', 'reporter'], {
          env: { CCFLOW_CLIENT_SECRET: secret },
        })
        expect(result.code).toBe(1)
        expect(result.stdout).toBe('')
        expect(result.stderr).toBe(`ccflow: ${message.replace('http://HOST', fake.url)}\n`)
      } finally {
        fake.server.close()
      }
    },
  )

  it('exits 1 without a hang when nothing listens at the issuer', async () => {
    const result = await run(['token', '--issuer', 'http://127.0.0.1:1', '--client-id', 'a'], {
      env: { CCFLOW_CLIENT_SECRET: 'x' },
    })
    expect(result.code).toBe(1)
  })
})

describe('ccflow token --auth private_key_jwt', () => {
  interface Recorded {
    method: string
    url: string
    headers: IncomingHttpHeaders
    body: string
  }
  let requests: Recorded[]
  let fake: { server: Server; url: string }
  let dir: string
  let keyFile: string
  let publicJwk: Jwk & { kid: string }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ccflow-cli-pkjwt-'))
    keyFile = join(dir, 'billing.jwk')
    const generated = await run(['keygen', '--client', '--kid', 'billing-1', '--out', keyFile])
    publicJwk = (JSON.parse(generated.stdout) as { keys: (Jwk & { kid: string })[] }).keys[0]!
    // Publishes RFC 8414 metadata for the issuer at any path and records every request.
    fake = await listen((req: never, res: never) => {
      const request = req as unknown as IncomingMessage
      const response = res as unknown as ServerResponse
      let body = ''
      request.setEncoding('utf8')
      request.on('data', (chunk: string) => (body += chunk))
      request.on('end', () => {
        const url = request.url ?? ''
        requests.push({ method: request.method ?? '', url, headers: request.headers, body })
        response.setHeader('content-type', 'application/json')
        const metadata = /^\/\.well-known\/oauth-authorization-server(\/.*)?$/.exec(url)
        if (metadata) {
          const issuer = `${fake.url}${metadata[1] ?? ''}`
          response.end(JSON.stringify({ issuer, token_endpoint: `${fake.url}/token` }))
          return
        }
        response.end(JSON.stringify({ access_token: 'at', token_type: 'Bearer', expires_in: 60 }))
      })
    })
  })
  beforeEach(() => {
    requests = []
  })
  afterAll(async () => {
    await new Promise<void>((resolve) => fake.server.close(() => resolve()))
    await rm(dir, { recursive: true, force: true })
  })

  /** Standard input that fails the test if anything reads it. */
  const untouchedStdin: AsyncIterable<string> = {
    [Symbol.asyncIterator]() {
      throw new Error('standard input was read')
    },
  }

  async function token(args: string[], env: Record<string, string> = {}): Promise<Run> {
    let stdout = ''
    let stderr = ''
    const code = await runCli(['token', '--client-id', 'billing', ...args], {
      stdin: untouchedStdin,
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: (text: string) => (stderr += text) },
      env,
    })
    return { code, stdout, stderr }
  }

  function postedForm(): URLSearchParams {
    const posts = requests.filter((request) => request.method === 'POST')
    expect(posts).toHaveLength(1)
    expect(posts[0]?.url).toBe('/token')
    expect(posts[0]?.headers['content-type']).toBe('application/x-www-form-urlencoded')
    expect(posts[0]?.headers.authorization).toBeUndefined()
    return new URLSearchParams(posts[0]?.body)
  }

  it('posts client_id, client_assertion_type and a client_assertion, and no secret', async () => {
    const result = await token(
      [
        '--issuer',
        fake.url,
        '--auth',
        'private_key_jwt',
        '--key',
        keyFile,
        '--scope',
        'reports:read',
      ],
      { CCFLOW_CLIENT_SECRET: 'never-sent' },
    )
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(JSON.parse(result.stdout)).toEqual({
      access_token: 'at',
      token_type: 'Bearer',
      expires_in: 60,
    })
    const form = postedForm()
    expect([...form.keys()]).toEqual([
      'grant_type',
      'scope',
      'client_id',
      'client_assertion_type',
      'client_assertion',
    ])
    expect(form.get('grant_type')).toBe('client_credentials')
    expect(form.get('client_id')).toBe('billing')
    expect(form.get('client_assertion_type')).toBe(
      'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    )
    expect(form.get('scope')).toBe('reports:read')
    expect(requests.map((request) => request.body).join('')).not.toContain('never-sent')
  })

  it('signs the assertion for the issuer the metadata names, with the client key', async () => {
    await token(['--issuer', fake.url, '--key', keyFile])
    const assertion = postedForm().get('client_assertion') ?? ''
    const { header, payload } = decodeJwt(assertion)
    expect(header).toEqual({ alg: 'ES256', kid: 'billing-1', typ: 'client-authentication+jwt' })
    expect(payload).toMatchObject({ iss: 'billing', sub: 'billing', aud: fake.url })
    expect(payload.exp - payload.iat).toBe(60)
    const publicKey = createPublicKey({ key: publicJwk, format: 'jwk' })
    expect(verifyJwsSignature(assertion, 'ES256', publicKey)).toBe(true)
  })

  it('uses private_key_jwt when --key is given without --auth', async () => {
    expect((await token(['--issuer', fake.url, '--key', keyFile])).code).toBe(0)
    expect(postedForm().get('client_assertion_type')).toBe(
      'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    )
  })

  it('sets aud to the issuer identifier, path included and trailing slash dropped, never the token endpoint', async () => {
    const result = await token(['--issuer', `${fake.url}/tenants/a/`, '--key', keyFile])
    expect(result.code).toBe(0)
    const { payload } = decodeJwt(postedForm().get('client_assertion') ?? '')
    expect(payload.aud).toBe(`${fake.url}/tenants/a`)
  })

  it('signs a new assertion (new jti) for every request', async () => {
    await token(['--issuer', fake.url, '--key', keyFile])
    const first = decodeJwt(postedForm().get('client_assertion') ?? '').payload.jti
    requests = []
    await token(['--issuer', fake.url, '--key', keyFile])
    const second = decodeJwt(postedForm().get('client_assertion') ?? '').payload.jti
    expect(first).not.toBe(second)
  })

  it.each([
    [
      '--key with a secret method',
      ['--auth', 'client_secret_basic', '--key', 'k.jwk'],
      /^ccflow: --key is for --auth private_key_jwt; client_secret_basic uses a secret\n/,
    ],
    [
      '--key with client_secret_post',
      ['--auth', 'client_secret_post', '--key', 'k.jwk'],
      /^ccflow: --key is for --auth private_key_jwt; client_secret_post uses a secret\n/,
    ],
    [
      '--auth private_key_jwt without --key',
      ['--auth', 'private_key_jwt'],
      /^ccflow: --auth private_key_jwt needs --key <file>, the client's private key\n/,
    ],
  ])('exits 2 on %s, before any request', async (_label, args, message) => {
    const result = await token(['--issuer', fake.url, ...args])
    expect(result.code).toBe(2)
    expect(result.stdout).toBe('')
    expect(result.stderr).toMatch(message)
    expect(requests).toEqual([])
  })

  it('exits 1 on a public key file, before any request', async () => {
    const file = join(dir, 'public.json')
    await writeFile(file, JSON.stringify({ keys: [publicJwk] }))
    const result = await token(['--issuer', fake.url, '--key', file])
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/^ccflow: .* holds a public key; /)
    expect(requests).toEqual([])
  })
})

describe('ccflow --help', () => {
  it('prints usage for each command and exits 0', async () => {
    for (const command of [[], ['secret'], ['hash'], ['keygen'], ['assertion'], ['token']]) {
      const result = await run([...command, '--help'])
      expect(result.code).toBe(0)
      expect(result.stdout).toContain('Usage: ccflow')
    }
  })

  it('exits 2 on an unknown command', async () => {
    expect((await run(['frobnicate'])).code).toBe(2)
  })

  it('names a misspelt command or flag on one ccflow: line with the nearest one', async () => {
    const command = await run(['secert'])
    expect(command.code).toBe(2)
    expect(command.stderr).toBe(
      "ccflow: unknown command 'secert' (did you mean secret?)\n(run with --help for usage)\n",
    )
    const flag = await run(['keygen', '--algg', 'ES256'])
    expect(flag.stderr).toMatch(/^ccflow: unknown option '--algg' \(did you mean --alg\?\)\n/)
  })

  it('spells the algorithm flag --alg in every command, the old --algorithm hidden', async () => {
    for (const command of ['secret', 'hash', 'keygen']) {
      const help = (await run([command, '--help'])).stdout
      expect(help).toContain('--alg <alg>')
      expect(help).not.toContain('--algorithm')
    }
  })
})

function generateKeyJwk(): Jwk {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' })
}

function decodeJwt(token: string): {
  header: Record<string, unknown>
  payload: { iat: number; exp: number } & Record<string, unknown>
} {
  const [header, payload] = token.split('.', 2)
  const json = (part = ''): never => JSON.parse(Buffer.from(part, 'base64url').toString()) as never
  return { header: json(header), payload: json(payload) }
}
