import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { IN_CI } from './redis.js'

/** The server the tests use: `DATABASE_URL`, default `postgres://postgres@127.0.0.1:5432/postgres`. */
const ADMIN_URL: string = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

/** Why PostgreSQL cannot be used, or `undefined` when it answers `SELECT 1` within 2 s. */
async function unavailableReason(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 2000 })
  try {
    await client.connect()
    await client.query('SELECT 1')
    return undefined
  } catch (err) {
    const { message, code } = err as { message?: string; code?: string }
    return `PostgreSQL at ${new URL(ADMIN_URL).host} is not usable (${message || code})`
  } finally {
    await client.end().catch(() => undefined)
  }
}

/**
 * Whether PostgreSQL suites should be skipped: only outside CI, and the reason is printed so a
 * skipped run is never mistaken for a passing one.
 */
export async function skipWithoutPostgres(): Promise<boolean> {
  const reason = await unavailableReason()
  if (reason === undefined || IN_CI) return false
  console.warn(`[ccflow tests] skipping PostgreSQL tests: ${reason}. Start it or set DATABASE_URL.`)
  return true
}

/** A database of its own for one test file. */
export interface TestDatabase {
  /** Its URL, on the same server as {@link ADMIN_URL}. */
  url: string
  /** Drops it, closing whatever connections are still open to it. */
  drop(): Promise<void>
  /**
   * Lets clients connect to it again, or refuses new connections and closes the open ones: the
   * database goes away for the programs using it while the server keeps running.
   */
  allowConnections(allowed: boolean): Promise<void>
}

/** Creates an empty database named `ccflow_<prefix>_<random>`. */
export async function createTestDatabase(prefix: string): Promise<TestDatabase> {
  const name = `ccflow_${prefix}_${randomBytes(4).toString('hex')}`
  await admin(`CREATE DATABASE ${name}`)
  const url = new URL(ADMIN_URL)
  url.pathname = `/${name}`
  return {
    url: url.href,
    drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
    async allowConnections(allowed) {
      await admin(`ALTER DATABASE ${name} ALLOW_CONNECTIONS ${allowed ? 'true' : 'false'}`)
      if (!allowed) {
        await admin(
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${name}'`,
        )
      }
    },
  }
}

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 5000 })
  await client.connect()
  try {
    await client.query(sql)
  } finally {
    await client.end()
  }
}
