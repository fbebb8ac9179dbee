import type { Client } from '../clients/client-store.js'
import type { PgPool } from './pg-types.js'

/**
 * A client to register: a {@link Client} record without `secrets`. A secret is generated for it
 * unless it uses `private_key_jwt` (`jwks` or `jwks_uri` given).
 */
export type NewClient = Omit<Client, 'secrets'>

/**
 * Changes to a registered client. A field left out (or `undefined`) stays as it is; `null`
 * removes an optional field.
 */
export interface ClientChanges {
  /** New space-delimited scopes the client may request. */
  scope?: string | undefined
  /** New allowed audiences (non-empty, unique). */
  audiences?: string[] | undefined
  /** New token lifetime in seconds; `null` falls back to the endpoint's default. */
  access_token_ttl?: number | null | undefined
  /** New human-readable name; `null` removes it. */
  client_name?: string | null | undefined
  /** New default scopes (within `scope`); `null` removes them. */
  default_scope?: string | null | undefined
  /** New default audience (one of `audiences`); `null` removes it. */
  default_audience?: string | null | undefined
}

/** What an audit row records. */
export type AuditAction =
  | 'created'
  | 'updated'
  | 'secret_added'
  | 'secret_revoked'
  | 'disabled'
  | 'enabled'
  | 'deleted'
  | 'imported'

/** One row of the audit trail. It never holds a secret or a hash. */
export interface AuditEntry {
  /** When, by the database clock. */
  at: Date
  /** Who: the registry's `actor` option. */
  actor: string
  /** What was done. */
  action: AuditAction
  /** To which client. */
  client_id: string
  /** The specifics: changed fields, secret ids and expiry. */
  detail: Record<string, unknown>
}

/**
 * Options of {@link postgresClientRegistry}.
 */
export interface PostgresClientRegistryOptions {
  /** A node-postgres `Pool` (yours: the registry never ends it). Required. */
  pool: PgPool
  /** Who makes the changes, recorded in every audit row (1 to 200 characters). @default 'unknown' */
  actor?: string | undefined
  /**
   * HMAC key for the hashes of generated secrets (see `hashClientSecret`), at least 32 bytes;
   * the token endpoint needs the same `secretPepper`.
   * @default none (a fixed domain-separation key)
   */
  secretPepper?: string | undefined
}

/**
 * Manages the clients in PostgreSQL. Every change runs in one transaction that locks the
 * client's row, writes an audit row and announces the change (`NOTIFY ccflow_clients`), so
 * every running `postgresClientStore` drops its cached copy at once.
 */
export interface ClientRegistry {
  /**
   * Registers a client. For a secret client a secret is generated and returned once: only its
   * hash is stored.
   * @throws {RegistryError} `client_exists`, or `invalid_client_record` naming the field.
   */
  create(input: NewClient): Promise<{ client: Client; secret?: string }>
  /** Every client, ordered by id, with its unrevoked secrets (ids, hashes, expiry). */
  list(): Promise<Client[]>
  /** One client, or `undefined` when there is none. */
  get(clientId: string): Promise<Client | undefined>
  /**
   * Changes scopes, audiences, lifetime, name or defaults; the result must still be valid.
   * @throws {RegistryError} `client_not_found`, or `invalid_client_record` naming the field.
   */
  update(clientId: string, changes: ClientChanges): Promise<Client>
  /**
   * Adds a secret beside the current ones (zero-downtime rotation), returned once.
   * @param options.expiresAt - Epoch seconds from which the new secret is refused. @default never
   * @throws {RegistryError} `client_not_found`, or `invalid_client_record` (a `private_key_jwt`
   *   client, an `expiresAt` not in the future).
   */
  addSecret(
    clientId: string,
    options?: { expiresAt?: number | undefined },
  ): Promise<{ secretId: string; secret: string }>
  /**
   * Revokes one secret: it is refused from now on. The hash stays, marked revoked.
   * @throws {RegistryError} `client_not_found`, `secret_not_found`, or `last_secret` when no
   *   other unexpired secret would remain.
   */
  revokeSecret(clientId: string, secretId: string): Promise<void>
  /** Refuses the client tokens until {@link ClientRegistry.enable}. @throws {RegistryError} `client_not_found` */
  disable(clientId: string): Promise<void>
  /** Lets a disabled client get tokens again. @throws {RegistryError} `client_not_found` */
  enable(clientId: string): Promise<void>
  /** Deletes the client and its secrets; its audit trail stays. @throws {RegistryError} `client_not_found` */
  delete(clientId: string): Promise<void>
  /**
   * Imports records as a `CLIENTS_FILE` holds them (secrets already hashed): all or nothing.
   * @throws {RegistryError} `invalid_client_record` (naming `clients[i]` and the field, or a
   *   duplicate id), or `client_exists` when an id is registered already.
   */
  importClients(clients: readonly Client[]): Promise<{ imported: string[] }>
  /** The audit trail, oldest first: the latest 1000 rows, of one client or of all. */
  audit(clientId?: string): Promise<AuditEntry[]>
}
