import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateClientSecret, hashClientSecret, jsonFileClientStore } from '@ccflow/issuer'
import {
  createTestDatabase,
  skipWithoutPostgres,
  type TestDatabase,
} from '../../../test/support/postgres.js'
import { json, run } from './support/run.js'

const skip = await skipWithoutPostgres()
const AUDIENCE = 'https://api.example.com'

describe.skipIf(skip)('ccflow client import', () => {
  let db: TestDatabase
  let env: Record<string, string>
  let dir: string
  beforeAll(async () => {
    db = await createTestDatabase('cli_import')
    env = { DATABASE_URL: db.url }
    dir = await mkdtemp(join(tmpdir(), 'ccflow-cli-import-'))
    expect((await run(['db', 'migrate'], { env })).code).toBe(0)
  })
  afterAll(async () => {
    await db?.drop()
    await rm(dir, { recursive: true, force: true })
  })

  async function file(name: string, content: unknown): Promise<string> {
    const path = join(dir, name)
    await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content))
    return path
  }

  it('copies every record of a CLIENTS_FILE, hashes and expiry kept as they are', async () => {
    const generated = generateClientSecret({ secretId: 'k1' })
    const records = [
      {
        client_id: 'reports',
        client_name: 'Reports',
        scope: 'r:read',
        audiences: [AUDIENCE],
        access_token_ttl: 300,
        secrets: [
          { id: 'k1', hash: await hashClientSecret(generated.secret) },
          {
            id: 'human',
            hash: await hashClientSecret('a human secret'),
            expires_at: 4_102_444_800,
          },
        ],
      },
      {
        client_id: 'off',
        scope: '',
        audiences: [AUDIENCE],
        disabled: true,
        secrets: [{ id: 'k', hash: await hashClientSecret('x') }],
      },
    ]
    const path = await file('clients.json', records)
    const result = await run(['client', 'import', path], { env })
    expect(result).toEqual({
      code: 0,
      stdout: 'imported 2 client(s): "reports", "off"\n',
      stderr: '',
    })
    // What the server reads from the file, the registry now holds.
    const fromFile = jsonFileClientStore(path)
    for (const id of ['reports', 'off']) {
      const shown = json(await run(['client', 'show', id, '--json'], { env }))
      const expected = (await fromFile.findClient(id)) as unknown as Record<string, unknown>
      const secrets = (expected.secrets as { id: string; expires_at?: number }[]).map(
        ({ id: secretId, expires_at }) =>
          expires_at === undefined ? { id: secretId } : { id: secretId, expires_at },
      )
      // The order of secrets carries no meaning; the registry lists them by id within a second.
      const byId = (a: { id: string }, b: { id: string }): number => a.id.localeCompare(b.id)
      const { client } = shown as { client: { secrets: { id: string }[] } }
      expect({ ...client, secrets: [...client.secrets].sort(byId) }).toEqual({
        ...expected,
        secrets: secrets.sort(byId),
      })
    }
  })

  it('prints { imported } with --json', async () => {
    const path = await file('one.json', [
      {
        client_id: 'one',
        scope: 'a',
        audiences: [AUDIENCE],
        secrets: [{ id: 'k', hash: await hashClientSecret('x') }],
      },
    ])
    expect(json(await run(['client', 'import', path, '--json'], { env }))).toEqual({
      imported: ['one'],
    })
  })

  it('imports nothing when one id is registered already (all or none), exit code 1', async () => {
    const path = await file('clash.json', [
      {
        client_id: 'fresh',
        scope: 'a',
        audiences: [AUDIENCE],
        secrets: [{ id: 'k', hash: await hashClientSecret('x') }],
      },
      {
        client_id: 'one',
        scope: 'a',
        audiences: [AUDIENCE],
        secrets: [{ id: 'k', hash: await hashClientSecret('x') }],
      },
    ])
    const result = await run(['client', 'import', path], { env })
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/^ccflow: .*"one"/)
    expect((await run(['client', 'show', 'fresh'], { env })).code).toBe(1)
  })

  it('refuses a file the token server would refuse, with the file, position and field', async () => {
    const path = await file('bad.json', [{ client_id: 'x', scope: 'a', audience: AUDIENCE }])
    const result = await run(['client', 'import', path], { env })
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(
      `ccflow: ${path}[0] (client_id "x"): audience is not a record field; list every allowed audience in audiences`,
    )
  })

  it('fails with exit code 1, naming the file, when it cannot be read', async () => {
    const result = await run(['client', 'import', join(dir, 'missing.json')], { env })
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(
      /^ccflow: readClientsFile: cannot read the clients file .*missing\.json \(ENOENT: no such file\)$/m,
    )
  })

  it('warns about a file without clients and imports none', async () => {
    const path = await file('empty.json', [])
    const result = await run(['client', 'import', path], { env })
    expect(result).toEqual({
      code: 0,
      stdout: 'imported 0 client(s)\n',
      stderr: `ccflow: warning: ${path} holds no clients: every client is refused\n`,
    })
  })
})
