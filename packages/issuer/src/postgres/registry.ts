import {
  checkKnownKeys,
  checkObject,
  checkString,
  didYouMean,
  isPlainObject,
  type OptionTable,
} from '@ccflow/core'
import { type Client, validateClient } from '../clients/client-store.js'
import {
  checkPepperOption,
  generateClientSecret,
  hashClientSecret,
  isSecretId,
} from '../clients/secrets.js'
import { type ClientRow, clientFromRow, metadataOf, SELECT_CLIENT_SQL } from './client-rows.js'
import { CLIENTS_CHANNEL } from './listener.js'
import type { PgPoolClient, PgQueryResult } from './pg-types.js'
import { RegistryError } from './registry-error.js'
import type {
  AuditAction,
  AuditEntry,
  ClientRegistry,
  NewClient,
  PostgresClientRegistryOptions,
} from './registry-types.js'
import { checkPool } from './store-options.js'
import { inTransaction } from './transaction.js'

const WHERE = 'postgresClientRegistry'
const REGISTRY_OPTIONS = {
  pool: true,
  actor: true,
  secretPepper: true,
} satisfies OptionTable<PostgresClientRegistryOptions>
const CHANGE_FIELDS = [
  'scope',
  'audiences',
  'access_token_ttl',
  'client_name',
  'default_scope',
  'default_audience',
] as const
const REQUIRED_FIELDS = new Set(['scope', 'audiences'])
const CLIENT_ID = /^[\x20-\x7e]{1,255}$/
const MAX_EPOCH_SECONDS = 1e11
const AUDIT_LIMIT = 1000

/**
 * Manages clients in the PostgreSQL tables that {@link migrate} creates and
 * `postgresClientStore` reads: create, list, update, rotate secrets, disable, delete and import,
 * each change in one transaction with a row lock, an audit row (who, what, when; never a secret
 * or a hash) and a `NOTIFY ccflow_clients` that evicts the client from every running store.
 *
 * Records are checked with `validateClient` before they are stored. Generated secrets are
 * returned once and stored only as `hashClientSecret` hashes.
 *
 * @example
 * ```ts
 * const registry = postgresClientRegistry({ pool, actor: 'alice@example.com' })
 * const { secret } = await registry.create({
 *   client_id: 'billing',
 *   scope: 'invoices:read',
 *   audiences: ['https://api.example.com'],
 * })
 * ```
 * @throws {TypeError} For a missing pool, an unknown option, an empty `actor` or a short
 *   `secretPepper`.
 */
