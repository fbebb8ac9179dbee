import { INITIAL_SCHEMA } from './migrations/0001-initial.js'
import { RegistryError } from './registry-error.js'
import type { PgPool, PgQueryResult } from './pg-types.js'
import { inTransaction } from './transaction.js'

/**
 * One schema migration: plain SQL applied in the migration transaction.
 *
 * @internal
 */
export interface Migration {
  readonly version: number
  readonly name: string
  readonly sql: string
}

// Every migration this package knows, in order; versions count up from 1 without gaps.
const MIGRATIONS: readonly Migration[] = Object.freeze([
  { version: 1, name: '0001-initial', sql: INITIAL_SCHEMA },
])

/**
 * The schema version this package reads and writes.
 *
 * @internal
 */
export const LATEST_SCHEMA_VERSION: number = MIGRATIONS.length

// One key for every ccflow instance on the database: two `migrate()` calls at once serialise on
// it, and the second finds the work done. ("ccfw" as a 32-bit integer.)
const MIGRATION_LOCK_KEY = 0x63636677

const CREATE_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS ccflow_schema_migrations (
  version    integer     PRIMARY KEY,
  name       text        NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
)`

/**
 * Brings the ccflow tables up to the schema version this package knows.
 *
 * Everything runs in one transaction under a transaction-scoped advisory lock
 * (`pg_advisory_xact_lock`), so instances that start together never race: the first applies the
 * missing migrations, the others wait and then find nothing to do. A failing migration rolls back
 * every migration of the call. A database newer than this package is refused, never downgraded.
 *
 * @example
 * ```ts
 * const { applied, version } = await migrate(pool) // applied: ['0001-initial'], version: 1
 * ```
 * @returns The names of the migrations this call applied (none when the schema was current) and
 *   the schema version now in force.
 * @throws {RegistryError} `schema_mismatch` when the database holds a newer schema version.
 * @throws {Error} The database's error when a statement fails (nothing is applied then).
 */
export function migrate(pool: PgPool): Promise<{ applied: string[]; version: number }> {
  return inTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY])
    await client.query(CREATE_MIGRATIONS_TABLE)
    const current = readVersion(
      await client.query('SELECT max(version) AS version FROM ccflow_schema_migrations'),
    )
    if (current > LATEST_SCHEMA_VERSION) throw newerSchema(current)
    const applied: string[] = []
    for (const migration of MIGRATIONS.slice(current)) {
      await client.query(migration.sql)
      await client.query('INSERT INTO ccflow_schema_migrations (version, name) VALUES ($1, $2)', [
        migration.version,
        migration.name,
      ])
      applied.push(migration.name)
    }
    return { applied, version: LATEST_SCHEMA_VERSION }
  })
}

/**
 * Reads the schema version of the database and the one this package knows.
 *
 * @example
 * ```ts
 * const { current, latest } = await schemaVersion(pool)
 * if (current !== latest) console.error('run `ccflow db migrate`')
 * ```
 * @returns `current`: the highest applied version, 0 when ccflow's tables are missing;
 *   `latest`: the version this package knows.
 */
export async function schemaVersion(pool: PgPool): Promise<{ current: number; latest: number }> {
  const present = await pool.query(
    "SELECT to_regclass('ccflow_schema_migrations') IS NOT NULL AS present",
  )
  const row = present.rows[0] as { present?: unknown } | undefined
  if (row?.present !== true) return { current: 0, latest: LATEST_SCHEMA_VERSION }
  const current = readVersion(
    await pool.query('SELECT max(version) AS version FROM ccflow_schema_migrations'),
  )
  return { current, latest: LATEST_SCHEMA_VERSION }
}

/**
 * The message for a schema this package cannot use, with what to do about it.
 *
 * @internal
 */
export function schemaMismatchMessage(current: number): string {
  if (current < LATEST_SCHEMA_VERSION) {
    return (
      `the ccflow schema is at version ${current}, this package needs ${LATEST_SCHEMA_VERSION}: ` +
      'run `ccflow db migrate` (or migrate() from @ccflow/issuer/postgres) first'
    )
  }
  return (
    `the ccflow schema is at version ${current}, newer than the ${LATEST_SCHEMA_VERSION} this ` +
    'package knows: upgrade @ccflow/issuer'
  )
}

function newerSchema(current: number): RegistryError {
  return new RegistryError('schema_mismatch', `migrate: ${schemaMismatchMessage(current)}`)
}

function readVersion(result: PgQueryResult): number {
  const row = result.rows[0] as { version?: unknown } | undefined
  return typeof row?.version === 'number' ? row.version : 0
}
