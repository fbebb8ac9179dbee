import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createTestDatabase,
  skipWithoutPostgres,
  type TestDatabase,
} from '../../../test/support/postgres.js'
import { json, run } from './support/run.js'

const skip = await skipWithoutPostgres()

describe.skipIf(skip)('ccflow db', () => {
  let db: TestDatabase
  let env: Record<string, string>
  beforeAll(async () => {
    db = await createTestDatabase('cli_db')
    env = { DATABASE_URL: db.url }
  })
  afterAll(async () => {
    await db?.drop()
  })

  describe('status and migrate', () => {
    it('says an empty database needs `ccflow db migrate`', async () => {
      expect(await run(['db', 'status'], { env })).toEqual({
        code: 0,
        stdout: 'schema version 0, this ccflow knows 1: run `ccflow db migrate`\n',
        stderr: '',
      })
      expect(json(await run(['db', 'status', '--json'], { env }))).toEqual({
        current: 0,
        latest: 1,
      })
    })

    it('applies the migrations once, then has nothing to apply', async () => {
      expect(await run(['db', 'migrate'], { env })).toEqual({
        code: 0,
        stdout: 'applied 0001-initial; schema at version 1\n',
        stderr: '',
      })
      expect((await run(['db', 'migrate'], { env })).stdout).toBe('schema already at version 1\n')
      expect(json(await run(['db', 'migrate', '--json'], { env }))).toEqual({
        applied: [],
        version: 1,
      })
      expect((await run(['db', 'status'], { env })).stdout).toBe(
        'schema version 1, this ccflow knows 1: up to date\n',
      )
    })

    it('says when the database is newer than this ccflow', async () => {
      const other = await createTestDatabase('cli_db_newer')
      try {
        const otherEnv = { DATABASE_URL: other.url }
        await run(['db', 'migrate'], { env: otherEnv })
        const client = new pg.Client({ connectionString: other.url })
        await client.connect()
        await client.query('INSERT INTO ccflow_schema_migrations (version, name) VALUES (99, $1)', [
          'future',
        ])
        await client.end()
        expect((await run(['db', 'status'], { env: otherEnv })).stdout).toBe(
          'schema version 99, this ccflow knows 1: newer than this ccflow\n',
        )
        const migrated = await run(['db', 'migrate'], { env: otherEnv })
        expect(migrated.code).toBe(1)
        expect(migrated.stderr).toMatch(/^ccflow: .*99/)
        const listed = await run(['client', 'list'], { env: otherEnv })
        expect(listed.code).toBe(1)
        expect(listed.stderr).toMatch(
          /^ccflow: database postgres:\/\/.*\/ccflow_cli_db_newer_\w+ has schema version 99, newer than this ccflow knows \(1\): upgrade @ccflow\/cli\n$/,
        )
      } finally {
        await other.drop()
      }
    })
  })
})
