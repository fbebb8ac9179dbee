import { createReadStream } from 'node:fs'
import { type Command, InvalidArgumentError, Option } from 'commander'
import { didYouMean } from '@ccflow/core'
import type { ClientChanges, NewClient } from '@ccflow/issuer/postgres'
import { CliFailure } from './cli-failure.js'
import type { CliIo } from './cli-io.js'
import {
  parseAudience,
  parseClientId,
  parseName,
  parseScope,
  parseTtl,
} from './client-arguments.js'
import { clientText, clientView, jsonText } from './client-view.js'
import { databaseCommand, type DatabaseOptions, withRegistry } from './database-command.js'
import { withChoices } from './option-choices.js'
import { readBounded } from './read-bounded.js'

/** The fields that `create` and `update` both set. */
interface RecordOptions extends DatabaseOptions {
  scope?: string
  audience?: string[]
  name?: string
  defaultScope?: string
  defaultAudience?: string
  ttl?: number
}

interface CreateOptions extends RecordOptions {
  id: string
  scope: string
  audience: string[]
  authMethod?: 'client_secret_basic' | 'client_secret_post'
  jwks?: string
  jwksUri?: string
  introspection?: true
}

// A JWK Set of a few public keys is a few KB; anything this large is not one.
const MAX_JWKS_FILE_BYTES = 64 * 1024

/**
 * `ccflow client create`: registers a client. A secret client gets a generated secret, printed
 * once; `--jwks FILE` or `--jwks-uri URL` registers a private_key_jwt client instead.
 */
export function addCreateCommand(group: Command, io: CliIo): void {
  const command = databaseCommand(
    group,
    'create',
    'Register a client. A generated secret is printed once (only its hash is stored); with ' +
      '--jwks or --jwks-uri the client authenticates with private_key_jwt and has no secret.',
    { changes: true },
  )
    .requiredOption('--id <id>', 'client id (1-255 printable ASCII characters)', parseClientId)
    .requiredOption('--scope <scope>', 'space-delimited scopes the client may request', parseScope)
    .requiredOption(
      '--audience <url>',
      'an audience (RFC 8707 resource) the client may request; repeat for several',
      parseAudience,
    )
  recordOptions(command)
    .addOption(
      withChoices(
        new Option(
          '--auth-method <method>',
          'the one secret method allowed (default: either); not with --jwks or --jwks-uri',
        ),
        ['client_secret_basic', 'client_secret_post'] as const,
      ).conflicts(['jwks', 'jwksUri']),
    )
    .addOption(
      new Option(
        '--jwks <file>',
        'private_key_jwt: a file with the public JWK Set (what `ccflow keygen --client` prints)',
      ).conflicts('jwksUri'),
    )
    .option(
      '--jwks-uri <url>',
      'private_key_jwt: the https URL where the client publishes its public keys',
    )
    .option('--introspection', 'let the client call POST /introspect (RFC 7662)')
    .action(async (options: CreateOptions, command: Command) => {
      const input: NewClient = {
        client_id: options.id,
        scope: options.scope,
        audiences: options.audience,
        ...recordFields(options),
        ...(options.introspection === true ? { introspection: true } : {}),
        ...(await authentication(options)),
      }
      const created = await withRegistry(command, io, (registry) => registry.create(input))
      const view = clientView(created.client)
      if (options.json === true) {
        io.stdout.write(
          jsonText(
            created.secret === undefined
              ? { client: view }
              : { client: view, client_secret: created.secret },
          ),
        )
        return
      }
      if (created.secret === undefined) {
        io.stdout.write(`created client ${JSON.stringify(options.id)} (private_key_jwt)\n`)
        return
      }
      io.stdout.write(
        `created client ${JSON.stringify(options.id)}\n` +
          `client_secret  ${created.secret}\n` +
          '\nThe secret is shown once: hand it to the client now; only its hash is stored.\n',
      )
    })
}

/**
 * `ccflow client update ID`: changes the scopes, audiences, lifetime, name or defaults of a
 * client; the flags not given keep their values, `--audience` replaces the whole list.
 */
