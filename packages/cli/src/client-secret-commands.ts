import { type Command, Option } from 'commander'
import type { CliIo } from './cli-io.js'
import { parseClientId, parseDuration, parseExpiresAt, parseSecretId } from './client-arguments.js'
import { isoTime, jsonText } from './client-view.js'
import { databaseCommand, type DatabaseOptions, withRegistry } from './database-command.js'

interface AddSecretOptions extends DatabaseOptions {
  expiresAt?: number
  expiresIn?: number
}

/**
 * `add-secret` and `revoke-secret`: a zero-downtime rotation adds a second secret, hands it to
 * the client, then revokes the first.
 */
export function addSecretCommands(group: Command, io: CliIo): void {
  databaseCommand(
    group,
    'add-secret',
    'Add a secret to a client and print it once: the client works with either secret until the ' +
      'old one is revoked (or expires).',
    { changes: true },
  )
    .argument('<id>', 'client id', parseClientId)
    .addOption(
      new Option(
        '--expires-at <time>',
        'when the new secret stops working: 2027-03-01T12:00:00Z, 2027-03-01 or epoch seconds',
      )
        .argParser(parseExpiresAt)
        .conflicts('expiresIn'),
    )
    .addOption(
      new Option('--expires-in <duration>', 'the same, from now: 90d, 12h, 30m, 3600s').argParser(
        parseDuration,
      ),
    )
    .action(async (clientId: string, options: AddSecretOptions, command: Command) => {
      const expiresAt =
        options.expiresAt ??
        (options.expiresIn === undefined
          ? undefined
          : Math.floor(Date.now() / 1000) + options.expiresIn)
      const added = await withRegistry(command, io, (registry) =>
        registry.addSecret(clientId, expiresAt === undefined ? {} : { expiresAt }),
      )
      if (options.json === true) {
        io.stdout.write(
          jsonText({
            client_id: clientId,
            secret_id: added.secretId,
            ...(expiresAt === undefined ? {} : { expires_at: expiresAt }),
            client_secret: added.secret,
          }),
        )
        return
      }
      const expiry = expiresAt === undefined ? 'never expires' : `expires ${isoTime(expiresAt)}`
      io.stdout.write(
        `added secret ${added.secretId} to client ${JSON.stringify(clientId)} (${expiry})\n` +
          `client_secret  ${added.secret}\n` +
          '\nThe secret is shown once: hand it to the client now; only its hash is stored.\n' +
          'Once the client uses it, revoke the old one: ccflow client revoke-secret ' +
          `${shellWord(clientId)} <old secret id>\n`,
      )
    })

  databaseCommand(
    group,
    'revoke-secret',
    'Revoke one secret of a client; the last secret that still works cannot be revoked.',
    { changes: true },
  )
    .argument('<id>', 'client id', parseClientId)
    .argument('<secret-id>', 'the secret id (what `show` lists)', parseSecretId)
    .action(
      async (clientId: string, secretId: string, options: DatabaseOptions, command: Command) => {
        await withRegistry(command, io, (registry) => registry.revokeSecret(clientId, secretId))
        io.stdout.write(
          options.json === true
            ? jsonText({ client_id: clientId, secret_id: secretId, revoked: true })
            : `revoked secret ${secretId} of client ${JSON.stringify(clientId)}\n`,
        )
      },
    )
}

/** A client id as one shell word, for a command line to copy. */
function shellWord(value: string): string {
  return /^[A-Za-z0-9._:/@%+=,-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`
}
