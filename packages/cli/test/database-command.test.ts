import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createTestDatabase,
  skipWithoutPostgres,
  type TestDatabase,
} from '../../../test/support/postgres.js'
import { run } from './support/run.js'

const skip = await skipWithoutPostgres()

describe('database commands without a usable database', () => {
  it('refuse to run without DATABASE_URL or --database-url, exit code 2', async () => {
    const result = await run(['client', 'list'], { env: {} })
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(
      /^ccflow: no database: set DATABASE_URL or pass --database-url postgres:\/\/user@host:5432\/db\n/,
    )
  })

  it('refuse a URL that is not postgres://, exit code 2, without echoing it', async () => {
    const result = await run(['db', 'status'], { env: { DATABASE_URL: 'mysql://u:s3cret@h/d' } })
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(
      /^ccflow: DATABASE_URL must be a postgres:\/\/ or postgresql:\/\/ URL/,
    )
    expect(result.stderr).not.toContain('s3cret')
    const flag = await run(['db', 'status', '--database-url', 'nope'])
    expect(flag.stderr).toMatch(/^ccflow: --database-url must be a postgres:\/\//)
  })

  it('fail with exit code 1 and the URL without its password when nothing answers', async () => {
    const result = await run(['client', 'list'], {
      env: { DATABASE_URL: 'postgres://ops:s3cret@127.0.0.1:1/none' },
    })
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(
      /^ccflow: database postgres:\/\/ops@127\.0\.0\.1:1\/none: .*\(ECONNREFUSED\)\n$/,
    )
    expect(result.stderr).not.toContain('s3cret')
  })

  it('refuse a pepper shorter than 32 bytes before connecting, exit code 1', async () => {
    const result = await run(['client', 'list'], {
      env: { DATABASE_URL: 'postgres://127.0.0.1:1/none', CCFLOW_SECRET_PEPPER: 'short' },
    })
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'ccflow: CCFLOW_SECRET_PEPPER must be at least 32 bytes (the HMAC key of the secret hashes)\n',
    })
  })
})

describe.skipIf(skip)('database commands on a database', () => {
  let db: TestDatabase
  beforeAll(async () => {
    db = await createTestDatabase('cli_dbcmd')
  })
  afterAll(async () => {
    await db?.drop()
  })

  it('refuse to manage clients before `ccflow db migrate`, exit code 1', async () => {
    const result = await run(['client', 'list'], { env: { DATABASE_URL: db.url } })
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(
      /has schema version 0, this ccflow needs 1: run `ccflow db migrate` first\n$/,
    )
  })

  it('report a database that does not exist with the server message and its code', async () => {
    const url = db.url.replace(/\/[^/]+$/, '/ccflow_no_such_database')
    const result = await run(['db', 'status', '--database-url', url])
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/database "ccflow_no_such_database" does not exist \(3D000\)\n$/)
  })

  it('record USER as the actor, and fall back to the registry default for an unusable USER', async () => {
    const env = { DATABASE_URL: db.url }
    await run(['db', 'migrate'], { env })
    const create = (id: string, user: string | undefined) =>
      run(['client', 'create', '--id', id, '--scope', 'a', '--audience', 'https://a.example'], {
        env: { ...env, USER: user },
      })
    await create('by-user', 'carol')
    await create('by-nobody', 'bad\nuser')
    await create('no-user', undefined)
    const pg = await import('pg')
    const client = new pg.default.Client({ connectionString: db.url })
    await client.connect()
    const { rows } = await client.query<{ client_id: string; actor: string }>(
      'SELECT client_id, actor FROM ccflow_audit ORDER BY id',
    )
    await client.end()
    expect(rows).toEqual([
      { client_id: 'by-user', actor: 'carol' },
      { client_id: 'by-nobody', actor: 'unknown' },
      { client_id: 'no-user', actor: 'unknown' },
    ])
  })
})
