import type { Command } from 'commander'
import { readClientsFile, type Client } from '@ccflow/issuer'
import { CliFailure } from './cli-failure.js'
import type { CliIo } from './cli-io.js'
import { jsonText } from './client-view.js'
import { databaseCommand, type DatabaseOptions, withRegistry } from './database-command.js'

/**
 * `ccflow client import FILE`: copies the clients of a CLIENTS_FILE into the registry, all or
 * none. The file is read by the issuer's own reader (`readClientsFile`), so exactly the files a
 * token server accepts are accepted; the records already hold hashes and are stored as they are.
 */
export function addImportCommand(group: Command, io: CliIo): void {
  databaseCommand(
    group,
    'import',
    'Copy the clients of a CLIENTS_FILE (the JSON array the token server reads) into the ' +
      'database, all or none; a client_id already registered stops the import.',
    { changes: true },
  )
    .argument('<file>', 'the clients file')
    .action(async (file: string, options: DatabaseOptions, command: Command) => {
      let clients: readonly Client[]
      try {
        clients = readClientsFile(file, {
          onWarning: (message) => void io.stderr.write(`ccflow: warning: ${message}\n`),
        })
      } catch (err) {
        // One line naming the file and, for a bad record, its position and field.
        throw new CliFailure((err as Error).message)
      }
      const { imported } = await withRegistry(command, io, (registry) =>
        registry.importClients(clients),
      )
      io.stdout.write(
        options.json === true
          ? jsonText({ imported })
          : `imported ${imported.length} client(s)${imported.length === 0 ? '' : ': '}` +
              `${imported.map((id) => JSON.stringify(id)).join(', ')}\n`,
      )
    })
}