export function addUpdateCommand(group: Command, io: CliIo): void {
  const command = databaseCommand(
    group,
    'update',
    'Change a client: the flags given replace their fields (--audience replaces the whole list).',
    { changes: true },
  )
    .argument('<id>', 'client id', parseClientId)
    .option('--scope <scope>', 'space-delimited scopes the client may request', parseScope)
    .option(
      '--audience <url>',
      'an audience the client may request; repeat for several (replaces the list)',
      parseAudience,
    )
  recordOptions(command)
    .option(
      '--unset <flag>',
      `remove an optional field, named by its flag: ${Object.keys(UNSETTABLE).join(', ')} ` +
        '(repeat for several)',
      parseUnset,
    )
    .action(async (clientId: string, options: UpdateOptions, command: Command) => {
      const changes: ClientChanges = {
        ...(options.scope === undefined ? {} : { scope: options.scope }),
        ...(options.audience === undefined ? {} : { audiences: options.audience }),
        ...recordFields(options),
      }
      for (const flag of options.unset ?? []) {
        const field = UNSETTABLE[flag]
        if (changes[field] !== undefined) {
          command.error(`error: --unset ${flag} and --${flag} do not go together`, { exitCode: 2 })
        }
        changes[field] = null
      }
      if (Object.keys(changes).length === 0) {
        command.error(
          'error: nothing to change: give --scope, --audience, --name, --ttl, --default-scope, ' +
            '--default-audience or --unset',
          { exitCode: 2 },
        )
      }
      const client = await withRegistry(command, io, (registry) =>
        registry.update(clientId, changes),
      )
      io.stdout.write(
        options.json === true ? jsonText({ client: clientView(client) }) : clientText(client),
      )
    })
}

/** The optional fields `update --unset` removes, by the flag that sets them. */
const UNSETTABLE = {
  name: 'client_name',
  ttl: 'access_token_ttl',
  'default-scope': 'default_scope',
  'default-audience': 'default_audience',
} as const satisfies Record<string, keyof ClientChanges>

type UnsettableFlag = keyof typeof UNSETTABLE

interface UpdateOptions extends RecordOptions {
  unset?: UnsettableFlag[]
}

function parseUnset(value: string, previous: UnsettableFlag[] | undefined): UnsettableFlag[] {
  const flags = Object.keys(UNSETTABLE)
  if (!flags.includes(value)) {
    throw new InvalidArgumentError(
      `Allowed choices are ${flags.join(', ')}${didYouMean(value, flags, '')}.`,
    )
  }
  return [...(previous ?? []), value as UnsettableFlag]
}

/** The flags of the record fields that `create` and `update` share. */
function recordOptions(command: Command): Command {
  return command
    .option('--name <name>', 'human-readable name (client_name)', parseName)
    .option('--ttl <seconds>', 'access token lifetime in seconds (access_token_ttl)', parseTtl)
    .option(
      '--default-scope <scope>',
      'scopes granted when a request names none; within --scope',
      parseScope,
    )
    .option(
      '--default-audience <url>',
      'audience when a request names none; one of the audiences',
      (value: string) => parseAudience(value, undefined)[0] as string,
    )
}

/** The optional record fields that `create` and `update` both set. */
interface RecordFields {
  client_name?: string
  access_token_ttl?: number
  default_scope?: string
  default_audience?: string
}

function recordFields(options: RecordOptions): RecordFields {
  return {
    ...(options.name === undefined ? {} : { client_name: options.name }),
    ...(options.ttl === undefined ? {} : { access_token_ttl: options.ttl }),
    ...(options.defaultScope === undefined ? {} : { default_scope: options.defaultScope }),
    ...(options.defaultAudience === undefined ? {} : { default_audience: options.defaultAudience }),
  }
}

/** How the new client authenticates: a secret method, or private_key_jwt with its keys. */
async function authentication(options: CreateOptions): Promise<Partial<NewClient>> {
  if (options.jwksUri !== undefined) {
    return { token_endpoint_auth_method: 'private_key_jwt', jwks_uri: options.jwksUri }
  }
  if (options.jwks !== undefined) {
    return { token_endpoint_auth_method: 'private_key_jwt', jwks: await readJwks(options.jwks) }
  }
  return options.authMethod === undefined ? {} : { token_endpoint_auth_method: options.authMethod }
}

/** Reads a JWK Set file; the registry checks its keys as the record's `jwks`. */
async function readJwks(file: string): Promise<NonNullable<NewClient['jwks']>> {
  let text: string
  try {
    const tooLong = `${file} is larger than ${MAX_JWKS_FILE_BYTES / 1024} KiB: not a JWK Set`
    text = (await readBounded(createReadStream(file), MAX_JWKS_FILE_BYTES, tooLong)).toString()
  } catch (err) {
    if (err instanceof CliFailure) throw err
    throw new CliFailure(`cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`)
  }
  try {
    return JSON.parse(text) as NonNullable<NewClient['jwks']>
  } catch {
    throw new CliFailure(`${file} is not JSON (expected a JWK Set: { "keys": [...] })`)
  }
}
