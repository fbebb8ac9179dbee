import type pg from 'pg'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { migrate, RegistryError, schemaVersion } from '../../src/postgres.js'
import { createTestDatabase, skipWithoutPostgres, type TestDatabase } from './helpers.js'

const skip = await skipWithoutPostgres()

describe.skipIf(skip)('migrate', () => {
  let db: TestDatabase
  let pool: pg.Pool

  beforeAll(async () => {
    db = await createTestDatabase()
    pool = db.pool()
  })
  afterAll(() => db?.drop())
  beforeEach(async () => {
    await pool.query(
      'DROP TABLE IF EXISTS ccflow_audit, ccflow_client_secrets, ccflow_clients, ccflow_schema_migrations',
    )
  })

  const tables = async (): Promise<string[]> => {
    const { rows } = await pool.query<{ name: string }>(
      "SELECT tablename AS name FROM pg_tables WHERE tablename LIKE 'ccflow_%' ORDER BY 1",
    )
    return rows.map((row) => row.name)
  }

  it('creates the schema-v1 tables on an empty database', async () => {
    expect(await migrate(pool)).toEqual({ applied: ['0001-initial'], version: 1 })
    expect(await tables()).toEqual([
      'ccflow_audit',
      'ccflow_client_secrets',
      'ccflow_clients',
      'ccflow_schema_migrations',
    ])
  })

  it('applies nothing when the schema is current', async () => {
    await migrate(pool)
    expect(await migrate(pool)).toEqual({ applied: [], version: 1 })
  })

  it('applies each migration once when two instances migrate at the same time', async () => {
    const results = await Promise.all([migrate(pool), migrate(pool), migrate(pool)])
    expect(results.map((r) => r.applied).sort()).toEqual([[], [], ['0001-initial']])
    const { rows } = await pool.query('SELECT version FROM ccflow_schema_migrations')
    expect(rows).toEqual([{ version: 1 }])
  })

  it('refuses a database whose schema is newer than this package', async () => {
    await migrate(pool)
    await pool.query("INSERT INTO ccflow_schema_migrations (version, name) VALUES (2, 'future')")
    const error = await migrate(pool).catch((err: unknown) => err)
    expect(RegistryError.is(error)).toBe(true)
    expect(error).toMatchObject({ code: 'schema_mismatch' })
    expect((error as Error).message).toMatch(
      /version 2, newer than the 1 .*upgrade @ccflow\/issuer/,
    )
  })

  it('rolls every statement back when a migration fails', async () => {
    await pool.query('CREATE TABLE ccflow_clients (x int)')
    await expect(migrate(pool)).rejects.toMatchObject({ code: '42P07' }) // duplicate_table
    expect(await tables()).toEqual(['ccflow_clients'])
  })
})

describe.skipIf(skip)('schemaVersion', () => {
  let db: TestDatabase
  let pool: pg.Pool

  beforeAll(async () => {
    db = await createTestDatabase()
    pool = db.pool()
  })
  afterAll(() => db?.drop())

  it('answers 0 before and 1 after the first migration, with the latest known version', async () => {
    expect(await schemaVersion(pool)).toEqual({ current: 0, latest: 1 })
    await migrate(pool)
    expect(await schemaVersion(pool)).toEqual({ current: 1, latest: 1 })
  })
})