export function postgresClientRegistry(options: PostgresClientRegistryOptions): ClientRegistry {
  const given = checkObject(options, WHERE)
  checkKnownKeys(given, REGISTRY_OPTIONS, WHERE)
  const pool = checkPool(given.pool, WHERE)
  const actor = checkString(given.actor, { where: WHERE, path: 'actor' }, 'unknown', {
    test: (value) => value.length <= 200,
    expected: 'a string of 1 to 200 characters',
  })
  const pepper = checkPepperOption(given.secretPepper, WHERE)
  const hashOptions = pepper === undefined ? {} : { pepper }

  const record = async (
    db: PgPoolClient,
    action: AuditAction,
    clientId: string,
    detail: Record<string, unknown>,
  ): Promise<void> => {
    await db.query(
      'INSERT INTO ccflow_audit (actor, action, client_id, detail) VALUES ($1, $2, $3, $4)',
      [actor, action, clientId, JSON.stringify(detail)],
    )
    await db.query('SELECT pg_notify($1, $2)', [CLIENTS_CHANNEL, clientId])
  }

  const newSecret = async (
    db: PgPoolClient,
    clientId: string,
    expiresAt: number | undefined,
  ): Promise<{ secretId: string; secret: string }> => {
    // 48 random bits per id: a clash with another id of this client is not to be expected, and
    // would fail the primary key rather than replace a secret.
    const generated = generateClientSecret()
    const hash = await hashClientSecret(generated.secret, hashOptions)
    await db.query(
      `INSERT INTO ccflow_client_secrets (client_id, secret_id, hash, expires_at)
       VALUES ($1, $2, $3, to_timestamp($4))`,
      [clientId, generated.secretId, hash, expiresAt ?? null],
    )
    return generated
  }

  const registry: ClientRegistry = {
    async create(input) {
      const { client, generate } = newClientRecord(input)
      return inTransaction(pool, async (db) => {
        await insertClient(db, client)
        let secret: string | undefined
        let stored = client
        if (generate) {
          const created = await newSecret(db, client.client_id, undefined)
          secret = created.secret
          stored = await readClient(db, client.client_id)
        }
        await record(db, 'created', client.client_id, {
          metadata: metadataOf(client),
          disabled: client.disabled === true,
          secret_ids: secretIds(stored),
        })
        return secret === undefined ? { client: stored } : { client: stored, secret }
      })
    },

    async list() {
      const { rows } = await pool.query(
        `${SELECT_CLIENT_SQL}\nGROUP BY c.client_id\nORDER BY c.client_id`,
      )
      return (rows as ClientRow[]).map(clientFromRow)
    },

    async get(clientId) {
      if (typeof clientId !== 'string' || !CLIENT_ID.test(clientId)) return undefined
      const { rows } = await pool.query(
        `${SELECT_CLIENT_SQL}\nWHERE c.client_id = $1\nGROUP BY c.client_id`,
        [clientId],
      )
      const row = rows[0] as ClientRow | undefined
      return row === undefined ? undefined : clientFromRow(row)
    },

    async update(clientId, changes) {
      checkClientId(clientId)
      const patch = checkChanges(changes)
      return inTransaction(pool, async (db) => {
        await lockClient(db, clientId)
        const current = await readClient(db, clientId)
        const next: Record<string, unknown> = { ...current }
        const detail: Record<string, { from: unknown; to: unknown }> = {}
        for (const [field, value] of Object.entries(patch)) {
          if (value === null) delete next[field]
          else next[field] = value
          detail[field] = { from: current[field as keyof Client] ?? null, to: value }
        }
        const updated = checkRecord(next, 'client')
        await db.query(
          'UPDATE ccflow_clients SET metadata = $2, updated_at = now() WHERE client_id = $1',
          [clientId, JSON.stringify(metadataOf(updated))],
        )
        await record(db, 'updated', clientId, { changes: detail })
        return updated
      })
    },

    async addSecret(clientId, options = {}) {
      checkClientId(clientId)
      const expiresAt = checkSecretOptions(options)
      return inTransaction(pool, async (db) => {
        await lockClient(db, clientId)
        const current = await readClient(db, clientId)
        if (current.token_endpoint_auth_method === 'private_key_jwt') {
          throw new RegistryError(
            'invalid_client_record',
            `client ${JSON.stringify(clientId)} uses private_key_jwt, which has no secrets`,
          )
        }
        const created = await newSecret(db, clientId, expiresAt)
        await record(db, 'secret_added', clientId, {
          secret_id: created.secretId,
          expires_at: expiresAt ?? null,
        })
        return created
      })
    },

    async revokeSecret(clientId, secretId) {
      checkClientId(clientId)
      if (!isSecretId(secretId)) {
        throw new RegistryError(
          'invalid_client_record',
          'secret id must be 1-32 characters of [A-Za-z0-9-]',
        )
      }
      await inTransaction(pool, async (db) => {
        await lockClient(db, clientId)
        const { rows } = await db.query(
          `SELECT secret_id, (expires_at IS NULL OR expires_at > now()) AS active
           FROM ccflow_client_secrets WHERE client_id = $1 AND revoked_at IS NULL`,
          [clientId],
        )
        const secrets = rows as { secret_id: string; active: boolean }[]
        const target = secrets.find((secret) => secret.secret_id === secretId)
        if (target === undefined) {
          throw new RegistryError(
            'secret_not_found',
            `client ${JSON.stringify(clientId)} has no active secret ${JSON.stringify(secretId)}`,
          )
        }
        if (target.active && !secrets.some((s) => s.active && s.secret_id !== secretId)) {
          throw new RegistryError(
            'last_secret',
            `secret ${JSON.stringify(secretId)} is the last unexpired secret of client ` +
              `${JSON.stringify(clientId)}: add another secret first (or disable the client)`,
          )
        }
        await db.query(
          `UPDATE ccflow_client_secrets SET revoked_at = now()
           WHERE client_id = $1 AND secret_id = $2`,
          [clientId, secretId],
        )
        await record(db, 'secret_revoked', clientId, { secret_id: secretId })
      })
    },

    disable: (clientId) => setDisabled(clientId, true),
    enable: (clientId) => setDisabled(clientId, false),

    async delete(clientId) {
      checkClientId(clientId)
      await inTransaction(pool, async (db) => {
        await lockClient(db, clientId)
        await db.query('DELETE FROM ccflow_clients WHERE client_id = $1', [clientId])
        await record(db, 'deleted', clientId, {})
      })
    },

    async importClients(clients) {
      if (!Array.isArray(clients)) {
        throw new RegistryError('invalid_client_record', 'clients must be an array of records')
      }
      const records = clients.map((value: unknown, i) => checkRecord(value, `clients[${i}]`))
      const seen = new Set<string>()
      records.forEach((client, i) => {
        if (seen.has(client.client_id)) {
          throw new RegistryError(
            'invalid_client_record',
            `clients[${i}]: duplicate client_id ${JSON.stringify(client.client_id)}`,
          )
        }
        seen.add(client.client_id)
      })
      return inTransaction(pool, async (db) => {
        for (const client of records) {
          await insertClient(db, client)
          for (const secret of client.secrets ?? []) {
            await db.query(
              `INSERT INTO ccflow_client_secrets (client_id, secret_id, hash, expires_at)
               VALUES ($1, $2, $3, to_timestamp($4))`,
              [client.client_id, secret.id, secret.hash, secret.expires_at ?? null],
            )
          }
          await record(db, 'imported', client.client_id, {
            metadata: metadataOf(client),
            disabled: client.disabled === true,
            secret_ids: secretIds(client),
          })
        }
        return { imported: records.map((client) => client.client_id) }
      })
    },

    async audit(clientId) {
      const filter = clientId === undefined ? '' : 'WHERE client_id = $1'
      const { rows } = await pool.query(
        `SELECT at, actor, action, client_id, detail FROM (
           SELECT id, at, actor, action, client_id, detail FROM ccflow_audit ${filter}
           ORDER BY id DESC LIMIT ${AUDIT_LIMIT}
         ) latest ORDER BY id`,
        clientId === undefined ? [] : [clientId],
      )
      return rows as AuditEntry[]
    },
  }

  return withSchemaHint(registry)

  async function setDisabled(clientId: string, disabled: boolean): Promise<void> {
    checkClientId(clientId)
    await inTransaction(pool, async (db) => {
      const was = await lockClient(db, clientId)
      if (was === disabled) return
      await db.query(
        'UPDATE ccflow_clients SET disabled = $2, updated_at = now() WHERE client_id = $1',
        [clientId, disabled],
      )
      await record(db, disabled ? 'disabled' : 'enabled', clientId, {})
    })
  }
}

