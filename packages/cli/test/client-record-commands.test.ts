import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { verifyClientSecret } from '@ccflow/issuer'
import { generateClientKey } from '../src/generate-client-key.js'
import {
  createTestDatabase,
  skipWithoutPostgres,
  type TestDatabase,
} from '../../../test/support/postgres.js'
import { json, run } from './support/run.js'

const skip = await skipWithoutPostgres()
const AUDIENCE = 'https://api.example.com'
const PEPPER = 'a pepper of at least thirty-two bytes, for tests'

describe.skipIf(skip)('ccflow client create and update', () => {
  let db: TestDatabase
  let env: Record<string, string>
  let pool: pg.Pool
  let dir: string
  beforeAll(async () => {
    db = await createTestDatabase('cli_records')
    env = { DATABASE_URL: db.url, USER: 'ops', CCFLOW_SECRET_PEPPER: PEPPER }
    pool = new pg.Pool({ connectionString: db.url, max: 1 })
    dir = await mkdtemp(join(tmpdir(), 'ccflow-cli-records-'))
    expect((await run(['db', 'migrate'], { env })).code).toBe(0)
  })
  afterAll(async () => {
    await pool?.end()
    await db?.drop()
    await rm(dir, { recursive: true, force: true })
  })

  /** The stored hash of a client's only secret, and the audit rows of the client. */
  async function stored(clientId: string): Promise<{ hash: string; actors: string[] }> {
    const secrets = await pool.query<{ hash: string }>(
      'SELECT hash FROM ccflow_client_secrets WHERE client_id = $1',
      [clientId],
    )
    const audit = await pool.query<{ actor: string }>(
      'SELECT actor FROM ccflow_audit WHERE client_id = $1 ORDER BY id',
      [clientId],
    )
    return {
      hash: secrets.rows[0]?.hash ?? '',
      actors: audit.rows.map((row) => row.actor),
    }
  }

  describe('create', () => {
    it('registers a client and prints its secret once, hashed with CCFLOW_SECRET_PEPPER', async () => {
      const result = await run(
        ['client', 'create', '--id', 'billing', '--scope', 'a b', '--audience', AUDIENCE],
        { env },
      )
      expect(result.code).toBe(0)
      const secret = /^client_secret {2}(\S+)$/m.exec(result.stdout)?.[1] ?? ''
      expect(result.stdout).toMatch(/^created client "billing"$/m)
      expect(result.stdout).toContain('The secret is shown once')
      const { hash, actors } = await stored('billing')
      expect(await verifyClientSecret(secret, hash, { pepper: PEPPER })).toBe(true)
      expect(await verifyClientSecret(secret, hash)).toBe(false)
      expect(result.stdout).not.toContain(hash)
      expect(actors).toEqual(['ops'])
    })

    it('prints { client, client_secret } with --json, and records --actor', async () => {
      const result = await run(
        [
          'client',
          'create',
          '--id',
          'reports',
          '--scope',
          'r:read r:write',
          '--audience',
          AUDIENCE,
          '--audience',
          'urn:example:files',
          '--name',
          'Reports',
          '--ttl',
          '600',
          '--default-scope',
          'r:read',
          '--default-audience',
          'urn:example:files',
          '--auth-method',
          'client_secret_post',
          '--introspection',
          '--actor',
          'alice@example.com',
          '--json',
        ],
        { env },
      )
      expect(result.code).toBe(0)
      const output = json(result) as {
        client: { secrets: { id: string }[] }
        client_secret: string
      }
      expect(output).toEqual({
        client: {
          client_id: 'reports',
          client_name: 'Reports',
          scope: 'r:read r:write',
          default_scope: 'r:read',
          token_endpoint_auth_method: 'client_secret_post',
          audiences: [AUDIENCE, 'urn:example:files'],
          default_audience: 'urn:example:files',
          access_token_ttl: 600,
          introspection: true,
          secrets: [{ id: expect.stringMatching(/^[0-9a-f]{12}$/) as unknown }],
        },
        client_secret: expect.stringMatching(/^ccs_[0-9a-f]{12}_/) as unknown,
      })
      expect(output.client_secret.startsWith(`ccs_${output.client.secrets[0]?.id}_`)).toBe(true)
      expect((await stored('reports')).actors).toEqual(['alice@example.com'])
    })

    it('registers a private_key_jwt client from --jwks FILE, without a secret', async () => {
      const key = generateClientKey('ES256', 'k1')
      const file = join(dir, 'signer.jwks.json')
      await writeFile(file, JSON.stringify(key.publicJwks))
      const result = await run(
        [
          'client',
          'create',
          '--id',
          'signer',
          '--scope',
          'a',
          '--audience',
          AUDIENCE,
          '--jwks',
          file,
        ],
        { env },
      )
      expect(result).toEqual({
        code: 0,
        stdout: 'created client "signer" (private_key_jwt)\n',
        stderr: '',
      })
      const shown = json(await run(['client', 'show', 'signer', '--json'], { env }))
      expect(shown).toEqual({
        client: {
          client_id: 'signer',
          scope: 'a',
          audiences: [AUDIENCE],
          token_endpoint_auth_method: 'private_key_jwt',
          jwks: key.publicJwks,
        },
      })
      const asJson = await run(
        [
          'client',
          'create',
          '--id',
          'signer2',
          '--scope',
          'a',
          '--audience',
          AUDIENCE,
          '--jwks',
          file,
          '--json',
        ],
        { env },
      )
      expect(json(asJson)).not.toHaveProperty('client_secret')
    })

    it('registers a private_key_jwt client from --jwks-uri', async () => {
      const result = await run(
        [
          'client',
          'create',
          '--id',
          'remote',
          '--scope',
          'a',
          '--audience',
          AUDIENCE,
          '--jwks-uri',
          'https://remote.example/jwks.json',
          '--json',
        ],
        { env },
      )
      expect(json(result)).toMatchObject({
        client: {
          token_endpoint_auth_method: 'private_key_jwt',
          jwks_uri: 'https://remote.example/jwks.json',
        },
      })
    })

    it('refuses a private key in --jwks with exit code 2, naming the field', async () => {
      const key = generateClientKey('ES256', 'k1')
      const file = join(dir, 'private.json')
      await writeFile(file, JSON.stringify({ keys: [key.privateJwk] }))
      const result = await run(
        [
          'client',
          'create',
          '--id',
          'leaky',
          '--scope',
          'a',
          '--audience',
          AUDIENCE,
          '--jwks',
          file,
        ],
        { env },
      )
      expect(result.code).toBe(2)
      expect(result.stderr).toMatch(/^ccflow: client \(client_id "leaky"\)\.jwks/)
      expect(result.stderr).not.toContain(String(key.privateJwk.d))
    })

    it.each([
      ['a missing file', 'missing.json', /^ccflow: cannot read .*missing\.json \(ENOENT\)$/m],
      ['a file that is not JSON', 'not-json.txt', /^ccflow: .*not-json\.txt is not JSON/m],
    ])('fails with exit code 1 for %s in --jwks', async (_what, name, message) => {
      await writeFile(join(dir, 'not-json.txt'), 'hello')
      const result = await run(
        [
          'client',
          'create',
          '--id',
          'x',
          '--scope',
          'a',
          '--audience',
          AUDIENCE,
          '--jwks',
          join(dir, name),
        ],
        { env },
      )
      expect(result.code).toBe(1)
      expect(result.stderr).toMatch(message)
    })

    it('fails with exit code 1 when --jwks is too large to be a key set', async () => {
      const file = join(dir, 'huge.json')
      await writeFile(file, 'x'.repeat(70 * 1024))
      const result = await run(
        ['client', 'create', '--id', 'x', '--scope', 'a', '--audience', AUDIENCE, '--jwks', file],
        { env },
      )
      expect(result.code).toBe(1)
      expect(result.stderr).toMatch(/huge\.json is larger than 64 KiB: not a JWK Set/)
    })

    it('fails with exit code 1 when the id is registered already', async () => {
      const result = await run(
        ['client', 'create', '--id', 'billing', '--scope', 'a', '--audience', AUDIENCE],
        { env },
      )
      expect(result.code).toBe(1)
      expect(result.stderr).toMatch(/^ccflow: .*billing/)
      expect(result.stdout).toBe('')
    })

    it.each([
      ['a malformed scope', ['--scope', 'a  b']],
      ['a scope token with a quote', ['--scope', 'a"b']],
      ['a relative audience', ['--audience', 'api']],
      ['an audience with a fragment', ['--audience', 'https://a.example/#x']],
      ['an id with a control character', ['--id', 'a\u0000b']],
      ['an id too long', ['--id', 'x'.repeat(256)]],
      ['a zero lifetime', ['--ttl', '0']],
      ['a name with a newline', ['--name', 'a\nb']],
      ['an actor with a newline', ['--actor', 'a\nb']],
      ['an unknown auth method', ['--auth-method', 'client_secret_jwt']],
      ['--jwks with --auth-method', ['--jwks', 'x.json', '--auth-method', 'client_secret_basic']],
      ['--jwks with --jwks-uri', ['--jwks', 'x.json', '--jwks-uri', 'https://a.example/j']],
    ])('refuses %s with exit code 2 and a one-line message', async (_what, flags) => {
      const base: Record<string, string> = { '--id': 'new', '--scope': 'a', '--audience': AUDIENCE }
      for (let i = 0; i < flags.length; i += 2) base[flags[i] as string] = flags[i + 1] as string
      const result = await run(['client', 'create', ...Object.entries(base).flat()], { env })
      expect(result.code).toBe(2)
      expect(result.stderr).toMatch(/^ccflow: .+\n\(run with --help for usage\)\n$/)
      expect((await run(['client', 'show', 'new'], { env })).code).toBe(1)
    })

    it('refuses a default audience outside the audiences with exit code 2', async () => {
      const result = await run(
        [
          'client',
          'create',
          '--id',
          'new',
          '--scope',
          'a',
          '--audience',
          AUDIENCE,
          '--default-audience',
          'https://other.example',
        ],
        { env },
      )
      expect(result.code).toBe(2)
      expect(result.stderr).toMatch(/default_audience must be one of audiences/)
    })

    it('stores SQL-looking input as data', async () => {
      const id = `x'); DROP TABLE ccflow_clients; --`
      const scope = `a';DELETE\u0021FROM\u0021ccflow_audit;-- b`
      const result = await run(
        [
          'client',
          'create',
          '--id',
          id,
          '--scope',
          scope,
          '--audience',
          `https://a.example/?q='--`,
          '--name',
          `Robert'); DROP TABLE ccflow_audit;--`,
          '--json',
        ],
        { env },
      )
      expect(result.code).toBe(0)
      const shown = json(await run(['client', 'show', id, '--json'], { env }))
      expect(shown).toMatchObject({
        client: {
          client_id: id,
          scope,
          audiences: [`https://a.example/?q='--`],
          client_name: `Robert'); DROP TABLE ccflow_audit;--`,
        },
      })
      const tables = await pool.query(
        "SELECT count(*)::int AS n FROM pg_tables WHERE tablename LIKE 'ccflow_%'",
      )
      expect(tables.rows[0]).toEqual({ n: 4 })
    })
  })

  describe('update', () => {
    it('changes the fields given and keeps the others', async () => {
      const result = await run(
        ['client', 'update', 'billing', '--scope', 'a b c', '--ttl', '120', '--name', 'Billing'],
        { env },
      )
      expect(result.code).toBe(0)
      expect(result.stdout).toMatch(/^scope +a b c$/m)
      expect(result.stdout).toMatch(/^access_token_ttl +120 s$/m)
      expect(result.stdout).toMatch(/^client_name +Billing$/m)
      expect(result.stdout).toMatch(/^audiences +https:\/\/api\.example\.com$/m)
    })

    it('replaces the audiences and sets the defaults, printing { client } with --json', async () => {
      const result = await run(
        [
          'client',
          'update',
          'billing',
          '--audience',
          'https://b.example',
          '--audience',
          'https://c.example',
          '--default-audience',
          'https://c.example',
          '--default-scope',
          'c',
          '--json',
        ],
        { env },
      )
      expect(json(result)).toMatchObject({
        client: {
          client_id: 'billing',
          audiences: ['https://b.example', 'https://c.example'],
          default_audience: 'https://c.example',
          default_scope: 'c',
        },
      })
    })

    it('refuses a change that leaves the record invalid with exit code 2, and changes nothing', async () => {
      const result = await run(['client', 'update', 'billing', '--scope', 'a'], { env })
      expect(result.code).toBe(2)
      expect(result.stderr).toMatch(/default_scope holds "c", which is not in scope/)
      expect((await run(['client', 'show', 'billing'], { env })).stdout).toMatch(/^scope +a b c$/m)
    })

    it('removes optional fields with --unset', async () => {
      await run(['client', 'update', 'billing', '--ttl', '90', '--name', 'B'], { env })
      const result = await run(
        ['client', 'update', 'billing', '--unset', 'ttl', '--unset', 'name', '--json'],
        { env },
      )
      const { client } = json(result) as { client: Record<string, unknown> }
      expect(client).not.toHaveProperty('access_token_ttl')
      expect(client).not.toHaveProperty('client_name')
      expect(client).toMatchObject({ client_id: 'billing', default_scope: 'c' })
    })

    it.each([
      ['an unknown field, naming the nearest', ['--unset', 'tll'], /did you mean ttl\?/],
      [
        '--unset with the flag it unsets',
        ['--unset', 'ttl', '--ttl', '5'],
        /--unset ttl and --ttl/,
      ],
      ['--unset of a required field', ['--unset', 'scope'], /Allowed choices are name, ttl/],
    ])('refuses %s with exit code 2', async (_what, flags, message) => {
      const result = await run(['client', 'update', 'billing', ...flags], { env })
      expect(result.code).toBe(2)
      expect(result.stderr).toMatch(message)
    })

    it('refuses an update without a change with exit code 2', async () => {
      const result = await run(['client', 'update', 'billing'], { env })
      expect(result.code).toBe(2)
      expect(result.stderr).toMatch(/^ccflow: nothing to change: give --scope/)
    })

    it('fails with exit code 1 for an unknown client', async () => {
      const result = await run(['client', 'update', 'nobody', '--ttl', '60'], { env })
      expect(result).toEqual({ code: 1, stdout: '', stderr: 'ccflow: no client "nobody"\n' })
    })
  })
})
