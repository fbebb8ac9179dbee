import pg from 'pg'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { verifyClientSecret } from '@ccflow/issuer'
import {
  createTestDatabase,
  skipWithoutPostgres,
  type TestDatabase,
} from '../../../test/support/postgres.js'
import { json, run } from './support/run.js'

const skip = await skipWithoutPostgres()
const AUDIENCE = 'https://api.example.com'

describe.skipIf(skip)('ccflow client add-secret and revoke-secret', () => {
  let db: TestDatabase
  let env: Record<string, string>
  let pool: pg.Pool
  let firstSecretId: string
  beforeAll(async () => {
    db = await createTestDatabase('cli_secrets')
    env = { DATABASE_URL: db.url }
    pool = new pg.Pool({ connectionString: db.url, max: 1 })
    expect((await run(['db', 'migrate'], { env })).code).toBe(0)
    const created = await run(
      ['client', 'create', '--id', 'billing', '--scope', 'a', '--audience', AUDIENCE, '--json'],
      { env },
    )
    firstSecretId = (json(created) as { client: { secrets: { id: string }[] } }).client.secrets[0]
      ?.id as string
  })
  afterAll(async () => {
    await pool?.end()
    await db?.drop()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  async function hashOf(secretId: string): Promise<string> {
    const { rows } = await pool.query<{ hash: string }>(
      'SELECT hash FROM ccflow_client_secrets WHERE secret_id = $1',
      [secretId],
    )
    return rows[0]?.hash ?? ''
  }

  describe('add-secret', () => {
    it('adds a second secret that never expires and prints it once, with the next step', async () => {
      const result = await run(['client', 'add-secret', 'billing'], { env })
      expect(result.code).toBe(0)
      const [, secretId] = /^added secret (\S+) to client "billing" \(never expires\)$/m.exec(
        result.stdout,
      ) ?? ['', '']
      const secret = /^client_secret {2}(\S+)$/m.exec(result.stdout)?.[1] ?? ''
      expect(await verifyClientSecret(secret, await hashOf(secretId))).toBe(true)
      expect(result.stdout).toContain('ccflow client revoke-secret billing <old secret id>')
    })

    it('prints { client_id, secret_id, expires_at, client_secret } with --json and --expires-in', async () => {
      const before = Math.floor(Date.now() / 1000)
      const result = await run(
        ['client', 'add-secret', 'billing', '--expires-in', '90d', '--json'],
        { env },
      )
      const output = json(result) as { expires_at: number; secret_id: string }
      expect(output).toEqual({
        client_id: 'billing',
        secret_id: expect.stringMatching(/^[0-9a-f]{12}$/) as unknown,
        expires_at: expect.any(Number) as unknown,
        client_secret: expect.stringMatching(/^ccs_/) as unknown,
      })
      expect(output.expires_at - before).toBeGreaterThanOrEqual(90 * 86_400)
      expect(output.expires_at - before).toBeLessThanOrEqual(90 * 86_400 + 60)
      const shown = json(await run(['client', 'show', 'billing', '--json'], { env })) as {
        client: { secrets: { id: string; expires_at?: number }[] }
      }
      expect(shown.client.secrets).toContainEqual({
        id: output.secret_id,
        expires_at: output.expires_at,
      })
    })

    it('takes --expires-at as an ISO time and prints the expiry', async () => {
      const result = await run(
        ['client', 'add-secret', 'billing', '--expires-at', '2099-01-01T00:00:00Z'],
        { env },
      )
      expect(result.stdout).toMatch(/\(expires 2099-01-01T00:00:00Z\)$/m)
    })

    it('quotes an id that is not one shell word in the next step', async () => {
      const id = "it's"
      await run(['client', 'create', '--id', id, '--scope', 'a', '--audience', AUDIENCE], { env })
      const result = await run(['client', 'add-secret', id], { env })
      expect(result.stdout).toContain(`ccflow client revoke-secret 'it'\\''s' <old secret id>`)
    })

    it.each([
      ['a time that has passed', ['--expires-at', '2001-01-01']],
      ['milliseconds', ['--expires-at', '4102444800000']],
      ['a duration without a unit', ['--expires-in', '90']],
      ['both --expires-at and --expires-in', ['--expires-at', '2099-01-01', '--expires-in', '1d']],
    ])('refuses %s with exit code 2', async (_what, flags) => {
      const result = await run(['client', 'add-secret', 'billing', ...flags], { env })
      expect(result.code).toBe(2)
      expect(result.stdout).toBe('')
    })

    it('fails with exit code 1 for an unknown client', async () => {
      const result = await run(['client', 'add-secret', 'nobody'], { env })
      expect(result).toEqual({ code: 1, stdout: '', stderr: 'ccflow: no client "nobody"\n' })
    })
  })

  describe('revoke-secret', () => {
    it('revokes a secret, which show no longer lists', async () => {
      const result = await run(['client', 'revoke-secret', 'billing', firstSecretId], { env })
      expect(result).toEqual({
        code: 0,
        stdout: `revoked secret ${firstSecretId} of client "billing"\n`,
        stderr: '',
      })
      expect((await run(['client', 'show', 'billing'], { env })).stdout).not.toContain(
        firstSecretId,
      )
    })

    it('prints { client_id, secret_id, revoked } with --json', async () => {
      const added = json(await run(['client', 'add-secret', 'billing', '--json'], { env }))
      const result = await run(
        ['client', 'revoke-secret', 'billing', added.secret_id as string, '--json'],
        { env },
      )
      expect(json(result)).toEqual({
        client_id: 'billing',
        secret_id: added.secret_id,
        revoked: true,
      })
    })

    it('fails with exit code 1 for a secret already revoked', async () => {
      const result = await run(['client', 'revoke-secret', 'billing', firstSecretId], { env })
      expect(result.code).toBe(1)
      expect(result.stderr).toMatch(/has no active secret/)
    })

    it('refuses to revoke the last secret that works, with exit code 1', async () => {
      await run(['client', 'create', '--id', 'single', '--scope', 'a', '--audience', AUDIENCE], {
        env,
      })
      const shown = json(await run(['client', 'show', 'single', '--json'], { env })) as {
        client: { secrets: { id: string }[] }
      }
      const only = shown.client.secrets[0]?.id as string
      const result = await run(['client', 'revoke-secret', 'single', only], { env })
      expect(result.code).toBe(1)
      expect(result.stderr).toMatch(/last unexpired secret/)
    })

    it('refuses a malformed secret id with exit code 2', async () => {
      const result = await run(['client', 'revoke-secret', 'billing', "k1' OR '1'='1"], { env })
      expect(result.code).toBe(2)
      expect(result.stderr).toMatch(/expected 1-32 characters of \[A-Za-z0-9-\]/)
    })
  })
})
