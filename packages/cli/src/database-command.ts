import { type Command, CommanderError } from 'commander'
import {
  type ClientRegistry,
  type PgPool,
  postgresClientRegistry,
  RegistryError,
  schemaVersion,
} from '@ccflow/issuer/postgres'
import { CliFailure } from './cli-failure.js'
import type { CliIo } from './cli-io.js'
import { parseActor } from './client-arguments.js'
import { databaseFailure, givenDatabaseUrl, openPool, printableDatabaseUrl } from './database.js'

/** The options every database command takes. */
export interface DatabaseOptions {
  databaseUrl?: string
  json?: true
  actor?: string
}

const MIN_PEPPER_BYTES = 32

/**
 * Adds a subcommand that works on the database: `--database-url` (else `DATABASE_URL`) and
 * `--json`, and `--actor` when it changes something (the audit trail's "who").
 */
export function databaseCommand(
  parent: Command,
  name: string,
  description: string,
  options: { changes: boolean },
): Command {
  const command = parent
    .command(name)
    .description(description)
    .option(
      '--database-url <url>',
      'PostgreSQL URL, postgres://user:password@host:5432/db (default: DATABASE_URL)',
    )
    .option('--json', 'print JSON instead of text')
  if (options.changes) {
    command.option(
      '--actor <name>',
      'who makes the change, for the audit trail (default: USER)',
      parseActor,
    )
  }
  return command
}

/**
 * Runs `work` on a pool opened on the command's database, then ends the pool. A missing or
 * malformed URL is a usage error (exit code 2); a database that cannot be reached or refuses is a
 * failure (exit code 1) whose message holds the URL without its password.
 */
export async function withDatabase<T>(
  command: Command,
  io: CliIo,
  work: (pool: PgPool, printable: string) => Promise<T>,
): Promise<T> {
  const given = givenDatabaseUrl(command.opts<DatabaseOptions>().databaseUrl, io.env)
  if (given === undefined) {
    return command.error(
      'error: no database: set DATABASE_URL or pass --database-url postgres://user@host:5432/db',
      { exitCode: 2 },
    )
  }
  const printable = printableDatabaseUrl(given.url)
  if (printable === undefined) {
    return command.error(
      `error: ${given.from} must be a postgres:// or postgresql:// URL ` +
        '(postgres://user:password@host:5432/db)',
      { exitCode: 2 },
    )
  }
  const pool = await openPool(given.url)
  try {
    return await work(pool, printable)
  } catch (err) {
    throw err instanceof CliFailure || RegistryError.is(err) || err instanceof CommanderError
      ? err
      : databaseFailure(err, printable)
  } finally {
    await pool.end()
  }
}

/**
 * Runs `work` with the client registry of the command's database, once its schema is the one
 * this version knows; a registry refusal becomes a one-line failure (exit code 1), or a usage
 * error (exit code 2) when the record or change is invalid.
 */
export async function withRegistry<T>(
  command: Command,
  io: CliIo,
  work: (registry: ClientRegistry) => Promise<T>,
): Promise<T> {
  const options = command.opts<DatabaseOptions>()
  const pepper = io.env.CCFLOW_SECRET_PEPPER
  if (pepper !== undefined && pepper !== '' && Buffer.byteLength(pepper) < MIN_PEPPER_BYTES) {
    throw new CliFailure(
      `CCFLOW_SECRET_PEPPER must be at least ${MIN_PEPPER_BYTES} bytes (the HMAC key of the secret hashes)`,
    )
  }
  try {
    return await withDatabase(command, io, async (pool, printable) => {
      const { current, latest } = await schemaVersion(pool)
      if (current !== latest) throw schemaFailure(current, latest, printable)
      const registry = postgresClientRegistry({
        pool,
        actor: options.actor ?? actorFromEnv(io.env.USER),
        ...(pepper === undefined || pepper === '' ? {} : { secretPepper: pepper }),
      })
      return await work(registry)
    })
  } catch (err) {
    if (!RegistryError.is(err)) throw err
    if (err.code === 'invalid_client_record') {
      return command.error(`error: ${err.message}`, { exitCode: 2 })
    }
    throw new CliFailure(err.message)
  }
}

function schemaFailure(current: number, latest: number, printable: string): CliFailure {
  return new CliFailure(
    current < latest
      ? `database ${printable} has schema version ${current}, this ccflow needs ${latest}: ` +
          'run `ccflow db migrate` first'
      : `database ${printable} has schema version ${current}, newer than this ccflow knows ` +
          `(${latest}): upgrade @ccflow/cli`,
  )
}

/** `USER` as the actor when it is a printable label; otherwise the registry's own default. */
function actorFromEnv(user: string | undefined): string | undefined {
  if (user === undefined) return undefined
  try {
    return parseActor(user)
  } catch {
    return undefined
  }
}