/**
 * The same registry, with "relation does not exist" (an unmigrated database) turned into a
 * `schema_mismatch` that says what to run.
 */
function withSchemaHint(registry: ClientRegistry): ClientRegistry {
  const wrapped: Record<string, unknown> = {}
  for (const [name, method] of Object.entries(registry)) {
    wrapped[name] = (...args: unknown[]) =>
      (method as (...args: unknown[]) => Promise<unknown>)(...args).catch((err: unknown) => {
        throw isUndefinedTable(err)
          ? new RegistryError(
              'schema_mismatch',
              `${WHERE}: the ccflow tables are missing: run \`ccflow db migrate\` (or migrate() ` +
                'from @ccflow/issuer/postgres) first',
              { cause: err },
            )
          : err
      })
  }
  return wrapped as unknown as ClientRegistry
}

// SQLSTATE 42P01: undefined_table.
function isUndefinedTable(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '42P01'
}

/** A new client's checked record, and whether a secret is to be generated for it. */
function newClientRecord(input: NewClient): { client: Client; generate: boolean } {
  if (!isPlainObject(input)) {
    throw new RegistryError('invalid_client_record', 'client must be an object')
  }
  if ('secrets' in input) {
    throw new RegistryError(
      'invalid_client_record',
      'client.secrets cannot be given: create() generates the secret (importClients() takes ' +
        'records with hashed secrets)',
    )
  }
  const keyClient =
    input.token_endpoint_auth_method === 'private_key_jwt' ||
    input.jwks !== undefined ||
    input.jwks_uri !== undefined
  if (keyClient) {
    return {
      client: checkRecord({ token_endpoint_auth_method: 'private_key_jwt', ...input }, 'client'),
      generate: false,
    }
  }
  // Checked with a placeholder secret (the real one is generated in the transaction).
  const placeholder = [{ id: 'placeholder', hash: `$hmac-sha256$${'A'.repeat(43)}` }]
  const client: Client = { ...checkRecord({ ...input, secrets: placeholder }, 'client') }
  delete client.secrets
  return { client, generate: true }
}

