import type { Command } from 'commander'
import type { AuditEntry } from '@ccflow/issuer/postgres'
import type { CliIo } from './cli-io.js'
import { parseClientId } from './client-arguments.js'
import { addCreateCommand, addUpdateCommand } from './client-record-commands.js'
import { addImportCommand } from './client-import-command.js'
import { addSecretCommands } from './client-secret-commands.js'
import { clientListText, clientText, clientView, jsonText, printable } from './client-view.js'
import { databaseCommand, type DatabaseOptions, withRegistry } from './database-command.js'
import { CliFailure } from './cli-failure.js'

/**
 * `ccflow client …`: the clients of a PostgreSQL registry (`@ccflow/issuer/postgres`), on the
 * database of `DATABASE_URL` or `--database-url`. Every change is one transaction with an audit
 * row, announced to every running token server (LISTEN/NOTIFY).
 */
export function addClientCommands(program: Command, io: CliIo): void {
  const group = program
    .command('client')
    .description(
      'Manage the clients registered in PostgreSQL (DATABASE_URL): create, list, show, update, ' +
        'rotate secrets, disable, enable, delete, import a CLIENTS_FILE, read the audit trail.',
    )

  addCreateCommand(group, io)

  databaseCommand(group, 'list', 'List the clients, ordered by client_id.', {
    changes: false,
  }).action(async (options: DatabaseOptions, command: Command) => {
    const clients = await withRegistry(command, io, (registry) => registry.list())
    io.stdout.write(
      options.json === true
        ? jsonText({ clients: clients.map(clientView) })
        : clientListText(clients),
    )
  })

  databaseCommand(group, 'show', 'Show one client: its record and its secrets (ids and expiry).', {
    changes: false,
  })
    .argument('<id>', 'client id', parseClientId)
    .action(async (clientId: string, options: DatabaseOptions, command: Command) => {
      const client = await withRegistry(command, io, (registry) => registry.get(clientId))
      if (client === undefined) throw new CliFailure(`no client ${JSON.stringify(clientId)}`)
      io.stdout.write(
        options.json === true ? jsonText({ client: clientView(client) }) : clientText(client),
      )
    })

  addUpdateCommand(group, io)
  addSecretCommands(group, io)

  stateCommand(group, io, 'disable', 'Disable a client: every token server refuses it at once.')
  stateCommand(group, io, 'enable', 'Enable a disabled client again.')
  stateCommand(
    group,
    io,
    'delete',
    'Delete a client and its secrets (the audit trail keeps its history).',
  )

  addImportCommand(group, io)

  databaseCommand(
    group,
    'audit',
    'Print the audit trail, oldest first (the latest 1000 entries): when, who, what, which client.',
    { changes: false },
  )
    .argument('[id]', 'only this client', parseClientId)
    .action(async (clientId: string | undefined, options: DatabaseOptions, command: Command) => {
      const entries = await withRegistry(command, io, (registry) => registry.audit(clientId))
      io.stdout.write(
        options.json === true
          ? jsonText({ entries: entries.map((entry) => ({ ...entry, at: isoSeconds(entry.at) })) })
          : auditText(entries),
      )
    })
}

/** A time as ISO 8601 UTC, without milliseconds. */
function isoSeconds(at: Date): string {
  return at.toISOString().replace(/\.\d{3}Z$/, 'Z')
}

/** `audit`: one line per entry, its detail as compact JSON (never a secret or a hash). */
function auditText(entries: readonly AuditEntry[]): string {
  if (entries.length === 0) return 'no audit entries\n'
  return entries
    .map(
      (entry) =>
        `${isoSeconds(entry.at)}  ${printable(entry.actor)}  ${entry.action}  ` +
        `${JSON.stringify(entry.client_id)}  ${printable(JSON.stringify(entry.detail))}\n`,
    )
    .join('')
}

const STATE_OUTCOMES = {
  disable: ['disabled', { disabled: true }],
  enable: ['enabled', { disabled: false }],
  delete: ['deleted', { deleted: true }],
} as const

/** `disable`, `enable` and `delete`: one client id, one change, a one-line answer. */
function stateCommand(
  group: Command,
  io: CliIo,
  name: 'disable' | 'enable' | 'delete',
  description: string,
): void {
  databaseCommand(group, name, description, { changes: true })
    .argument('<id>', 'client id', parseClientId)
    .action(async (clientId: string, options: DatabaseOptions, command: Command) => {
      await withRegistry(command, io, (registry) => registry[name](clientId))
      const [done, json] = STATE_OUTCOMES[name]
      io.stdout.write(
        options.json === true
          ? jsonText({ client_id: clientId, ...json })
          : `client ${JSON.stringify(clientId)} ${done}\n`,
      )
    })
}
