import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createTestDatabase,
  skipWithoutPostgres,
  type TestDatabase,
} from '../../../test/support/postgres.js'
import { json, run } from './support/run.js'

const skip = await skipWithoutPostgres()
const AUDIENCE = 'https://api.example.com'

describe.skipIf(skip)('ccflow client list, show, disable, enable, delete, audit', () => {
  let db: TestDatabase
  let env: Record<string, string>
  beforeAll(async () => {
    db = await createTestDatabase('cli_clients')
    env = { DATABASE_URL: db.url, USER: 'ops' }
    expect((await run(['db', 'migrate'], { env })).code).toBe(0)
    for (const id of ['reports', 'billing']) {
      const created = await run(
        ['client', 'create', '--id', id, '--scope', 'a b', '--audience', AUDIENCE],
        { env },
      )
      expect(created.code).toBe(0)
    }
  })
  afterAll(async () => {
    await db?.drop()
  })

  describe('list', () => {
    it('prints one line per client, ordered by id', async () => {
      const result = await run(['client', 'list'], { env })
      expect(result).toMatchObject({ code: 0, stderr: '' })
      expect(result.stdout.split('\n')).toEqual([
        'CLIENT_ID  STATE    AUTH         SCOPE',
        'billing    enabled  1 secret(s)  a b',
        'reports    enabled  1 secret(s)  a b',
        '',
      ])
    })

    it('prints { clients } with --json, the secrets as ids without hashes', async () => {
      const result = await run(['client', 'list', '--json'], { env })
      const { clients } = json(result) as { clients: Record<string, unknown>[] }
      expect(clients.map((client) => client.client_id)).toEqual(['billing', 'reports'])
      expect(clients[0]).toEqual({
        client_id: 'billing',
        scope: 'a b',
        audiences: [AUDIENCE],
        secrets: [{ id: expect.stringMatching(/^[0-9a-f]{12}$/) as unknown }],
      })
      expect(result.stdout).not.toContain('$hmac')
    })
  })

  describe('show', () => {
    it('prints the record and the secret ids, never a hash', async () => {
      const result = await run(['client', 'show', 'billing'], { env })
      expect(result.code).toBe(0)
      expect(result.stdout).toMatch(/^client_id +billing$/m)
      expect(result.stdout).toMatch(/^secret +[0-9a-f]{12}$/m)
      expect(result.stdout).not.toContain('$hmac')
    })

    it('prints { client } with --json', async () => {
      const result = await run(['client', 'show', 'billing', '--json'], { env })
      expect(json(result)).toMatchObject({ client: { client_id: 'billing', scope: 'a b' } })
    })

    it('fails with exit code 1 for an unknown client', async () => {
      const result = await run(['client', 'show', 'nobody'], { env })
      expect(result).toEqual({ code: 1, stdout: '', stderr: 'ccflow: no client "nobody"\n' })
    })

    it('refuses a malformed id with exit code 2 before touching the database', async () => {
      const result = await run(['client', 'show', 'tab\there'], {
        env: { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' },
      })
      expect(result.code).toBe(2)
      expect(result.stderr).toMatch(
        /^ccflow: command-argument value .* is invalid for argument 'id'\. expected 1-255 printable ASCII characters$/m,
      )
    })
  })

  describe('disable and enable', () => {
    it('disables a client, shows it, and enables it again', async () => {
      expect(await run(['client', 'disable', 'reports'], { env })).toEqual({
        code: 0,
        stdout: 'client "reports" disabled\n',
        stderr: '',
      })
      expect((await run(['client', 'show', 'reports'], { env })).stdout).toMatch(
        /^state +disabled$/m,
      )
      const enabled = await run(['client', 'enable', 'reports', '--json'], { env })
      expect(json(enabled)).toEqual({ client_id: 'reports', disabled: false })
      expect((await run(['client', 'show', 'reports'], { env })).stdout).toMatch(
        /^state +enabled$/m,
      )
    })

    it('prints { client_id, disabled: true } with --json', async () => {
      const result = await run(['client', 'disable', 'reports', '--json'], { env })
      expect(json(result)).toEqual({ client_id: 'reports', disabled: true })
      await run(['client', 'enable', 'reports'], { env })
    })

    it('fails with exit code 1 for an unknown client', async () => {
      const result = await run(['client', 'disable', 'nobody'], { env })
      expect(result.code).toBe(1)
      expect(result.stderr).toBe('ccflow: no client "nobody"\n')
    })
  })

  describe('delete', () => {
    it('deletes a client', async () => {
      await run(['client', 'create', '--id', 'old', '--scope', 'a', '--audience', AUDIENCE], {
        env,
      })
      const result = await run(['client', 'delete', 'old', '--json'], { env })
      expect(json(result)).toEqual({ client_id: 'old', deleted: true })
      expect((await run(['client', 'show', 'old'], { env })).code).toBe(1)
      expect((await run(['client', 'delete', 'old'], { env })).stderr).toBe(
        'ccflow: no client "old"\n',
      )
    })

    it('prints one line without --json', async () => {
      await run(['client', 'create', '--id', 'old2', '--scope', 'a', '--audience', AUDIENCE], {
        env,
      })
      expect((await run(['client', 'delete', 'old2'], { env })).stdout).toBe(
        'client "old2" deleted\n',
      )
    })
  })

  describe('audit', () => {
    it('prints who did what to a client, oldest first, without secrets or hashes', async () => {
      await run(['client', 'create', '--id', 'audited', '--scope', 'a', '--audience', AUDIENCE], {
        env,
      })
      await run(['client', 'disable', 'audited', '--actor', 'alice'], { env })
      const result = await run(['client', 'audit', 'audited'], { env })
      expect(result.code).toBe(0)
      const lines = result.stdout.trim().split('\n')
      expect(lines).toHaveLength(2)
      expect(lines[0]).toMatch(
        /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ {2}ops {2}created {2}"audited" {2}\{/,
      )
      expect(lines[1]).toMatch(/ {2}alice {2}disabled {2}"audited" {2}\{\}$/)
      expect(result.stdout).not.toContain('$hmac')
      expect(result.stdout).not.toContain('ccs_')
    })

    it('prints { entries } with --json, and every client without an id', async () => {
      const result = await run(['client', 'audit', '--json'], { env })
      const { entries } = json(result) as { entries: Record<string, unknown>[] }
      expect(entries.length).toBeGreaterThanOrEqual(4)
      expect(entries.at(-1)).toEqual({
        at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/) as unknown,
        actor: 'alice',
        action: 'disabled',
        client_id: 'audited',
        detail: {},
      })
    })

    it('says so when a client has no entries', async () => {
      expect((await run(['client', 'audit', 'never-existed'], { env })).stdout).toBe(
        'no audit entries\n',
      )
    })
  })
})
