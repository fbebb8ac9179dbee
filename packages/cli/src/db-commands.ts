import type { Command } from 'commander'
import { migrate, schemaVersion } from '@ccflow/issuer/postgres'
import type { CliIo } from './cli-io.js'
import { jsonText } from './client-view.js'
import { databaseCommand, type DatabaseOptions, withDatabase } from './database-command.js'

/**
 * `ccflow db migrate` and `ccflow db status`: the schema of the client registry. Migrations are
 * applied in one transaction under an advisory lock, so two runs at once apply them once.
 */
export function addDbCommands(program: Command, io: CliIo): void {
  const group = program
    .command('db')
    .description('The PostgreSQL schema of the client registry (DATABASE_URL).')

  databaseCommand(
    group,
    'migrate',
    'Bring the schema to the version this ccflow knows (safe to run again, and from two places at once).',
    { changes: false },
  ).action(async (options: DatabaseOptions, command: Command) => {
    const result = await withDatabase(command, io, (pool) => migrate(pool))
    io.stdout.write(
      options.json === true
        ? jsonText(result)
        : result.applied.length === 0
          ? `schema already at version ${result.version}\n`
          : `applied ${result.applied.join(', ')}; schema at version ${result.version}\n`,
    )
  })

  databaseCommand(
    group,
    'status',
    'Print the schema version of the database and the one this ccflow knows.',
    { changes: false },
  ).action(async (options: DatabaseOptions, command: Command) => {
    const version = await withDatabase(command, io, (pool) => schemaVersion(pool))
    const state =
      version.current === version.latest
        ? 'up to date'
        : version.current < version.latest
          ? 'run `ccflow db migrate`'
          : 'newer than this ccflow'
    io.stdout.write(
      options.json === true
        ? jsonText(version)
        : `schema version ${version.current}, this ccflow knows ${version.latest}: ${state}\n`,
    )
  })
}