function checkRecord(value: unknown, where: string): Client {
  let client: Client
  try {
    client = validateClient(value, where)
  } catch (err) {
    throw new RegistryError('invalid_client_record', (err as Error).message, { cause: err })
  }
  // PostgreSQL text and jsonb cannot hold U+0000; refuse it here, naming the field.
  const field = nulField(client, where)
  if (field !== undefined) {
    throw new RegistryError('invalid_client_record', `${field} must not contain U+0000`)
  }
  return client
}

function nulField(value: unknown, path: string): string | undefined {
  if (typeof value === 'string') return value.includes('\0') ? path : undefined
  if (typeof value !== 'object' || value === null) return undefined
  for (const [key, member] of Object.entries(value)) {
    const found = nulField(member, Array.isArray(value) ? `${path}[${key}]` : `${path}.${key}`)
    if (found !== undefined) return found
  }
  return undefined
}

function checkClientId(clientId: unknown): asserts clientId is string {
  if (typeof clientId !== 'string' || !CLIENT_ID.test(clientId)) {
    throw new RegistryError(
      'invalid_client_record',
      'client_id must be 1-255 printable ASCII characters',
    )
  }
}

function checkChanges(changes: unknown): Partial<Record<(typeof CHANGE_FIELDS)[number], unknown>> {
  if (!isPlainObject(changes)) {
    throw new RegistryError('invalid_client_record', 'changes must be an object')
  }
  const patch: Partial<Record<(typeof CHANGE_FIELDS)[number], unknown>> = {}
  for (const [key, value] of Object.entries(changes)) {
    const field = CHANGE_FIELDS.find((name) => name === key)
    if (field === undefined) {
      throw new RegistryError(
        'invalid_client_record',
        `changes.${key} cannot be changed: update() changes ${CHANGE_FIELDS.join(', ')}` +
          didYouMean(key, [...CHANGE_FIELDS]),
      )
    }
    if (value === undefined) continue
    if (value === null && REQUIRED_FIELDS.has(field)) {
      throw new RegistryError('invalid_client_record', `changes.${field} cannot be removed`)
    }
    patch[field] = value
  }
  return patch
}

function checkSecretOptions(options: unknown): number | undefined {
  if (!isPlainObject(options)) {
    throw new RegistryError('invalid_client_record', 'addSecret options must be an object')
  }
  for (const key of Object.keys(options)) {
    if (key !== 'expiresAt') {
      throw new RegistryError(
        'invalid_client_record',
        `addSecret: unknown option ${JSON.stringify(key)}${didYouMean(key, ['expiresAt'])}`,
      )
    }
  }
  const { expiresAt } = options
  if (expiresAt === undefined) return undefined
  if (
    typeof expiresAt !== 'number' ||
    !Number.isSafeInteger(expiresAt) ||
    expiresAt <= Date.now() / 1000 ||
    expiresAt >= MAX_EPOCH_SECONDS
  ) {
    throw new RegistryError(
      'invalid_client_record',
      'expiresAt must be a future time in epoch seconds (an integer)',
    )
  }
  return expiresAt
}

/** Locks the client's row for the rest of the transaction; answers its `disabled` column. */
async function lockClient(db: PgPoolClient, clientId: string): Promise<boolean> {
  const { rows } = await db.query(
    'SELECT disabled FROM ccflow_clients WHERE client_id = $1 FOR UPDATE',
    [clientId],
  )
  const row = rows[0] as { disabled: boolean } | undefined
  if (row === undefined) throw notFound(clientId)
  return row.disabled
}

async function readClient(db: PgPoolClient, clientId: string): Promise<Client> {
  const { rows } = await db.query(
    `${SELECT_CLIENT_SQL}\nWHERE c.client_id = $1\nGROUP BY c.client_id`,
    [clientId],
  )
  // The caller has locked (or just inserted) the row: it is there.
  return clientFromRow(rows[0] as ClientRow)
}

async function insertClient(db: PgPoolClient, client: Client): Promise<void> {
  const inserted: PgQueryResult = await db.query(
    `INSERT INTO ccflow_clients (client_id, metadata, disabled) VALUES ($1, $2, $3)
     ON CONFLICT DO NOTHING`,
    [client.client_id, JSON.stringify(metadataOf(client)), client.disabled === true],
  )
  if (inserted.rowCount !== 1) {
    throw new RegistryError(
      'client_exists',
      `client ${JSON.stringify(client.client_id)} is already registered`,
    )
  }
}

function secretIds(client: Client): string[] {
  return (client.secrets ?? []).map((secret) => secret.id)
}

function notFound(clientId: string): RegistryError {
  return new RegistryError('client_not_found', `no client ${JSON.stringify(clientId)}`)
}
