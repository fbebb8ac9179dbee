/**
 * `@ccflow/issuer/postgres`: clients in PostgreSQL. {@link postgresClientStore} is the token
 * endpoint's client store (cached, evicted through `LISTEN/NOTIFY`), {@link postgresClientRegistry}
 * manages the clients (with an audit trail), and {@link migrate} creates and upgrades the tables.
 * Needs the optional peer dependency `pg` (node-postgres); the pool is yours to create and end.
 *
 * @module
 */

export { postgresClientStore } from './postgres/client-store.js'
export type { PostgresClientStore } from './postgres/client-store.js'
export type { PostgresClientStoreOptions } from './postgres/store-options.js'
export { postgresClientRegistry } from './postgres/registry.js'
export type {
  AuditAction,
  AuditEntry,
  ClientChanges,
  ClientRegistry,
  NewClient,
  PostgresClientRegistryOptions,
} from './postgres/registry-types.js'
export { RegistryError } from './postgres/registry-error.js'
export type { RegistryErrorCode } from './postgres/registry-error.js'
export { migrate, schemaVersion } from './postgres/migrations.js'
export type { PgNotification, PgPool, PgPoolClient, PgQueryResult } from './postgres/pg-types.js'
